//! The outbox: records waiting for the cloud, written in the same transaction as what they describe.

use rusqlite::{Connection, Transaction, params};
use sha2::{Digest, Sha256};

use crate::error::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    pub seq: i64,
    pub op_id: String,
    pub kind: String,
    pub payload: Vec<u8>,
    pub payload_hash: [u8; 32],
    pub created_at: i64,
    pub acked_at: Option<i64>,
}

/// Appends a record with the next gapless sequence number. Returns that number.
///
/// `seq` is the table's row id, left for SQLite to assign: one more than the highest in use.
/// The newest record is never deleted (a trigger), so a number is never used twice; a rolled-back
/// transaction gives its number back.
pub fn append(tx: &Transaction, op_id: &str, kind: &str, payload: &[u8], at: i64) -> Result<i64, StoreError> {
    let hash: [u8; 32] = Sha256::digest(payload).into();
    Ok(tx
        .prepare_cached(
            "INSERT INTO outbox (op_id, kind, payload, payload_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
             RETURNING seq",
        )?
        .query_row(params![op_id, kind, payload, &hash[..], at], |r| r.get(0))?)
}

/// The records still waiting for the cloud: after the mark, or quarantined (at any sequence number),
/// and not acknowledged. Written as two row-id lookups joined by OR, which SQLite searches apart.
macro_rules! waiting {
    () => {
        " WHERE (o.seq > (SELECT settled_through FROM outbox_mark) AND o.acked_at IS NULL)
            OR (o.seq IN (SELECT seq FROM sync_quarantine) AND o.acked_at IS NULL)"
    };
}

/// How many records wait for the cloud, and when the oldest was written. Quarantined records
/// count: they are not acknowledged.
pub fn depth(conn: &Connection) -> Result<(i64, Option<i64>), StoreError> {
    Ok(conn.query_row(concat!("SELECT count(*), min(created_at) FROM outbox o", waiting!()), [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?)
}

/// Unacknowledged records (quarantined ones included) in sequence order.
pub fn pending(conn: &Connection, limit: i64) -> Result<Vec<OutboxRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT seq, op_id, kind, payload, payload_hash, created_at, acked_at FROM outbox o",
        waiting!(),
        " ORDER BY seq LIMIT ?1"
    ))?;
    let rows = stmt.query_map([limit], record)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One outbox row, selected as `seq, op_id, kind, payload, payload_hash, created_at, acked_at`.
pub(crate) fn record(r: &rusqlite::Row) -> rusqlite::Result<OutboxRecord> {
    let hash: Vec<u8> = r.get(4)?;
    Ok(OutboxRecord {
        seq: r.get(0)?,
        op_id: r.get(1)?,
        kind: r.get(2)?,
        payload: r.get(3)?,
        payload_hash: hash.try_into().unwrap_or([0; 32]),
        created_at: r.get(5)?,
        acked_at: r.get(6)?,
    })
}

/// Every record, acknowledged or not, in sequence order (for checks and exports).
pub fn all_sequences(conn: &Connection) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare("SELECT seq FROM outbox ORDER BY seq")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Marks records as acknowledged by the cloud, each named by its sequence number and operation id
/// (a pair that does not match a record is ignored); returns how many were newly marked.
pub fn acknowledge(tx: &Transaction, records: &[(i64, &str)], at: i64) -> Result<usize, StoreError> {
    let mut n = 0;
    let mut stmt =
        tx.prepare_cached("UPDATE outbox SET acked_at = ?3 WHERE seq = ?1 AND op_id = ?2 AND acked_at IS NULL")?;
    for (seq, op) in records {
        n += stmt.execute(params![seq, op, at])?;
    }
    if n > 0 {
        settle(tx)?;
    }
    Ok(n)
}

/// Moves the mark past the records just acknowledged or quarantined: after it, every record up to
/// `settled_through` is one or the other. Reads from the old mark to the first record still
/// waiting, which is about as many records as the push settled.
pub(crate) fn settle(tx: &Transaction) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE outbox_mark SET settled_through = coalesce(
             (SELECT min(o.seq) - 1 FROM outbox o
              WHERE o.seq > outbox_mark.settled_through AND o.acked_at IS NULL
                AND NOT EXISTS (SELECT 1 FROM sync_quarantine q WHERE q.seq = o.seq)),
             (SELECT max(seq) FROM outbox),
             settled_through)",
    )?
    .execute([])?;
    Ok(())
}

/// Records that wait for the cloud although they lie at or below the mark (should be none):
/// neither acknowledged nor quarantined. For `doctor`.
pub fn unsettled_below_mark(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM outbox o
         WHERE o.seq <= (SELECT settled_through FROM outbox_mark) AND o.acked_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM sync_quarantine q WHERE q.seq = o.seq)",
        [],
        |r| r.get(0),
    )?)
}
