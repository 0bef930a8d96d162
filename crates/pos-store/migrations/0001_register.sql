-- The register's schema, version 1. Migrations are append-only: never edit a released file.
-- Amounts are integer minor units; quantities are thousandths; instants are microseconds since
-- the Unix epoch (UTC); business days are venue-local dates 'YYYY-MM-DD'.

CREATE TABLE venue (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    day_cutoff_hour INTEGER NOT NULL CHECK (day_cutoff_hour BETWEEN 0 AND 23),
    prices_include_tax INTEGER NOT NULL CHECK (prices_include_tax IN (0, 1)),
    tax_rounding TEXT NOT NULL CHECK (tax_rounding IN ('per_line', 'per_invoice')),
    cash_rounding INTEGER NOT NULL CHECK (cash_rounding >= 1)
);

CREATE TABLE device (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    device_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Gapless per-device sequences (receipt numbers, outbox): incremented inside the writing transaction.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    next INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE tax_classes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE tax_rates (
    id INTEGER PRIMARY KEY,
    class_id INTEGER NOT NULL REFERENCES tax_classes (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    rate_ppm INTEGER NOT NULL CHECK (rate_ppm BETWEEN 0 AND 1000000)
);

CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    category_id INTEGER NOT NULL REFERENCES categories (id),
    tax_class_id INTEGER NOT NULL REFERENCES tax_classes (id)
);
CREATE INDEX products_by_name ON products (category_id, name);

CREATE TABLE skus (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    product_id INTEGER NOT NULL REFERENCES products (id),
    variant TEXT NOT NULL DEFAULT '',
    price INTEGER NOT NULL CHECK (price >= 0),
    weighed INTEGER NOT NULL DEFAULT 0 CHECK (weighed IN (0, 1)),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);
CREATE INDEX skus_product ON skus (product_id);

CREATE TABLE barcodes (
    code TEXT PRIMARY KEY,
    sku_id INTEGER NOT NULL REFERENCES skus (id)
) WITHOUT ROWID;
CREATE INDEX barcodes_sku ON barcodes (sku_id);

CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    pin_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);

CREATE TABLE shifts (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    opened_at INTEGER NOT NULL,
    opened_by INTEGER NOT NULL REFERENCES staff (id),
    business_day TEXT NOT NULL,
    float INTEGER NOT NULL CHECK (float >= 0),
    closed_at INTEGER,
    closed_by INTEGER REFERENCES staff (id),
    expected_cash INTEGER,
    counted_cash INTEGER,
    count_json TEXT
);
-- A register has at most one open shift.
CREATE UNIQUE INDEX shifts_one_open ON shifts ((closed_at IS NULL)) WHERE closed_at IS NULL;

CREATE TABLE cash_movements (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    shift_id INTEGER NOT NULL REFERENCES shifts (id),
    kind TEXT NOT NULL CHECK (kind IN ('paid_in', 'paid_out')),
    amount INTEGER NOT NULL CHECK (amount > 0),
    reason TEXT NOT NULL,
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    at INTEGER NOT NULL
);
CREATE INDEX cash_movements_shift ON cash_movements (shift_id);

-- Orders are written once, when paid (or when an unpaid order is voided). A paid order may later
-- be voided (status) or refunded (refunded_total); its lines, taxes and payments never change.
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    receipt_no INTEGER UNIQUE,
    shift_id INTEGER NOT NULL REFERENCES shifts (id),
    business_day TEXT NOT NULL,
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    status TEXT NOT NULL CHECK (status IN ('paid', 'voided')),
    opened_at INTEGER NOT NULL,
    paid_at INTEGER,
    currency TEXT NOT NULL,
    subtotal INTEGER NOT NULL,
    discount_total INTEGER NOT NULL,
    order_discount TEXT,
    tax_total INTEGER NOT NULL,
    total INTEGER NOT NULL,
    rounding INTEGER NOT NULL,
    change_due INTEGER NOT NULL,
    refunded_total INTEGER NOT NULL DEFAULT 0,
    voided_at INTEGER,
    voided_by INTEGER REFERENCES staff (id),
    void_reason TEXT
);
CREATE INDEX orders_shift ON orders (shift_id, status);
CREATE INDEX orders_day ON orders (business_day, status);

