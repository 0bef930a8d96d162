//! Orders, payments, voids and refunds. Write functions take the caller's `Transaction`, so a sale,
//! its outbox record and its receipt number commit together or not at all.

use pos_core::money::{Currency, Quantity};
use pos_core::order::{Discount, PricedOrder};
use pos_core::refund::{PaidLine, PaidPayment, RateInfo, Refund, RefundableOrder};
use pos_core::tax::{PriceMode, TaxRateId};
use pos_core::tender::{CardAuthorization, Settlement, TenderKind};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::StoreError;

/// Takes the next receipt number: one sequence shared by sales and refunds, gapless per device.
/// Must run inside the writing transaction: a rolled-back transaction gives its number back. The
/// receipt holding the highest number is never deleted (a trigger), so none is used twice.
pub fn next_receipt_no(tx: &Transaction) -> Result<i64, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT coalesce(max(n), 0) + 1 FROM (SELECT max(receipt_no) AS n FROM orders
                                                  UNION ALL SELECT max(receipt_no) FROM refunds)",
        )?
        .query_row([], |r| r.get(0))?)
}

#[derive(Debug, Clone, Copy)]
pub enum OrderOutcome<'a> {
    Paid(&'a Settlement),
    /// An order voided before it was paid: kept for the record, no receipt number.
    VoidedUnpaid {
        reason: &'a str,
        by: i64,
    },
}

#[derive(Debug, Clone)]
pub struct NewOrder<'a> {
    pub uuid: &'a str,
    pub shift_id: i64,
    pub business_day: &'a str,
    pub staff_id: i64,
    pub opened_at: i64,
    pub at: i64,
    pub order: &'a PricedOrder,
    pub order_discount: Option<Discount>,
    pub outcome: OrderOutcome<'a>,
}

fn discount_text(d: Option<Discount>) -> Option<String> {
    d.map(|d| match d {
        Discount::Percent(bp) => format!("percent:{bp}"),
        Discount::Amount(a) => format!("amount:{a}"),
    })
}

