//! Streams sales facts into the pure aggregators of `pos_core::report`. SQL only sums integers per
//! group; every figure a report shows is derived by the aggregator.

use pos_core::report::{Flow, ItemMixTotals, RefundFigures, SaleFigures, SalesTotals, TaxExportTotals};
use pos_core::tender::TenderKind;
use rusqlite::{Connection, params};

use crate::error::StoreError;

/// Which sales a report covers.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Shift(i64),
    /// Business days, inclusive, as 'YYYY-MM-DD'.
    Days(&'a str, &'a str),
}

impl Scope<'_> {
    fn filter(&self, alias: &str) -> String {
        match self {
            Scope::Shift(_) => format!("{alias}.shift_id = ?1"),
            Scope::Days(_, _) => format!("{alias}.business_day BETWEEN ?1 AND ?2"),
        }
    }

    /// The same condition written so that SQLite does not pick an index for it (unary `+`), for
    /// queries that already walk a row-id range.
    fn filter_unindexed(&self, alias: &str) -> String {
        match self {
            Scope::Shift(_) => format!("+{alias}.shift_id = ?1"),
            Scope::Days(_, _) => format!("+{alias}.business_day BETWEEN ?1 AND ?2"),
        }
    }

    fn params(&self) -> Vec<rusqlite::types::Value> {
        match *self {
            Scope::Shift(id) => vec![id.into()],
            Scope::Days(a, b) => vec![a.to_owned().into(), b.to_owned().into()],
        }
    }
}

fn kind(s: &str) -> TenderKind {
    TenderKind::parse(s).unwrap_or(TenderKind::Cash)
}

