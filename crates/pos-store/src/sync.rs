//! Cloud sync, the register's side: the enrolment and progress row (`sync_state`), quarantined
//! outbox records, the device's signing key in the credential store, and what a pull writes
//! (staff matched by the cloud's id, SKUs switched off).
//!
//! Write functions take the `&Transaction` that `pos-app` opened; the device key never touches the
//! database.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use zeroize::Zeroizing;

use crate::error::StoreError;
use crate::keys::SecretStore;
use crate::outbox::OutboxRecord;

/// The credential-store entry holding the seed of the device's Ed25519 sync key.
pub fn device_key_name(store_id: &str) -> String {
    format!("{store_id}/sync-device-key")
}

/// The seed of the device's sync key, if enrolment stored one.
pub fn load_device_key(secrets: &dyn SecretStore, store_id: &str) -> Result<Option<Zeroizing<[u8; 32]>>, StoreError> {
    let Some(bytes) = secrets.get(&device_key_name(store_id))? else { return Ok(None) };
    let seed: [u8; 32] = bytes.as_slice().try_into().map_err(|_| StoreError::KeyMissing)?;
    Ok(Some(Zeroizing::new(seed)))
}

pub fn save_device_key(secrets: &dyn SecretStore, store_id: &str, seed: &[u8; 32]) -> Result<(), StoreError> {
    secrets.put(&device_key_name(store_id), seed)
}

pub fn delete_device_key(secrets: &dyn SecretStore, store_id: &str) -> Result<(), StoreError> {
    secrets.delete(&device_key_name(store_id))
}

/// Where this register stands with the cloud. Instants are microseconds since the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncState {
    pub cloud_url: String,
    pub ca_file: Option<String>,
    pub device_id: String,
    pub tenant_id: String,
    pub venue_id: String,
    pub venue_name: String,
    pub enrolled_at: i64,
    pub pull_cursor: i64,
    pub audit_held_through: u64,
    pub audit_fault: Option<String>,
    pub last_push_at: Option<i64>,
    pub last_pull_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub last_success_at: Option<i64>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    pub next_attempt_at: Option<i64>,
    pub revoked: bool,
}

impl SyncState {
    /// A freshly enrolled register: nothing pushed or pulled yet.
    pub fn enrolled(
        cloud_url: String,
        ca_file: Option<String>,
        ids: (String, String, String),
        venue_name: String,
        at: i64,
    ) -> SyncState {
        let (device_id, tenant_id, venue_id) = ids;
        SyncState {
            cloud_url,
            ca_file,
            device_id,
            tenant_id,
            venue_id,
            venue_name,
            enrolled_at: at,
            pull_cursor: 0,
            audit_held_through: 0,
            audit_fault: None,
            last_push_at: None,
            last_pull_at: None,
            last_attempt_at: None,
            last_success_at: None,
            last_error: None,
            consecutive_failures: 0,
            next_attempt_at: None,
            revoked: false,
        }
    }
}

const STATE_COLUMNS: &str = "cloud_url, ca_file, device_id, tenant_id, venue_id, venue_name, enrolled_at, pull_cursor, \
     audit_held_through, audit_fault, last_push_at, last_pull_at, last_attempt_at, last_success_at, last_error, \
     consecutive_failures, next_attempt_at, revoked";

/// The enrolment and progress row; `None` while the register is not enrolled.
pub fn load_state(conn: &Connection) -> Result<Option<SyncState>, StoreError> {
    Ok(conn
        .query_row(&format!("SELECT {STATE_COLUMNS} FROM sync_state WHERE id = 1"), [], |r| {
            Ok(SyncState {
                cloud_url: r.get(0)?,
                ca_file: r.get(1)?,
                device_id: r.get(2)?,
                tenant_id: r.get(3)?,
                venue_id: r.get(4)?,
                venue_name: r.get(5)?,
                enrolled_at: r.get(6)?,
                pull_cursor: r.get(7)?,
                audit_held_through: u64::try_from(r.get::<_, i64>(8)?).unwrap_or(0),
                audit_fault: r.get(9)?,
                last_push_at: r.get(10)?,
                last_pull_at: r.get(11)?,
                last_attempt_at: r.get(12)?,
                last_success_at: r.get(13)?,
                last_error: r.get(14)?,
                consecutive_failures: u32::try_from(r.get::<_, i64>(15)?).unwrap_or(u32::MAX),
                next_attempt_at: r.get(16)?,
                revoked: r.get(17)?,
            })
        })
        .optional()?)
}

