-- Version 5: fewer pages written by every sale. A durable commit encrypts, authenticates, writes
-- and syncs each page it touches, and every table or index a sale writes to is at least one page
-- (docs/adr/0003-sqlcipher-settings.md).

-- Receipt numbers and outbox sequence numbers are now the highest number in use plus one, taken
-- inside the writing transaction (a rollback still gives the number back). The `counters` row
-- each sale updated was a page of its own. A number is never used twice as long as the record
-- holding the highest one is never deleted: the triggers below see to that.
DROP TABLE counters;

CREATE TRIGGER outbox_keep_newest BEFORE DELETE ON outbox
WHEN OLD.seq >= (SELECT max(seq) FROM outbox)
BEGIN
    SELECT RAISE(ABORT, 'the newest outbox record holds the sequence and is never deleted');
END;

CREATE TRIGGER orders_keep_newest_receipt BEFORE DELETE ON orders
WHEN OLD.receipt_no IS NOT NULL
 AND OLD.receipt_no >= (SELECT max(n) FROM (SELECT max(receipt_no) AS n FROM orders
                                            UNION ALL SELECT max(receipt_no) FROM refunds))
BEGIN
    SELECT RAISE(ABORT, 'the newest receipt holds the receipt numbering and is never deleted');
END;

CREATE TRIGGER refunds_keep_newest_receipt BEFORE DELETE ON refunds
WHEN OLD.receipt_no >= (SELECT max(n) FROM (SELECT max(receipt_no) AS n FROM orders
                                            UNION ALL SELECT max(receipt_no) FROM refunds))
BEGIN
    SELECT RAISE(ABORT, 'the newest receipt holds the receipt numbering and is never deleted');
END;

-- A line taxed at a single rate (nearly every line) keeps that rate, and what refunds have taken
-- back of its tax, on the line itself; its tax is the line's `tax`. `order_line_taxes` now holds
-- only lines taxed at several rates. Lines already written move over the same way.
ALTER TABLE order_lines ADD COLUMN tax_rate_id INTEGER;
ALTER TABLE order_lines ADD COLUMN refunded_tax INTEGER NOT NULL DEFAULT 0;

UPDATE order_lines
SET (tax_rate_id, refunded_tax) = (
    SELECT t.rate_id, t.refunded_tax FROM order_line_taxes t
    WHERE t.order_id = order_lines.order_id AND t.line_no = order_lines.line_no)
WHERE (SELECT count(*) FROM order_line_taxes t
       WHERE t.order_id = order_lines.order_id AND t.line_no = order_lines.line_no) = 1;

DELETE FROM order_line_taxes
WHERE EXISTS (SELECT 1 FROM order_lines l
              WHERE l.order_id = order_line_taxes.order_id AND l.line_no = order_line_taxes.line_no
                AND l.tax_rate_id IS NOT NULL);