/// Feeds a scope's sales, voids and refunds into `totals`.
///
/// A register writes orders one after another, so the orders of a shift or a day occupy one
/// contiguous range of row ids. Taxes and payments are therefore summed by scanning that range
/// (sequential pages, no per-order lookups), and the few orders inside the range that do not
/// belong (voided, or of another scope) are subtracted again. A day's range comes from the
/// `orders_day` index and is exact whatever the layout. A shift's comes from the shifts' first
/// order ids (there is no index by shift, so that a sale writes one page fewer): exact because a
/// register has one shift open at a time and writes every order into the shift that is open.
pub fn feed_sales(conn: &Connection, scope: Scope, totals: &mut SalesTotals) -> Result<(), StoreError> {
    let p = scope.params();
    let n = p.len();
    let o = scope.filter("o");
    let r = scope.filter("r");
    let in_scope = scope.filter_unindexed("o");

    let mut stmt = conn.prepare_cached(&match scope {
        Scope::Days(..) => format!("SELECT min(o.id), max(o.id) FROM orders o WHERE {o}"),
        // No index by shift (a sale would write it): a shift's orders lie between its first order
        // id and the next shift's, since a register has one shift open at a time.
        Scope::Shift(_) => format!(
            "SELECT min(o.id), max(o.id) FROM orders o
             WHERE o.id >= (SELECT coalesce(first_order_id, 0) FROM shifts WHERE id = ?1)
               AND o.id < coalesce((SELECT min(first_order_id) FROM shifts WHERE id > ?1), 9223372036854775807)
               AND {in_scope}"
        ),
    })?;
    let (lo, hi): (Option<i64>, Option<i64>) =
        stmt.query_row(rusqlite::params_from_iter(p.iter()), |row| Ok((row.get(0)?, row.get(1)?)))?;
    if let (Some(lo), Some(hi)) = (lo, hi) {
        let mut ranged = p.clone();
        ranged.push(lo.into());
        ranged.push(hi.into());
        let args = || rusqlite::params_from_iter(ranged.iter());
        let range = format!("BETWEEN ?{} AND ?{}", n + 1, n + 2);

        // One pass over the orders in the range: paid sales of the scope are summed, voided ones
        // counted, and every order that is not a paid sale of the scope is remembered.
        let mut sale = SaleFigures::default();
        let (mut void_count, mut voided) = (0i64, 0i64);
        let mut outsiders: Vec<i64> = Vec::new();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT o.id, {in_scope}, o.status = 'paid', o.subtotal, o.discount_total, o.total, o.rounding
             FROM orders o WHERE o.id {range}"
        ))?;
        let mut rows = stmt.query(args())?;
        while let Some(row) = rows.next()? {
            let (id, mine, paid): (i64, bool, bool) = (row.get(0)?, row.get(1)?, row.get(2)?);
            if mine && paid {
                sale.orders += 1;
                sale.gross += row.get::<_, i64>(3)?;
                sale.discounts += row.get::<_, i64>(4)?;
                sale.total += row.get::<_, i64>(5)?;
                sale.rounding += row.get::<_, i64>(6)?;
            } else {
                if mine {
                    void_count += 1;
                    voided += row.get::<_, i64>(5)?;
                }
                outsiders.push(id);
            }
        }
        totals.add_sales(sale);
        totals.add_voids(void_count, voided);

        // Tax: sum the whole range per (rate, percentage), then take the outsiders back out.
        let mut sums: Vec<(i64, i64, i64, i64)> = Vec::new(); // rate_id, rate_ppm, base, tax
        let mut add =
            |rate: i64, ppm: i64, base: i64, tax: i64| match sums.iter_mut().find(|s| s.0 == rate && s.1 == ppm) {
                Some(s) => {
                    s.2 += base;
                    s.3 += tax;
                }
                None => sums.push((rate, ppm, base, tax)),
            };
        let mut stmt = conn
            .prepare_cached(&format!("SELECT rate_id, rate_ppm, base, tax FROM order_taxes WHERE order_id {range}"))?;
        let mut rows = stmt.query(args())?;
        while let Some(row) = rows.next()? {
            add(row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
        }
        let mut stmt =
            conn.prepare_cached("SELECT rate_id, rate_ppm, base, tax FROM order_taxes WHERE order_id = ?1")?;
        for id in &outsiders {
            let mut rows = stmt.query([id])?;
            while let Some(row) = rows.next()? {
                add(row.get(0)?, row.get(1)?, -row.get::<_, i64>(2)?, -row.get::<_, i64>(3)?);
            }
        }
        let mut code_of =
            conn.prepare_cached("SELECT code FROM order_taxes WHERE rate_id = ?1 AND rate_ppm = ?2 LIMIT 1")?;
        for (rate, ppm, base, tax) in sums {
            let code: String = code_of.query_row([rate, ppm], |row| row.get(0))?;
            totals.add_tax(Flow::Sale, &code, ppm, base, tax);
        }

        // Tenders: the kinds are a closed set (a CHECK constraint), so one pass sums both.
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT coalesce(sum(CASE WHEN kind = 'cash' THEN amount END), 0),
                    coalesce(sum(CASE WHEN kind = 'card' THEN amount END), 0)
             FROM payments WHERE order_id {range}"
        ))?;
        let (mut cash, mut card): (i64, i64) = stmt.query_row(args(), |row| Ok((row.get(0)?, row.get(1)?)))?;
        let mut stmt = conn.prepare_cached("SELECT kind, amount FROM payments WHERE order_id = ?1")?;
        for id in &outsiders {
            let mut rows = stmt.query([id])?;
            while let Some(row) = rows.next()? {
                match kind(&row.get::<_, String>(0)?) {
                    TenderKind::Cash => cash -= row.get::<_, i64>(1)?,
                    TenderKind::Card => card -= row.get::<_, i64>(1)?,
                }
            }
        }
        if cash != 0 {
            totals.add_tender(Flow::Sale, TenderKind::Cash, cash);
        }
        if card != 0 {
            totals.add_tender(Flow::Sale, TenderKind::Card, card);
        }
    }

    let p = rusqlite::params_from_iter(p.iter());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT count(*), coalesce(sum(amount), 0), coalesce(sum(total), 0), coalesce(sum(rounding), 0) FROM refunds r WHERE {r}"
    ))?;
    let f = stmt.query_row(p.clone(), |row| {
        Ok(RefundFigures { refunds: row.get(0)?, amount: row.get(1)?, total: row.get(2)?, rounding: row.get(3)? })
    })?;
    totals.add_refunds(f);

    let mut stmt = conn.prepare_cached(&format!(
        "SELECT t.code, t.rate_ppm, sum(t.base), sum(t.tax) FROM refunds r JOIN refund_taxes t ON t.refund_id = r.id
         WHERE {r} GROUP BY t.code, t.rate_ppm"
    ))?;
    let mut rows = stmt.query(p.clone())?;
    while let Some(row) = rows.next()? {
        totals.add_tax(Flow::Refund, &row.get::<_, String>(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
    }

    let mut stmt = conn.prepare_cached(&format!(
        "SELECT pp.kind, sum(pp.amount) FROM refunds r JOIN refund_payouts pp ON pp.refund_id = r.id WHERE {r} GROUP BY pp.kind"
    ))?;
    let mut rows = stmt.query(p)?;
    while let Some(row) = rows.next()? {
        totals.add_tender(Flow::Refund, kind(&row.get::<_, String>(0)?), row.get(1)?);
    }
    Ok(())
}

/// Quantity and net (after discounts, without tax) per product; refunds subtract.
pub fn feed_item_mix(
    conn: &Connection,
    from: &str,
    to: &str,
    prices_include_tax: bool,
    mix: &mut ItemMixTotals,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT coalesce(c.name, '(none)'), l.product_id, coalesce(p.name, min(l.name)), sum(l.qty),
                sum(l.amount - CASE WHEN ?3 THEN l.tax ELSE 0 END)
         FROM orders o JOIN order_lines l ON l.order_id = o.id
         LEFT JOIN products p ON p.id = l.product_id LEFT JOIN categories c ON c.id = l.category_id
         WHERE o.business_day BETWEEN ?1 AND ?2 AND o.status = 'paid'
         GROUP BY l.category_id, l.product_id",
    )?;
    let mut rows = stmt.query(params![from, to, prices_include_tax])?;
    while let Some(r) = rows.next()? {
        mix.add(&r.get::<_, String>(0)?, r.get(1)?, &r.get::<_, String>(2)?, r.get(3)?, r.get(4)?);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT coalesce(c.name, '(none)'), l.product_id, coalesce(p.name, min(l.name)), sum(rl.qty),
                sum(rl.amount - CASE WHEN ?3 THEN rl.tax ELSE 0 END)
         FROM refunds r JOIN refund_lines rl ON rl.refund_id = r.id
         JOIN order_lines l ON l.order_id = r.order_id AND l.line_no = rl.line_no
         LEFT JOIN products p ON p.id = l.product_id LEFT JOIN categories c ON c.id = l.category_id
         WHERE r.business_day BETWEEN ?1 AND ?2
         GROUP BY l.category_id, l.product_id",
    )?;
    let mut rows = stmt.query(params![from, to, prices_include_tax])?;
    while let Some(r) = rows.next()? {
        let q: i64 = r.get(3)?;
        let n: i64 = r.get(4)?;
        mix.add(&r.get::<_, String>(0)?, r.get(1)?, &r.get::<_, String>(2)?, -q, -n);
    }
    Ok(())
}

