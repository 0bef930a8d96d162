//! Shifts and cash movements.

use pos_core::shift::CashMovementKind;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShiftRow {
    pub id: i64,
    pub uuid: String,
    pub opened_at: i64,
    pub opened_by: i64,
    pub business_day: String,
    pub float: i64,
    pub closed_at: Option<i64>,
    pub closed_by: Option<i64>,
    pub expected_cash: Option<i64>,
    pub counted_cash: Option<i64>,
    pub count_json: Option<String>,
}

const SHIFT_COLUMNS: &str = "id, uuid, opened_at, opened_by, business_day, float, closed_at, closed_by, expected_cash, counted_cash, count_json";

fn shift_row(r: &rusqlite::Row) -> rusqlite::Result<ShiftRow> {
    Ok(ShiftRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        opened_at: r.get(2)?,
        opened_by: r.get(3)?,
        business_day: r.get(4)?,
        float: r.get(5)?,
        closed_at: r.get(6)?,
        closed_by: r.get(7)?,
        expected_cash: r.get(8)?,
        counted_cash: r.get(9)?,
        count_json: r.get(10)?,
    })
}

pub fn open_shift(
    tx: &Transaction,
    uuid: &str,
    at: i64,
    by: i64,
    business_day: &str,
    float: i64,
) -> Result<i64, StoreError> {
    // The shift's orders will be numbered from the next order id on (reports by shift read
    // from there; migration 0007).
    tx.execute(
        "INSERT INTO shifts (uuid, opened_at, opened_by, business_day, float, first_order_id)
         VALUES (?1, ?2, ?3, ?4, ?5, (SELECT coalesce(max(id), 0) + 1 FROM orders))",
        params![uuid, at, by, business_day, float],
    )?;
    Ok(tx.last_insert_rowid())
}

pub fn current_shift(conn: &Connection) -> Result<Option<ShiftRow>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {SHIFT_COLUMNS} FROM shifts WHERE closed_at IS NULL"))?
        .query_row([], shift_row)
        .optional()?)
}

pub fn shift_by_uuid(conn: &Connection, uuid: &str) -> Result<Option<ShiftRow>, StoreError> {
    Ok(conn.query_row(&format!("SELECT {SHIFT_COLUMNS} FROM shifts WHERE uuid = ?1"), [uuid], shift_row).optional()?)
}

pub fn shift_by_id(conn: &Connection, id: i64) -> Result<Option<ShiftRow>, StoreError> {
    Ok(conn.query_row(&format!("SELECT {SHIFT_COLUMNS} FROM shifts WHERE id = ?1"), [id], shift_row).optional()?)
}

/// Shifts opened on the given business days, oldest first.
pub fn shifts_opened_between(conn: &Connection, from: &str, to: &str) -> Result<Vec<ShiftRow>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {SHIFT_COLUMNS} FROM shifts WHERE business_day BETWEEN ?1 AND ?2 ORDER BY opened_at"
    ))?;
    let rows = stmt.query_map([from, to], shift_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The most recently closed shift.
pub fn last_closed_shift(conn: &Connection) -> Result<Option<ShiftRow>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {SHIFT_COLUMNS} FROM shifts WHERE closed_at IS NOT NULL ORDER BY closed_at DESC LIMIT 1"),
            [],
            shift_row,
        )
        .optional()?)
}

pub fn close_shift(
    tx: &Transaction,
    id: i64,
    at: i64,
    by: i64,
    expected: i64,
    counted: i64,
    count_json: &str,
) -> Result<(), StoreError> {
    let n = tx.execute(
        "UPDATE shifts SET closed_at = ?2, closed_by = ?3, expected_cash = ?4, counted_cash = ?5, count_json = ?6
         WHERE id = ?1 AND closed_at IS NULL",
        params![id, at, by, expected, counted, count_json],
    )?;
    if n != 1 {
        return Err(StoreError::Integrity("shift is not open".into()));
    }
    Ok(())
}

/// A paid-in or paid-out as written.
#[derive(Debug, Clone)]
pub struct NewCashMovement<'a> {
    pub uuid: &'a str,
    pub shift_id: i64,
    pub kind: CashMovementKind,
    pub amount: i64,
    pub reason: &'a str,
    pub staff_id: i64,
    pub at: i64,
}

pub fn insert_cash_movement(tx: &Transaction, m: &NewCashMovement) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO cash_movements (uuid, shift_id, kind, amount, reason, staff_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![m.uuid, m.shift_id, m.kind.as_str(), m.amount, m.reason, m.staff_id, m.at],
    )?;
    Ok(())
}

/// (kind, amount, reason, at) of a shift's paid-ins and paid-outs, oldest first.
pub fn cash_movements(
    conn: &Connection,
    shift_id: i64,
) -> Result<Vec<(CashMovementKind, i64, String, i64)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT kind, amount, reason, at FROM cash_movements WHERE shift_id = ?1 ORDER BY at, id")?;
    let rows = stmt.query_map([shift_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (k, a, reason, at) = row?;
        out.push((CashMovementKind::parse(&k).unwrap_or(CashMovementKind::PaidIn), a, reason, at));
    }
    Ok(out)
}