/// Records the enrolment. Refuses a second one (the row exists): a register enrols once.
pub fn insert_state(tx: &Transaction, s: &SyncState) -> Result<(), StoreError> {
    if load_state(tx)?.is_some() {
        return Err(StoreError::Integrity("this register is already enrolled with a cloud service".into()));
    }
    tx.execute(
        "INSERT INTO sync_state (id, cloud_url, ca_file, device_id, tenant_id, venue_id, venue_name, enrolled_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![s.cloud_url, s.ca_file, s.device_id, s.tenant_id, s.venue_id, s.venue_name, s.enrolled_at],
    )?;
    save_state(tx, s)
}

/// Stores the progress fields of the enrolled register's row.
pub fn save_state(tx: &Transaction, s: &SyncState) -> Result<(), StoreError> {
    let n = tx.execute(
        "UPDATE sync_state SET pull_cursor = ?1, audit_held_through = ?2, audit_fault = ?3, last_push_at = ?4,
             last_pull_at = ?5, last_attempt_at = ?6, last_success_at = ?7, last_error = ?8,
             consecutive_failures = ?9, next_attempt_at = ?10, revoked = ?11, venue_name = ?12
         WHERE id = 1",
        params![
            s.pull_cursor,
            i64::try_from(s.audit_held_through).unwrap_or(i64::MAX),
            s.audit_fault,
            s.last_push_at,
            s.last_pull_at,
            s.last_attempt_at,
            s.last_success_at,
            s.last_error,
            i64::from(s.consecutive_failures),
            s.next_attempt_at,
            s.revoked,
            s.venue_name,
        ],
    )?;
    if n == 1 { Ok(()) } else { Err(StoreError::Integrity("the register is not enrolled with a cloud service".into())) }
}

/// Unacknowledged records in sequence order, without the quarantined ones: what the next push
/// carries.
pub fn pushable(conn: &Connection, limit: i64) -> Result<Vec<OutboxRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.seq, o.op_id, o.kind, o.payload, o.payload_hash, o.created_at, o.acked_at FROM outbox o
         WHERE o.seq > (SELECT settled_through FROM outbox_mark) AND o.acked_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM sync_quarantine q WHERE q.seq = o.seq)
         ORDER BY o.seq LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], crate::outbox::record)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether any record waits to be pushed (quarantined ones aside).
pub fn has_pushable(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM outbox o WHERE o.seq > (SELECT settled_through FROM outbox_mark) AND o.acked_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM sync_quarantine q WHERE q.seq = o.seq) LIMIT 1",
        )?
        .query_row([], |_| Ok(()))
        .optional()?
        .is_some())
}

/// An outbox record the cloud refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub seq: i64,
    pub op_id: String,
    pub kind: String,
    pub code: String,
    pub message: String,
    pub at: i64,
}

/// Keeps a refused record out of later pushes. A record already quarantined stays as it was.
/// Returns whether it was newly quarantined.
pub fn quarantine(
    tx: &Transaction,
    seq: i64,
    op_id: &str,
    code: &str,
    message: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let n = tx.execute(
        "INSERT INTO sync_quarantine (seq, op_id, code, message, at)
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM outbox WHERE seq = ?1 AND op_id = ?2 AND acked_at IS NULL)
         ON CONFLICT (seq) DO NOTHING",
        params![seq, op_id, code, message, at],
    )?;
    if n == 1 {
        crate::outbox::settle(tx)?;
    }
    Ok(n == 1)
}