/// Tax per business day and rate, refunds subtracted.
pub fn feed_tax_export(conn: &Connection, from: &str, to: &str, out: &mut TaxExportTotals) -> Result<(), StoreError> {
    let queries = [
        (
            Flow::Sale,
            "SELECT o.business_day, t.code, t.rate_ppm, sum(t.base), sum(t.tax) FROM orders o JOIN order_taxes t ON t.order_id = o.id
             WHERE o.business_day BETWEEN ?1 AND ?2 AND o.status = 'paid' GROUP BY o.business_day, t.code, t.rate_ppm",
        ),
        (
            Flow::Refund,
            "SELECT r.business_day, t.code, t.rate_ppm, sum(t.base), sum(t.tax) FROM refunds r JOIN refund_taxes t ON t.refund_id = r.id
             WHERE r.business_day BETWEEN ?1 AND ?2 GROUP BY r.business_day, t.code, t.rate_ppm",
        ),
    ];
    for (flow, sql) in queries {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params![from, to])?;
        while let Some(r) = rows.next()? {
            let day: String = r.get(0)?;
            let day = day.parse().map_err(|_| StoreError::Integrity(format!("bad business day {day:?} in store")))?;
            out.add(day, flow, &r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
        }
    }
    Ok(())
}

/// One line of the sales export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportLine {
    pub line_no: i64,
    pub sku_code: String,
    pub name: String,
    pub qty: i64,
    pub unit_price: i64,
    pub discount: i64,
    pub amount: i64,
    pub tax: i64,
    pub refunded_qty: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPayment {
    pub kind: String,
    pub amount: i64,
    pub card_last4: Option<String>,
    pub card_scheme: Option<String>,
    pub auth_code: Option<String>,
}

