//! Printers, the durable print queue, card payments in flight, and everything a receipt prints
//! about a stored order.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterRow {
    pub name: String,
    pub connection: String,
    pub columns: i64,
    pub code_page: String,
    pub role: String,
    /// JSON array of category names (kitchen printers).
    pub categories: String,
    pub drawer_pin: Option<i64>,
    pub created_at: i64,
}

const PRINTER_COLUMNS: &str = "name, connection, columns, code_page, role, categories, drawer_pin, created_at";

fn printer_row(r: &rusqlite::Row) -> rusqlite::Result<PrinterRow> {
    Ok(PrinterRow {
        name: r.get(0)?,
        connection: r.get(1)?,
        columns: r.get(2)?,
        code_page: r.get(3)?,
        role: r.get(4)?,
        categories: r.get(5)?,
        drawer_pin: r.get(6)?,
        created_at: r.get(7)?,
    })
}

pub fn printers(conn: &Connection) -> Result<Vec<PrinterRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {PRINTER_COLUMNS} FROM printers ORDER BY name"))?;
    let rows = stmt.query_map([], printer_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Adds or replaces a printer.
pub fn put_printer(tx: &Transaction, p: &PrinterRow) -> Result<(), StoreError> {
    tx.execute(
        &format!("INSERT OR REPLACE INTO printers ({PRINTER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        params![p.name, p.connection, p.columns, p.code_page, p.role, p.categories, p.drawer_pin, p.created_at],
    )?;
    Ok(())
}

pub fn remove_printer(tx: &Transaction, name: &str) -> Result<bool, StoreError> {
    Ok(tx.execute("DELETE FROM printers WHERE name = ?1", [name])? == 1)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPrintJob<'a> {
    pub id: &'a str,
    pub printer: &'a str,
    pub kind: &'a str,
    pub order_uuid: Option<&'a str>,
    pub receipt_no: Option<i64>,
    pub copy: Option<i64>,
    pub reason: Option<&'a str>,
    pub payload: &'a [u8],
    pub at: i64,
}

pub fn insert_print_job(tx: &Transaction, j: &NewPrintJob) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO print_jobs (id, printer, kind, order_uuid, receipt_no, copy, reason, payload, status, created_at,
                                 next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?9, ?9)",
        params![j.id, j.printer, j.kind, j.order_uuid, j.receipt_no, j.copy, j.reason, j.payload, j.at],
    )?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintJobRow {
    pub id: String,
    pub printer: String,
    pub kind: String,
    pub order_uuid: Option<String>,
    pub receipt_no: Option<i64>,
    pub copy: Option<i64>,
    pub reason: Option<String>,
    pub payload: Vec<u8>,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub sent_at: Option<i64>,
    pub give_up: bool,
}

const JOB_COLUMNS: &str = "id, printer, kind, order_uuid, receipt_no, copy, reason, payload, status, attempts, \
     last_error, created_at, next_attempt_at, sent_at, give_up";

fn job_row(r: &rusqlite::Row) -> rusqlite::Result<PrintJobRow> {
    Ok(PrintJobRow {
        id: r.get(0)?,
        printer: r.get(1)?,
        kind: r.get(2)?,
        order_uuid: r.get(3)?,
        receipt_no: r.get(4)?,
        copy: r.get(5)?,
        reason: r.get(6)?,
        payload: r.get(7)?,
        status: r.get(8)?,
        attempts: r.get(9)?,
        last_error: r.get(10)?,
        created_at: r.get(11)?,
        next_attempt_at: r.get(12)?,
        sent_at: r.get(13)?,
        give_up: r.get(14)?,
    })
}

/// Jobs not yet sent whose next attempt is due, oldest first (drawer jobs before anything else
/// created at the same moment).
pub fn due_print_jobs(conn: &Connection, now: i64, limit: i64) -> Result<Vec<PrintJobRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM print_jobs
         WHERE status <> 'sent' AND give_up = 0 AND next_attempt_at <= ?1
         ORDER BY created_at, kind <> 'drawer', id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![now, limit], job_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn print_job(conn: &Connection, id: &str) -> Result<Option<PrintJobRow>, StoreError> {
    Ok(conn.query_row(&format!("SELECT {JOB_COLUMNS} FROM print_jobs WHERE id = ?1"), [id], job_row).optional()?)
}

/// The most recent jobs, newest first.
pub fn recent_print_jobs(conn: &Connection, limit: i64) -> Result<Vec<PrintJobRow>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM print_jobs ORDER BY created_at DESC, id DESC LIMIT ?1"))?;
    let rows = stmt.query_map([limit], job_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Each printer's queue at a glance, without loading any job: (printer, jobs unsent and still
/// being retried, the last error among them). Cheap enough for a status bar to poll.
pub fn printer_queues(conn: &Connection) -> Result<Vec<(String, i64, Option<String>)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.name,
                (SELECT count(*) FROM print_jobs j WHERE j.printer = p.name AND j.status <> 'sent' AND j.give_up = 0),
                (SELECT j.last_error FROM print_jobs j
                 WHERE j.printer = p.name AND j.status <> 'sent' AND j.give_up = 0 AND j.last_error IS NOT NULL
                 ORDER BY j.created_at DESC LIMIT 1)
         FROM printers p ORDER BY p.name",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Jobs for a printer not yet sent and still being retried.
pub fn unsent_jobs_for_printer(conn: &Connection, printer: &str) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM print_jobs WHERE printer = ?1 AND status <> 'sent' AND give_up = 0",
        [printer],
        |r| r.get(0),
    )?)
}