CREATE TABLE order_lines (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    line_no INTEGER NOT NULL,
    sku_id INTEGER NOT NULL,
    sku_code TEXT NOT NULL,
    name TEXT NOT NULL,
    product_id INTEGER NOT NULL,
    category_id INTEGER NOT NULL,
    tax_class_id INTEGER NOT NULL,
    qty INTEGER NOT NULL CHECK (qty > 0),
    list_price INTEGER NOT NULL,
    unit_price INTEGER NOT NULL,
    extended INTEGER NOT NULL,
    line_discount INTEGER NOT NULL,
    order_discount INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    tax INTEGER NOT NULL,
    refunded_qty INTEGER NOT NULL DEFAULT 0,
    refunded_amount INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (order_id, line_no)
) WITHOUT ROWID;

CREATE TABLE order_line_taxes (
    order_id INTEGER NOT NULL,
    line_no INTEGER NOT NULL,
    rate_id INTEGER NOT NULL,
    tax INTEGER NOT NULL,
    refunded_tax INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (order_id, line_no, rate_id),
    FOREIGN KEY (order_id, line_no) REFERENCES order_lines (order_id, line_no)
) WITHOUT ROWID;

CREATE TABLE order_taxes (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    rate_id INTEGER NOT NULL,
    code TEXT NOT NULL,
    rate_ppm INTEGER NOT NULL,
    base INTEGER NOT NULL,
    tax INTEGER NOT NULL,
    PRIMARY KEY (order_id, rate_id)
) WITHOUT ROWID;

CREATE TABLE payments (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('cash', 'card')),
    amount INTEGER NOT NULL,
    tendered INTEGER NOT NULL,
    change INTEGER NOT NULL,
    card_last4 TEXT,
    card_scheme TEXT,
    auth_code TEXT,
    terminal_ref TEXT,
    refunded INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (order_id, seq)
) WITHOUT ROWID;

CREATE TABLE refunds (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    receipt_no INTEGER NOT NULL UNIQUE,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    shift_id INTEGER NOT NULL REFERENCES shifts (id),
    business_day TEXT NOT NULL,
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    amount INTEGER NOT NULL,
    tax_total INTEGER NOT NULL,
    rounding INTEGER NOT NULL,
    total INTEGER NOT NULL CHECK (total >= 0)
);
CREATE INDEX refunds_order ON refunds (order_id);
CREATE INDEX refunds_shift ON refunds (shift_id);
CREATE INDEX refunds_day ON refunds (business_day);

CREATE TABLE refund_lines (
    refund_id INTEGER NOT NULL REFERENCES refunds (id),
    line_no INTEGER NOT NULL,
    qty INTEGER NOT NULL CHECK (qty > 0),
    amount INTEGER NOT NULL,
    tax INTEGER NOT NULL,
    PRIMARY KEY (refund_id, line_no)
) WITHOUT ROWID;

CREATE TABLE refund_taxes (
    refund_id INTEGER NOT NULL REFERENCES refunds (id),
    rate_id INTEGER NOT NULL,
    code TEXT NOT NULL,
    rate_ppm INTEGER NOT NULL,
    base INTEGER NOT NULL,
    tax INTEGER NOT NULL,
    PRIMARY KEY (refund_id, rate_id)
) WITHOUT ROWID;

CREATE TABLE refund_payouts (
    refund_id INTEGER NOT NULL REFERENCES refunds (id),
    payment_seq INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('cash', 'card')),
    amount INTEGER NOT NULL CHECK (amount > 0),
    PRIMARY KEY (refund_id, payment_seq)
) WITHOUT ROWID;

-- Records waiting for the cloud. `seq` is gapless per device; `op_id` is the idempotency key.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    op_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload BLOB NOT NULL,
    payload_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    acked_at INTEGER
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE acked_at IS NULL;

-- Nothing leaves the outbox before the cloud has acknowledged it, and a record never changes.
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