/// One order of the sales export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOrder {
    pub uuid: String,
    pub receipt_no: Option<i64>,
    pub business_day: String,
    pub status: String,
    pub paid_at: Option<i64>,
    pub staff: String,
    pub currency: String,
    pub subtotal: i64,
    pub discount_total: i64,
    pub tax_total: i64,
    pub total: i64,
    pub rounding: i64,
    pub refunded_total: i64,
    pub lines: Vec<ExportLine>,
    pub payments: Vec<ExportPayment>,
}

/// Orders of the given business days, in receipt order, with lines and payments.
pub fn export_orders(conn: &Connection, from: &str, to: &str) -> Result<Vec<ExportOrder>, StoreError> {
    orders_where(conn, "o.business_day BETWEEN ?1 AND ?2", &[from, to])
}

/// One order by its id, with lines and payments.
pub fn export_order(conn: &Connection, uuid: &str) -> Result<Option<ExportOrder>, StoreError> {
    Ok(orders_where(conn, "o.uuid = ?1", &[uuid])?.pop())
}

fn orders_where(conn: &Connection, filter: &str, params: &[&str]) -> Result<Vec<ExportOrder>, StoreError> {
    let mut orders: Vec<(i64, ExportOrder)> = Vec::new();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT o.id, o.uuid, o.receipt_no, o.business_day, o.status, o.paid_at, s.name, o.currency, o.subtotal,
                o.discount_total, o.tax_total, o.total, o.rounding, o.refunded_total
         FROM orders o JOIN staff s ON s.id = o.staff_id
         WHERE {filter} ORDER BY o.id"
    ))?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    while let Some(r) = rows.next()? {
        orders.push((
            r.get(0)?,
            ExportOrder {
                uuid: r.get(1)?,
                receipt_no: r.get(2)?,
                business_day: r.get(3)?,
                status: r.get(4)?,
                paid_at: r.get(5)?,
                staff: r.get(6)?,
                currency: r.get(7)?,
                subtotal: r.get(8)?,
                discount_total: r.get(9)?,
                tax_total: r.get(10)?,
                total: r.get(11)?,
                rounding: r.get(12)?,
                refunded_total: r.get(13)?,
                lines: Vec::new(),
                payments: Vec::new(),
            },
        ));
    }
    let mut lines = conn.prepare_cached(
        "SELECT line_no, sku_code, name, qty, unit_price, line_discount + order_discount, amount, tax, refunded_qty
         FROM order_lines WHERE order_id = ?1 ORDER BY line_no",
    )?;
    let mut pays = conn.prepare_cached(
        "SELECT kind, amount, card_last4, card_scheme, auth_code FROM payments WHERE order_id = ?1 ORDER BY seq",
    )?;
    for (id, o) in &mut orders {
        let mut rows = lines.query([*id])?;
        while let Some(r) = rows.next()? {
            o.lines.push(ExportLine {
                line_no: r.get(0)?,
                sku_code: r.get(1)?,
                name: r.get(2)?,
                qty: r.get(3)?,
                unit_price: r.get(4)?,
                discount: r.get(5)?,
                amount: r.get(6)?,
                tax: r.get(7)?,
                refunded_qty: r.get(8)?,
            });
        }
        let mut rows = pays.query([*id])?;
        while let Some(r) = rows.next()? {
            o.payments.push(ExportPayment {
                kind: r.get(0)?,
                amount: r.get(1)?,
                card_last4: r.get(2)?,
                card_scheme: r.get(3)?,
                auth_code: r.get(4)?,
            });
        }
    }
    Ok(orders.into_iter().map(|(_, o)| o).collect())
}
