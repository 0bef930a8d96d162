//! Staff security state, settings, closed days and the append-only audit log.
//!
//! The audit log offers append and read only; the triggers of migration 0002 refuse UPDATE and
//! DELETE, and an insert out of sequence, whoever issues them.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::StoreError;

/// What the façade needs to decide about a staff member's sign-in and permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSecurity {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub pin_hash: String,
    pub active: bool,
    pub permissions: u64,
    pub max_discount_bp: u32,
    pub pin_failures: u32,
    pub pin_last_failure_at: Option<i64>,
    pub pin_locked: bool,
    pub totp_sealed: Option<Vec<u8>>,
    pub totp_last_step: Option<u64>,
    pub totp_required: bool,
}

const STAFF_COLUMNS: &str = "id, name, role, pin_hash, active, permissions, max_discount_bp, pin_failures, \
     pin_last_failure_at, pin_locked, totp_sealed, totp_last_step, totp_required";

fn staff_row(r: &rusqlite::Row) -> rusqlite::Result<StaffSecurity> {
    Ok(StaffSecurity {
        id: r.get(0)?,
        name: r.get(1)?,
        role: r.get(2)?,
        pin_hash: r.get(3)?,
        active: r.get(4)?,
        permissions: r.get::<_, i64>(5)? as u64,
        max_discount_bp: r.get(6)?,
        pin_failures: r.get(7)?,
        pin_last_failure_at: r.get(8)?,
        pin_locked: r.get(9)?,
        totp_sealed: r.get(10)?,
        totp_last_step: r.get::<_, Option<i64>>(11)?.map(|s| s as u64),
        totp_required: r.get(12)?,
    })
}

pub fn all_staff(conn: &Connection) -> Result<Vec<StaffSecurity>, StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT {STAFF_COLUMNS} FROM staff ORDER BY id"))?;
    let rows = stmt.query_map([], staff_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn staff_by_id(conn: &Connection, id: i64) -> Result<Option<StaffSecurity>, StoreError> {
    Ok(conn.query_row(&format!("SELECT {STAFF_COLUMNS} FROM staff WHERE id = ?1"), [id], staff_row).optional()?)
}

/// A new staff member with their permissions.
#[derive(Debug, Clone)]
pub struct NewStaff<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub pin_hash: &'a str,
    pub permissions: u64,
    pub max_discount_bp: u32,
    pub totp_required: bool,
}

pub fn insert_staff(tx: &Transaction, s: &NewStaff) -> Result<i64, StoreError> {
    tx.execute(
        "INSERT INTO staff (name, role, pin_hash, active, permissions, max_discount_bp, totp_required)
         VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6)",
        params![s.name, s.role, s.pin_hash, s.permissions as i64, s.max_discount_bp, s.totp_required],
    )?;
    Ok(tx.last_insert_rowid())
}

fn one_row(n: usize, what: &str) -> Result<(), StoreError> {
    if n == 1 { Ok(()) } else { Err(StoreError::Integrity(format!("{what}: expected one row, changed {n}"))) }
}

pub fn set_permissions(
    tx: &Transaction,
    id: i64,
    role: &str,
    permissions: u64,
    max_discount_bp: u32,
    totp_required: bool,
) -> Result<(), StoreError> {
    let n = tx.execute(
        "UPDATE staff SET role = ?2, permissions = ?3, max_discount_bp = ?4, totp_required = ?5 WHERE id = ?1",
        params![id, role, permissions as i64, max_discount_bp, totp_required],
    )?;
    one_row(n, "staff permissions")
}

pub fn set_active(tx: &Transaction, id: i64, active: bool) -> Result<(), StoreError> {
    one_row(tx.execute("UPDATE staff SET active = ?2 WHERE id = ?1", params![id, active])?, "staff active")
}

pub fn set_pin_hash(tx: &Transaction, id: i64, pin_hash: &str) -> Result<(), StoreError> {
    one_row(tx.execute("UPDATE staff SET pin_hash = ?2 WHERE id = ?1", params![id, pin_hash])?, "staff PIN")
}

/// Records a staff member's PIN failure count and lock (a success or an unlock clears them).
pub fn set_staff_attempts(
    tx: &Transaction,
    id: i64,
    failures: u32,
    last_failure_at: Option<i64>,
    locked: bool,
) -> Result<(), StoreError> {
    let n = tx.execute(
        "UPDATE staff SET pin_failures = ?2, pin_last_failure_at = ?3, pin_locked = ?4 WHERE id = ?1",
        params![id, failures, last_failure_at, locked],
    )?;
    one_row(n, "staff attempts")
}