/// Takes a job for sending, durably and for one sender only: while claimed it is not due for
/// anyone else, and if the register dies mid-send it stays claimed (never sent twice). Returns
/// false if another sender has it or it is done.
pub fn claim_print_job(tx: &Transaction, id: &str) -> Result<bool, StoreError> {
    Ok(tx.execute(
        "UPDATE print_jobs SET give_up = 1, last_error = 'being sent'
         WHERE id = ?1 AND status <> 'sent' AND give_up = 0",
        [id],
    )? == 1)
}

pub fn mark_print_job_sent(tx: &Transaction, id: &str, at: i64) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE print_jobs SET status = 'sent', attempts = attempts + 1, last_error = NULL, sent_at = ?2, give_up = 0
         WHERE id = ?1 AND status <> 'sent'",
        params![id, at],
    )?;
    Ok(())
}

pub fn mark_print_job_failed(
    tx: &Transaction,
    id: &str,
    error: &str,
    next_attempt_at: i64,
    give_up: bool,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE print_jobs SET status = 'failed', attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3,
                               give_up = ?4
         WHERE id = ?1 AND status <> 'sent'",
        params![id, error, next_attempt_at, give_up],
    )?;
    Ok(())
}

/// How many sale receipts were already printed or queued for an order (void and refund receipts
/// not counted): the next one is a copy.
pub fn receipt_jobs_for_order(conn: &Connection, order_uuid: &str) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM print_jobs WHERE order_uuid = ?1 AND kind = 'receipt' AND reason IS NULL",
        [order_uuid],
        |r| r.get(0),
    )?)
}

