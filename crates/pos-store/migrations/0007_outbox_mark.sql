-- Version 7: three fewer index pages in every sale's commit (docs/adr/0003-sqlcipher-settings.md).
-- Every index a sale writes to is at least one more page to encrypt, write and sync.

-- 1. The outbox loses its unique index on `op_id` and the partial index of unacknowledged records.
--    Acknowledgements name a record by its `seq` (the row id) and `op_id` together, so they need
--    neither. What the partial index found quickly, the records still waiting, now starts at a
--    mark: every record up to `settled_through` has been acknowledged by the cloud or quarantined.
--    Only pushes move the mark (docs/sync.md); a sale never writes it.
--
--    The table is rebuilt to drop the unique constraint. Its triggers go with the old table and
--    are created again below, unchanged. The quarantine refers to the outbox, so its rows step
--    aside while the old table is dropped and come back once the new one has its name.
CREATE TEMP TABLE quarantine_v7 AS SELECT seq, op_id, code, message, at FROM sync_quarantine;
DELETE FROM sync_quarantine;

CREATE TABLE outbox_v7 (
    seq INTEGER PRIMARY KEY,
    op_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload BLOB NOT NULL,
    payload_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    acked_at INTEGER
);
INSERT INTO outbox_v7 (seq, op_id, kind, payload, payload_hash, created_at, acked_at)
SELECT seq, op_id, kind, payload, payload_hash, created_at, acked_at FROM outbox ORDER BY seq;
DROP TABLE outbox;
ALTER TABLE outbox_v7 RENAME TO outbox;

INSERT INTO sync_quarantine (seq, op_id, code, message, at)
SELECT seq, op_id, code, message, at FROM quarantine_v7 ORDER BY seq;
DROP TABLE quarantine_v7;

CREATE TRIGGER outbox_no_delete_unacked BEFORE DELETE ON outbox
WHEN OLD.acked_at IS NULL
BEGIN
    SELECT RAISE(ABORT, 'outbox record not acknowledged by the cloud');
END;

CREATE TRIGGER outbox_immutable BEFORE UPDATE OF seq, op_id, kind, payload, payload_hash, created_at ON outbox
BEGIN
    SELECT RAISE(ABORT, 'outbox records are immutable');
END;

CREATE TRIGGER outbox_ack_once BEFORE UPDATE OF acked_at ON outbox
WHEN OLD.acked_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'outbox record already acknowledged');
END;

CREATE TRIGGER outbox_keep_newest BEFORE DELETE ON outbox
WHEN OLD.seq >= (SELECT max(seq) FROM outbox)
BEGIN
    SELECT RAISE(ABORT, 'the newest outbox record holds the sequence and is never deleted');
END;

CREATE TABLE outbox_mark (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    settled_through INTEGER NOT NULL CHECK (settled_through >= 0)
);
INSERT INTO outbox_mark (id, settled_through)
SELECT 1, coalesce(
    (SELECT min(o.seq) - 1 FROM outbox o
     WHERE o.acked_at IS NULL AND NOT EXISTS (SELECT 1 FROM sync_quarantine q WHERE q.seq = o.seq)),
    (SELECT max(seq) FROM outbox),
    0);

-- 2. Orders lose the index by shift. A register has one shift open at a time and numbers its
--    orders upwards, so a shift's orders lie between its own first order id and the next shift's.
--    The shift records that id when it opens; reports by shift read that range.
ALTER TABLE shifts ADD COLUMN first_order_id INTEGER;
UPDATE shifts SET first_order_id = coalesce(
    (SELECT min(o.id) FROM orders o WHERE o.shift_id = shifts.id),
    (SELECT coalesce(max(o.id), 0) + 1 FROM orders o WHERE o.shift_id < shifts.id));
DROP INDEX orders_shift;