pub fn device_attempts(conn: &Connection) -> Result<(u32, Option<i64>, bool), StoreError> {
    Ok(conn.query_row("SELECT pin_failures, pin_last_failure_at, pin_locked FROM device WHERE id = 1", [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?)
}

pub fn set_device_attempts(
    tx: &Transaction,
    failures: u32,
    last_failure_at: Option<i64>,
    locked: bool,
) -> Result<(), StoreError> {
    let n = tx.execute(
        "UPDATE device SET pin_failures = ?1, pin_last_failure_at = ?2, pin_locked = ?3 WHERE id = 1",
        params![failures, last_failure_at, locked],
    )?;
    one_row(n, "device attempts")
}

pub fn set_totp(tx: &Transaction, id: i64, sealed: Option<&[u8]>, last_step: Option<u64>) -> Result<(), StoreError> {
    let n = tx.execute(
        "UPDATE staff SET totp_sealed = ?2, totp_last_step = ?3 WHERE id = ?1",
        params![id, sealed, last_step.map(|s| s as i64)],
    )?;
    one_row(n, "staff TOTP")
}

/// Stores the last accepted TOTP step, refusing to go backwards (a replay cannot slip in even if
/// two checks race).
pub fn advance_totp_step(tx: &Transaction, id: i64, step: u64) -> Result<bool, StoreError> {
    let n = tx.execute(
        "UPDATE staff SET totp_last_step = ?2 WHERE id = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
        params![id, step as i64],
    )?;
    Ok(n == 1)
}

pub fn set_audit_public_key(tx: &Transaction, hex_key: &str) -> Result<(), StoreError> {
    one_row(tx.execute("UPDATE device SET audit_public_key = ?1 WHERE id = 1", [hex_key])?, "device key")
}

pub fn audit_public_key(conn: &Connection) -> Result<Option<String>, StoreError> {
    Ok(conn.query_row("SELECT audit_public_key FROM device WHERE id = 1", [], |r| r.get(0)).optional()?.flatten())
}

pub fn setting(conn: &Connection, name: &str) -> Result<Option<String>, StoreError> {
    Ok(conn.query_row("SELECT value FROM settings WHERE name = ?1", [name], |r| r.get(0)).optional()?)
}

pub fn put_setting(tx: &Transaction, name: &str, value: &str) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )?;
    Ok(())
}

/// Whether a business day is closed (closed and not re-opened).
pub fn day_closed(conn: &Connection, day: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT reopened_at IS NULL FROM closed_days WHERE business_day = ?1")?
        .query_row([day], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

pub fn close_day(tx: &Transaction, day: &str, at: i64, by: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO closed_days (business_day, closed_at, closed_by) VALUES (?1, ?2, ?3)
         ON CONFLICT (business_day) DO UPDATE SET closed_at = ?2, closed_by = ?3, reopened_at = NULL, reopened_by = NULL",
        params![day, at, by],
    )?;
    Ok(())
}

pub fn reopen_day(tx: &Transaction, day: &str, at: i64, by: i64) -> Result<(), StoreError> {
    let n = tx.execute(
        "UPDATE closed_days SET reopened_at = ?2, reopened_by = ?3 WHERE business_day = ?1 AND reopened_at IS NULL",
        params![day, at, by],
    )?;
    one_row(n, "closed day")
}

pub fn set_order_audit_hash(tx: &Transaction, order_uuid: &str, short_hash: &str) -> Result<(), StoreError> {
    one_row(
        tx.prepare_cached("UPDATE orders SET audit_hash = ?2 WHERE uuid = ?1")?
            .execute(params![order_uuid, short_hash])?,
        "order audit hash",
    )
}

pub fn order_audit_hash(conn: &Connection, order_uuid: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT audit_hash FROM orders WHERE uuid = ?1", [order_uuid], |r| r.get(0))
        .optional()?
        .flatten())
}

/// One stored audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub seq: u64,
    pub body: String,
    pub hash: String,
    pub signature: String,
}

/// The last entry's sequence number and hash, if any.
pub fn audit_head(conn: &Connection) -> Result<Option<(u64, String)>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
        .optional()?)
}

pub fn audit_append(tx: &Transaction, row: &AuditRow) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached("INSERT INTO audit_log (seq, body, hash, signature) VALUES (?1, ?2, ?3, ?4)")?;
    stmt.execute(params![row.seq as i64, row.body, row.hash, row.signature])?;
    Ok(())
}

/// Entries from `from_seq` on, in sequence order, at most `limit`.
pub fn audit_entries(conn: &Connection, from_seq: u64, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT seq, body, hash, signature FROM audit_log WHERE seq >= ?1 ORDER BY seq LIMIT ?2")?;
    let rows = stmt.query_map(params![from_seq as i64, limit], |r| {
        Ok(AuditRow { seq: r.get::<_, i64>(0)? as u64, body: r.get(1)?, hash: r.get(2)?, signature: r.get(3)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