// ---- what a receipt prints about a stored order ----------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLine {
    pub name: String,
    pub category: String,
    pub qty: i64,
    pub unit_price: i64,
    pub discount: i64,
    pub amount: i64,
    /// Codes of the rates applied, e.g. "A" or "A,B".
    pub tax_codes: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptTax {
    pub code: String,
    pub rate_ppm: i64,
    pub base: i64,
    pub tax: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptPayment {
    pub kind: String,
    pub amount: i64,
    pub tendered: i64,
    pub card_last4: Option<String>,
    pub card_scheme: Option<String>,
    pub auth_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReceipt {
    pub uuid: String,
    pub receipt_no: Option<i64>,
    pub status: String,
    pub paid_at: Option<i64>,
    pub voided_at: Option<i64>,
    pub void_reason: Option<String>,
    pub cashier: String,
    pub currency: String,
    pub subtotal: i64,
    pub discount_total: i64,
    pub tax_total: i64,
    pub total: i64,
    pub rounding: i64,
    pub change_due: i64,
    pub audit_hash: Option<String>,
    pub lines: Vec<ReceiptLine>,
    pub taxes: Vec<ReceiptTax>,
    pub payments: Vec<ReceiptPayment>,
}

/// An order by its id or receipt number, with what its receipt prints.
pub fn stored_receipt(conn: &Connection, uuid_or_receipt: &str) -> Result<Option<StoredReceipt>, StoreError> {
    let receipt_no: Option<i64> = uuid_or_receipt.parse().ok();
    let head = conn
        .query_row(
            "SELECT o.id, o.uuid, o.receipt_no, o.status, o.paid_at, o.voided_at, o.void_reason, s.name, o.currency,
                    o.subtotal, o.discount_total, o.tax_total, o.total, o.rounding, o.change_due, o.audit_hash
             FROM orders o JOIN staff s ON s.id = o.staff_id
             WHERE o.uuid = ?1 OR o.receipt_no = ?2",
            params![uuid_or_receipt, receipt_no],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    StoredReceipt {
                        uuid: r.get(1)?,
                        receipt_no: r.get(2)?,
                        status: r.get(3)?,
                        paid_at: r.get(4)?,
                        voided_at: r.get(5)?,
                        void_reason: r.get(6)?,
                        cashier: r.get(7)?,
                        currency: r.get(8)?,
                        subtotal: r.get(9)?,
                        discount_total: r.get(10)?,
                        tax_total: r.get(11)?,
                        total: r.get(12)?,
                        rounding: r.get(13)?,
                        change_due: r.get(14)?,
                        audit_hash: r.get(15)?,
                        lines: vec![],
                        taxes: vec![],
                        payments: vec![],
                    },
                ))
            },
        )
        .optional()?;
    let Some((id, mut receipt)) = head else { return Ok(None) };
    let mut stmt = conn.prepare_cached(
        "SELECT l.name, coalesce(c.name, ''), l.qty, l.unit_price, l.line_discount + l.order_discount, l.amount,
                coalesce((SELECT t.code FROM order_taxes t WHERE t.order_id = l.order_id AND t.rate_id = l.tax_rate_id),
                         (SELECT group_concat(t.code, ',') FROM order_line_taxes lt
                          JOIN order_taxes t ON t.order_id = lt.order_id AND t.rate_id = lt.rate_id
                          WHERE lt.order_id = l.order_id AND lt.line_no = l.line_no), '')
         FROM order_lines l LEFT JOIN categories c ON c.id = l.category_id
         WHERE l.order_id = ?1 ORDER BY l.line_no",
    )?;
    receipt.lines = stmt
        .query_map([id], |r| {
            Ok(ReceiptLine {
                name: r.get(0)?,
                category: r.get(1)?,
                qty: r.get(2)?,
                unit_price: r.get(3)?,
                discount: r.get(4)?,
                amount: r.get(5)?,
                tax_codes: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt =
        conn.prepare_cached("SELECT code, rate_ppm, base, tax FROM order_taxes WHERE order_id = ?1 ORDER BY code")?;
    receipt.taxes = stmt
        .query_map([id], |r| Ok(ReceiptTax { code: r.get(0)?, rate_ppm: r.get(1)?, base: r.get(2)?, tax: r.get(3)? }))?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT kind, amount, tendered, card_last4, card_scheme, auth_code FROM payments WHERE order_id = ?1 ORDER BY seq",
    )?;
    receipt.payments = stmt
        .query_map([id], |r| {
            Ok(ReceiptPayment {
                kind: r.get(0)?,
                amount: r.get(1)?,
                tendered: r.get(2)?,
                card_last4: r.get(3)?,
                card_scheme: r.get(4)?,
                auth_code: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(receipt))
}

// ---- card payments in flight -----------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardPaymentRow {
    pub id: String,
    pub order_uuid: String,
    pub kind: String,
    pub amount: i64,
    pub currency: String,
    pub terminal: String,
    pub status: String,
    pub card_last4: Option<String>,
    pub card_scheme: Option<String>,
    pub auth_code: Option<String>,
    pub terminal_ref: Option<String>,
    pub reason: Option<String>,
    pub started_at: i64,
    pub resolved_at: Option<i64>,
    pub staff_id: i64,
}

const CARD_COLUMNS: &str = "id, order_uuid, kind, amount, currency, terminal, status, card_last4, card_scheme, \
     auth_code, terminal_ref, reason, started_at, resolved_at, staff_id";

fn card_row(r: &rusqlite::Row) -> rusqlite::Result<CardPaymentRow> {
    Ok(CardPaymentRow {
        id: r.get(0)?,
        order_uuid: r.get(1)?,
        kind: r.get(2)?,
        amount: r.get(3)?,
        currency: r.get(4)?,
        terminal: r.get(5)?,
        status: r.get(6)?,
        card_last4: r.get(7)?,
        card_scheme: r.get(8)?,
        auth_code: r.get(9)?,
        terminal_ref: r.get(10)?,
        reason: r.get(11)?,
        started_at: r.get(12)?,
        resolved_at: r.get(13)?,
        staff_id: r.get(14)?,
    })
}

/// Records a card payment before the terminal is asked.
pub fn insert_card_payment(tx: &Transaction, p: &CardPaymentRow) -> Result<(), StoreError> {
    tx.execute(
        &format!(
            "INSERT INTO card_payments ({CARD_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', NULL, NULL, NULL, NULL, NULL, ?7, NULL, ?8)"
        ),
        params![p.id, p.order_uuid, p.kind, p.amount, p.currency, p.terminal, p.started_at, p.staff_id],
    )?;
    Ok(())
}

/// Records the terminal's answer for a payment still pending. Returns false if it was not pending.
#[allow(clippy::too_many_arguments)]
pub fn resolve_card_payment(
    tx: &Transaction,
    id: &str,
    status: &str,
    card: Option<(&str, &str, &str, &str)>,
    reason: Option<&str>,
    at: i64,
) -> Result<bool, StoreError> {
    let (last4, scheme, auth, reference) = match card {
        Some((l, s, a, r)) => (Some(l), Some(s), Some(a), Some(r)),
        None => (None, None, None, None),
    };
    Ok(tx.execute(
        "UPDATE card_payments SET status = ?2, card_last4 = ?3, card_scheme = ?4, auth_code = ?5, terminal_ref = ?6,
                                  reason = ?7, resolved_at = ?8
         WHERE id = ?1 AND status = 'pending'",
        params![id, status, last4, scheme, auth, reference, reason, at],
    )? == 1)
}

/// Marks approved payments as taken by the sale that used them. Returns how many were.
pub fn capture_card_payments(tx: &Transaction, ids: &[String]) -> Result<usize, StoreError> {
    let mut n = 0;
    for id in ids {
        n += tx.execute("UPDATE card_payments SET status = 'captured' WHERE id = ?1 AND status = 'approved'", [id])?;
    }
    Ok(n)
}

pub fn card_payment(conn: &Connection, id: &str) -> Result<Option<CardPaymentRow>, StoreError> {
    Ok(conn.query_row(&format!("SELECT {CARD_COLUMNS} FROM card_payments WHERE id = ?1"), [id], card_row).optional()?)
}

/// Payments of an order still pending or approved and not yet used by a sale.
pub fn open_card_payments(conn: &Connection, order_uuid: Option<&str>) -> Result<Vec<CardPaymentRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CARD_COLUMNS} FROM card_payments
         WHERE status IN ('pending', 'approved') AND (?1 IS NULL OR order_uuid = ?1) ORDER BY started_at, id"
    ))?;
    let rows = stmt.query_map([order_uuid], card_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The card payment whose terminal reference this is, if the register asked a terminal for it.
pub fn card_payment_by_ref(conn: &Connection, terminal_ref: &str) -> Result<Option<CardPaymentRow>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {CARD_COLUMNS} FROM card_payments WHERE terminal_ref = ?1"))?
        .query_row([terminal_ref], card_row)
        .optional()?)
}