/// Quarantined records, oldest first, at most `limit`, and how many there are in all.
pub fn quarantined(conn: &Connection, limit: i64) -> Result<(Vec<Quarantined>, i64), StoreError> {
    let total: i64 = conn.query_row("SELECT count(*) FROM sync_quarantine", [], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(
        "SELECT q.seq, q.op_id, o.kind, q.code, q.message, q.at FROM sync_quarantine q JOIN outbox o ON o.seq = q.seq
         ORDER BY q.seq LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(Quarantined {
            seq: r.get(0)?,
            op_id: r.get(1)?,
            kind: r.get(2)?,
            code: r.get(3)?,
            message: r.get(4)?,
            at: r.get(5)?,
        })
    })?;
    Ok((rows.collect::<Result<_, _>>()?, total))
}

/// Lets quarantined record `seq` go up with the next push again. Returns its operation id and
/// the code it was refused with, or `None` when it is not quarantined.
pub fn release_quarantine(tx: &Transaction, seq: i64) -> Result<Option<(String, String)>, StoreError> {
    let released = tx
        .query_row("DELETE FROM sync_quarantine WHERE seq = ?1 RETURNING op_id, code", [seq], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if released.is_some() {
        // The record waits again: the mark goes back below it, and the next settle moves it
        // forward over everything settled meanwhile.
        tx.execute("UPDATE outbox_mark SET settled_through = min(settled_through, ?1 - 1)", [seq])?;
    }
    Ok(released)
}

/// The device's name (from set-up), for the enrolment request.
pub fn device_name(conn: &Connection) -> Result<Option<String>, StoreError> {
    Ok(conn.query_row("SELECT name FROM device WHERE id = 1", [], |r| r.get(0)).optional()?)
}

/// A staff member as the cloud keeps them, ready to write. `pin_hash` is `None` when the cloud
/// sent none: an existing PIN stays, a new member gets none (and cannot sign in until a PIN is set).
#[derive(Debug, Clone)]
pub struct CloudStaff<'a> {
    pub cloud_id: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub permissions: u64,
    pub max_discount_bp: u32,
    pub totp_required: bool,
    pub active: bool,
    pub pin_hash: Option<&'a str>,
}

/// Creates or updates the staff member with this cloud id. Returns the local id and whether the
/// row is new.
pub fn upsert_cloud_staff(tx: &Transaction, s: &CloudStaff) -> Result<(i64, bool), StoreError> {
    let existing: Option<i64> =
        tx.query_row("SELECT id FROM staff WHERE cloud_id = ?1", [s.cloud_id], |r| r.get(0)).optional()?;
    match existing {
        Some(id) => {
            tx.execute(
                "UPDATE staff SET name = ?2, role = ?3, permissions = ?4, max_discount_bp = ?5, totp_required = ?6,
                     active = ?7, pin_hash = coalesce(?8, pin_hash)
                 WHERE id = ?1",
                params![
                    id,
                    s.name,
                    s.role,
                    s.permissions as i64,
                    s.max_discount_bp,
                    s.totp_required,
                    s.active,
                    s.pin_hash
                ],
            )?;
            Ok((id, false))
        }
        None => {
            tx.execute(
                "INSERT INTO staff (name, role, pin_hash, active, permissions, max_discount_bp, totp_required, cloud_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    s.name,
                    s.role,
                    s.pin_hash.unwrap_or(""),
                    s.active,
                    s.permissions as i64,
                    s.max_discount_bp,
                    s.totp_required,
                    s.cloud_id
                ],
            )?;
            Ok((tx.last_insert_rowid(), true))
        }
    }
}

/// The cloud id of a local staff member, if the cloud manages them.
pub fn staff_cloud_id(conn: &Connection, id: i64) -> Result<Option<String>, StoreError> {
    Ok(conn.query_row("SELECT cloud_id FROM staff WHERE id = ?1", [id], |r| r.get(0)).optional()?.flatten())
}

/// Stops (or resumes) selling a SKU. Returns whether a SKU of that code exists.
pub fn set_sku_active(tx: &Transaction, code: &str, active: bool) -> Result<bool, StoreError> {
    Ok(tx.execute("UPDATE skus SET active = ?2 WHERE code = ?1", params![code, active])? == 1)
}