/// Writes an order with its lines, taxes and payments. Returns (row id, receipt number).
pub fn insert_order(tx: &Transaction, o: &NewOrder) -> Result<(i64, Option<i64>), StoreError> {
    let p = o.order;
    let (status, receipt_no, paid_at, rounding, change, void) = match o.outcome {
        OrderOutcome::Paid(s) => ("paid", Some(next_receipt_no(tx)?), Some(o.at), s.rounding, s.change_due, None),
        OrderOutcome::VoidedUnpaid { reason, by } => ("voided", None, None, 0, 0, Some((reason, by))),
    };
    tx.prepare_cached(
        "INSERT INTO orders (uuid, receipt_no, shift_id, business_day, staff_id, status, opened_at, paid_at, currency,
             subtotal, discount_total, order_discount, tax_total, total, rounding, change_due, voided_at, voided_by, void_reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
    )?
    .execute(params![
        o.uuid,
        receipt_no,
        o.shift_id,
        o.business_day,
        o.staff_id,
        status,
        o.opened_at,
        paid_at,
        p.currency.code(),
        p.subtotal,
        p.discount_total,
        discount_text(o.order_discount),
        p.tax_total,
        p.total,
        rounding,
        change,
        void.map(|_| o.at),
        void.map(|v| v.1),
        void.map(|v| v.0),
    ])?;
    let order_id = tx.last_insert_rowid();
    let mut line_stmt = tx.prepare_cached(
        "INSERT INTO order_lines (order_id, line_no, sku_id, sku_code, name, product_id, category_id, tax_class_id, qty,
             list_price, unit_price, extended, line_discount, order_discount, amount, tax, tax_rate_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?;
    let mut line_tax_stmt =
        tx.prepare_cached("INSERT INTO order_line_taxes (order_id, line_no, rate_id, tax) VALUES (?1, ?2, ?3, ?4)")?;
    for l in &p.lines {
        // A line taxed at one rate keeps the rate on the line (its tax is `tax`); only a line taxed
        // at several rates gets rows in `order_line_taxes`. One table fewer written per sale.
        let single_rate = match l.taxes.as_slice() {
            [(rate, _)] => Some(rate.0),
            _ => None,
        };
        line_stmt.execute(params![
            order_id,
            l.line_no,
            l.item.sku_id.0,
            l.item.sku_code,
            l.item.name,
            l.item.product_id.0,
            l.item.category_id.0,
            l.item.tax_class.0,
            l.qty.milli(),
            l.list_price,
            l.unit_price,
            l.extended,
            l.line_discount,
            l.order_discount,
            l.amount,
            l.tax(),
            single_rate,
        ])?;
        if single_rate.is_none() {
            for (rate, tax) in &l.taxes {
                line_tax_stmt.execute(params![order_id, l.line_no, rate.0, tax])?;
            }
        }
    }
    let mut tax_stmt = tx.prepare_cached(
        "INSERT INTO order_taxes (order_id, rate_id, code, rate_ppm, base, tax) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for t in &p.taxes {
        tax_stmt.execute(params![order_id, t.rate_id.0, t.code, t.rate_ppm, t.base, t.tax])?;
    }
    if let OrderOutcome::Paid(s) = o.outcome {
        let mut pay_stmt = tx.prepare_cached(
            "INSERT INTO payments (order_id, seq, kind, amount, tendered, change, card_last4, card_scheme, auth_code, terminal_ref)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for (i, pay) in s.payments.iter().enumerate() {
            let c = pay.card.as_ref();
            pay_stmt.execute(params![
                order_id,
                i as i64 + 1,
                pay.kind.as_str(),
                pay.amount,
                pay.tendered,
                pay.change,
                c.map(CardAuthorization::last4),
                c.map(CardAuthorization::scheme),
                c.map(CardAuthorization::auth_code),
                c.map(CardAuthorization::terminal_ref),
            ])?;
        }
    }
    Ok((order_id, receipt_no))
}

/// How an order is found: by its id or by its receipt number.
#[derive(Debug, Clone)]
pub enum OrderKey<'a> {
    Uuid(&'a str),
    Receipt(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderHeader {
    pub id: i64,
    pub uuid: String,
    pub receipt_no: Option<i64>,
    pub shift_id: i64,
    pub status: String,
    pub business_day: String,
    pub total: i64,
    pub rounding: i64,
    pub refunded_total: i64,
    pub currency: String,
    pub staff_id: i64,
}

pub fn order_header(conn: &Connection, key: &OrderKey) -> Result<Option<OrderHeader>, StoreError> {
    let (sql, arg): (&str, rusqlite::types::Value) = match key {
        OrderKey::Uuid(u) => ("uuid = ?1", (*u).to_owned().into()),
        OrderKey::Receipt(n) => ("receipt_no = ?1", (*n).into()),
    };
    Ok(conn
        .query_row(
            &format!(
                "SELECT id, uuid, receipt_no, shift_id, status, business_day, total, rounding, refunded_total, currency, staff_id
                 FROM orders WHERE {sql}"
            ),
            [arg],
            |r| {
                Ok(OrderHeader {
                    id: r.get(0)?,
                    uuid: r.get(1)?,
                    receipt_no: r.get(2)?,
                    shift_id: r.get(3)?,
                    status: r.get(4)?,
                    business_day: r.get(5)?,
                    total: r.get(6)?,
                    rounding: r.get(7)?,
                    refunded_total: r.get(8)?,
                    currency: r.get(9)?,
                    staff_id: r.get(10)?,
                })
            },
        )
        .optional()?)
}

/// Voids a paid order. Only the status changes; the original rows stay as they were.
pub fn void_paid_order(tx: &Transaction, order_id: i64, by: i64, reason: &str, at: i64) -> Result<(), StoreError> {
    let n = tx.execute(
        "UPDATE orders SET status = 'voided', voided_at = ?2, voided_by = ?3, void_reason = ?4
         WHERE id = ?1 AND status = 'paid' AND refunded_total = 0",
        params![order_id, at, by, reason],
    )?;
    if n != 1 {
        return Err(StoreError::Integrity(format!("order {order_id} could not be voided")));
    }
    Ok(())
}

/// Payments of an order, for change-of-tender checks and voids.
pub fn payments_by_kind(conn: &Connection, order_id: i64) -> Result<Vec<(TenderKind, i64)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT kind, amount FROM payments WHERE order_id = ?1 ORDER BY seq")?;
    let rows = stmt.query_map([order_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (k, a) = row?;
        out.push((TenderKind::parse(&k).unwrap_or(TenderKind::Cash), a));
    }
    Ok(out)
}

/// What a refund needs to know about a paid order.
pub fn load_refundable(
    conn: &Connection,
    order_id: i64,
    currency: Currency,
    price_mode: PriceMode,
) -> Result<RefundableOrder, StoreError> {
    let (rounding, refunded_total): (i64, i64) =
        conn.query_row("SELECT rounding, refunded_total FROM orders WHERE id = ?1", [order_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let mut lines: Vec<PaidLine> = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT line_no, qty, amount, refunded_qty, refunded_amount, tax_rate_id, tax, refunded_tax
         FROM order_lines WHERE order_id = ?1 ORDER BY line_no",
    )?;
    let mut rows = stmt.query([order_id])?;
    while let Some(r) = rows.next()? {
        // A single-rate line carries its rate; a line taxed at several rates has them below.
        let single: Option<i64> = r.get(5)?;
        let (taxes, refunded_taxes) = match single {
            Some(rate) => (vec![(TaxRateId(rate), r.get(6)?)], vec![(TaxRateId(rate), r.get(7)?)]),
            None => (Vec::new(), Vec::new()),
        };
        lines.push(PaidLine {
            line_no: r.get(0)?,
            qty: Quantity::from_milli(r.get(1)?),
            amount: r.get(2)?,
            taxes,
            refunded_qty: Quantity::from_milli(r.get(3)?),
            refunded_amount: r.get(4)?,
            refunded_taxes,
        });
    }
    let mut stmt = conn.prepare_cached(
        "SELECT line_no, rate_id, tax, refunded_tax FROM order_line_taxes WHERE order_id = ?1 ORDER BY line_no, rate_id",
    )?;
    let mut rows = stmt.query([order_id])?;
    while let Some(r) = rows.next()? {
        let line_no: u32 = r.get(0)?;
        let rate = TaxRateId(r.get(1)?);
        if let Some(l) = lines.iter_mut().find(|l| l.line_no == line_no) {
            l.taxes.push((rate, r.get(2)?));
            l.refunded_taxes.push((rate, r.get(3)?));
        }
    }
    let mut payments = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT seq, kind, amount, refunded, card_last4, card_scheme, auth_code, terminal_ref FROM payments WHERE order_id = ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query([order_id])?;
    while let Some(r) = rows.next()? {
        let kind = TenderKind::parse(&r.get::<_, String>(1)?).unwrap_or(TenderKind::Cash);
        let last4: Option<String> = r.get(4)?;
        let card = match last4 {
            Some(l4) => {
                CardAuthorization::new(&l4, &r.get::<_, String>(5)?, &r.get::<_, String>(6)?, &r.get::<_, String>(7)?)
                    .ok()
            }
            None => None,
        };
        payments.push(PaidPayment { seq: r.get(0)?, kind, amount: r.get(2)?, refunded: r.get(3)?, card });
    }
    let mut rates = Vec::new();
    let mut stmt = conn.prepare_cached("SELECT rate_id, code, rate_ppm FROM order_taxes WHERE order_id = ?1")?;
    let mut rows = stmt.query([order_id])?;
    while let Some(r) = rows.next()? {
        rates.push(RateInfo { rate_id: TaxRateId(r.get(0)?), code: r.get(1)?, rate_ppm: r.get(2)? });
    }
    Ok(RefundableOrder { currency, price_mode, lines, payments, rates, rounding, refunded_total })
}

#[derive(Debug, Clone)]
pub struct NewRefund<'a> {
    pub uuid: &'a str,
    pub order_id: i64,
    pub shift_id: i64,
    pub business_day: &'a str,
    pub staff_id: i64,
    pub at: i64,
    pub reason: &'a str,
    pub refund: &'a Refund,
}

/// Writes a refund and marks what it took back on the original order. Returns (row id, receipt number).
pub fn insert_refund(tx: &Transaction, n: &NewRefund) -> Result<(i64, i64), StoreError> {
    let r = n.refund;
    let receipt_no = next_receipt_no(tx)?;
    tx.execute(
        "INSERT INTO refunds (uuid, receipt_no, order_id, shift_id, business_day, staff_id, at, reason, amount, tax_total, rounding, total)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![n.uuid, receipt_no, n.order_id, n.shift_id, n.business_day, n.staff_id, n.at, n.reason, r.amount, r.tax_total, r.rounding, r.total],
    )?;
    let refund_id = tx.last_insert_rowid();
    for l in &r.lines {
        let tax: i64 = l.taxes.iter().map(|(_, t)| t).sum();
        tx.execute(
            "INSERT INTO refund_lines (refund_id, line_no, qty, amount, tax) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![refund_id, l.line_no, l.qty.milli(), l.amount, tax],
        )?;
        let changed = tx.execute(
            "UPDATE order_lines SET refunded_qty = refunded_qty + ?3, refunded_amount = refunded_amount + ?4
             WHERE order_id = ?1 AND line_no = ?2 AND refunded_qty + ?3 <= qty",
            params![n.order_id, l.line_no, l.qty.milli(), l.amount],
        )?;
        if changed != 1 {
            return Err(StoreError::Integrity(format!("refund exceeds line {}", l.line_no)));
        }
        for (rate, t) in &l.taxes {
            // The rate is either the line's single rate or one of its rows in `order_line_taxes`.
            let args = params![n.order_id, l.line_no, rate.0, t];
            let on_line = tx
                .prepare_cached(
                    "UPDATE order_lines SET refunded_tax = refunded_tax + ?4
                     WHERE order_id = ?1 AND line_no = ?2 AND tax_rate_id = ?3",
                )?
                .execute(args)?;
            let in_rows = tx
                .prepare_cached(
                    "UPDATE order_line_taxes SET refunded_tax = refunded_tax + ?4
                     WHERE order_id = ?1 AND line_no = ?2 AND rate_id = ?3",
                )?
                .execute(args)?;
            if on_line + in_rows != 1 {
                return Err(StoreError::Integrity(format!("line {} has no tax at rate {}", l.line_no, rate.0)));
            }
        }
    }
    for t in &r.taxes {
        tx.execute(
            "INSERT INTO refund_taxes (refund_id, rate_id, code, rate_ppm, base, tax) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![refund_id, t.rate_id.0, t.code, t.rate_ppm, t.base, t.tax],
        )?;
    }
    for p in &r.payouts {
        tx.execute(
            "INSERT INTO refund_payouts (refund_id, payment_seq, kind, amount) VALUES (?1, ?2, ?3, ?4)",
            params![refund_id, p.payment_seq, p.kind.as_str(), p.amount],
        )?;
        tx.execute(
            "UPDATE payments SET refunded = refunded + ?3 WHERE order_id = ?1 AND seq = ?2",
            params![n.order_id, p.payment_seq, p.amount],
        )?;
    }
    // The database enforces the rule too: a refund never takes back more than was paid.
    let changed = tx.execute(
        "UPDATE orders SET refunded_total = refunded_total + ?2
         WHERE id = ?1 AND status = 'paid'
           AND refunded_total + ?2 <= (SELECT coalesce(sum(amount), 0) FROM payments WHERE order_id = ?1)",
        params![n.order_id, r.total],
    )?;
    if changed != 1 {
        return Err(StoreError::Integrity("refund exceeds what was paid".into()));
    }
    Ok((refund_id, receipt_no))
}

/// Checks that receipt numbers and outbox sequence numbers have no gaps. Returns a description of
/// each problem found; empty when all is well.
pub fn sequence_problems(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut problems = Vec::new();
    let (n, max): (i64, i64) = conn.query_row(
        "SELECT count(*), coalesce(max(n), 0) FROM (
             SELECT receipt_no AS n FROM orders WHERE receipt_no IS NOT NULL
             UNION ALL SELECT receipt_no FROM refunds)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if n != max {
        problems.push(format!("receipt numbers have gaps: {n} receipts, highest number {max}"));
    }
    let (n, min, max): (i64, i64, i64) =
        conn.query_row("SELECT count(*), coalesce(min(seq), 1), coalesce(max(seq), 0) FROM outbox", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if n != max - min + 1 {
        problems.push(format!("outbox sequence has gaps: {n} records between {min} and {max}"));
    }
    Ok(problems)
}
