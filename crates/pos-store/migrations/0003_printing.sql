-- Printers, the durable print queue, and card payments in flight.

-- Printers attached to this register. `connection` is the printer's address (tcp://, serial:,
-- usb:, file:, cups:); `role` says what it prints: customer receipts (and the drawer behind it),
-- kitchen or bar tickets for the categories listed, or office documents (PDF over CUPS).
CREATE TABLE printers (
    name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 40),
    connection TEXT NOT NULL,
    columns INTEGER NOT NULL CHECK (columns IN (32, 42, 48)),
    code_page TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('receipt', 'kitchen', 'office')),
    categories TEXT NOT NULL DEFAULT '[]',
    drawer_pin INTEGER CHECK (drawer_pin IN (2, 5)),
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per thing to print. The payload is the exact bytes sent (ESC/POS or PDF). A job is
-- 'queued' until a first attempt, 'failed' while its attempts fail (it is retried), and 'sent'
-- once the printer took it and reported no fault. Jobs are never deleted by the register.
CREATE TABLE print_jobs (
    id TEXT PRIMARY KEY,
    printer TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('receipt', 'ticket', 'drawer', 'test', 'report')),
    order_uuid TEXT,
    receipt_no INTEGER,
    copy INTEGER,
    reason TEXT,
    payload BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    sent_at INTEGER,
    give_up INTEGER NOT NULL DEFAULT 0 CHECK (give_up IN (0, 1))
) WITHOUT ROWID;
CREATE INDEX print_jobs_due ON print_jobs (next_attempt_at) WHERE status <> 'sent' AND give_up = 0;
CREATE INDEX print_jobs_order ON print_jobs (order_uuid, kind);

-- A card payment is recorded here before the terminal is asked, and its outcome after; a
-- register that restarts with a 'pending' row asks the terminal what became of it. An approved
-- payment is 'captured' by the sale that uses it, in the sale's transaction.
CREATE TABLE card_payments (
    id TEXT PRIMARY KEY,
    order_uuid TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('payment', 'refund')),
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    terminal TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'cancelled', 'timed_out', 'captured')),
    card_last4 TEXT CHECK (card_last4 IS NULL OR length(card_last4) = 4),
    card_scheme TEXT,
    auth_code TEXT,
    terminal_ref TEXT,
    reason TEXT,
    started_at INTEGER NOT NULL,
    resolved_at INTEGER,
    staff_id INTEGER NOT NULL REFERENCES staff (id)
) WITHOUT ROWID;
CREATE INDEX card_payments_order ON card_payments (order_uuid);
CREATE INDEX card_payments_open ON card_payments (status) WHERE status IN ('pending', 'approved');
