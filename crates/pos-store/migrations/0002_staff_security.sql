-- Staff security: permission flags, PIN lockout, TOTP, the override policy and the audit chain.

-- Permission bits (see pos-auth::Permission), the personal discount limit in basis points,
-- consecutive PIN failures and the lock, and TOTP (secret sealed with a key derived from the
-- PIN pepper, which lives in the credential store; the last accepted step stops replays).
ALTER TABLE staff ADD COLUMN permissions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN max_discount_bp INTEGER NOT NULL DEFAULT 0 CHECK (max_discount_bp BETWEEN 0 AND 10000);
ALTER TABLE staff ADD COLUMN pin_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN pin_last_failure_at INTEGER;
ALTER TABLE staff ADD COLUMN pin_locked INTEGER NOT NULL DEFAULT 0 CHECK (pin_locked IN (0, 1));
ALTER TABLE staff ADD COLUMN totp_sealed BLOB;
ALTER TABLE staff ADD COLUMN totp_last_step INTEGER;
ALTER TABLE staff ADD COLUMN totp_required INTEGER NOT NULL DEFAULT 0 CHECK (totp_required IN (0, 1));

-- The device's public audit key, and its own PIN failure count (all staff together).
ALTER TABLE device ADD COLUMN audit_public_key TEXT;
ALTER TABLE device ADD COLUMN pin_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE device ADD COLUMN pin_last_failure_at INTEGER;
ALTER TABLE device ADD COLUMN pin_locked INTEGER NOT NULL DEFAULT 0 CHECK (pin_locked IN (0, 1));

-- Security settings as JSON documents (override policy, lockout, auto-lock), one row per name.
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Closed business days; re-opening deletes nothing, it records who re-opened it.
CREATE TABLE closed_days (
    business_day TEXT PRIMARY KEY,
    closed_at INTEGER NOT NULL,
    closed_by INTEGER NOT NULL REFERENCES staff (id),
    reopened_at INTEGER,
    reopened_by INTEGER REFERENCES staff (id)
) WITHOUT ROWID;

-- The short hash of the audit entry that recorded a sale, printed on its receipt.
ALTER TABLE orders ADD COLUMN audit_hash TEXT;

-- The audit chain. `seq` is gapless per device: the next entry is always max(seq) + 1, written
-- in the same transaction as what it records. body is RFC 8785 JSON; hash and signature are hex.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
    body TEXT NOT NULL,
    hash TEXT NOT NULL CHECK (length(hash) = 64),
    signature TEXT NOT NULL CHECK (length(signature) = 128)
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only: UPDATE refused');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only: DELETE refused');
END;

CREATE TRIGGER audit_log_in_order BEFORE INSERT ON audit_log
WHEN NEW.seq != coalesce((SELECT max(seq) FROM audit_log), 0) + 1
BEGIN
    SELECT RAISE(ABORT, 'audit entries are appended in sequence');
END;
