//! The devices' audit chains in the cloud: each pushed run of entries is verified as the
//! continuation of what the service holds (sequence, links, hashes, signatures) before it is
//! stored; a run that does not continue the chain is refused from its first fault, and the
//! device is flagged.

use pos_audit::{Anchor, Entry};
use pos_sync_protocol::api::{AuditAck, ChainFault, PushAuditEntry};
use tokio_postgres::Transaction;

use crate::error::ApiResult;
use crate::http::Device;

pub async fn ingest(
    tx: &Transaction<'_>,
    device: Device,
    held_through: i64,
    last_hash: String,
    public_key: Vec<u8>,
    pushed: &[PushAuditEntry],
) -> ApiResult<AuditAck> {
    let held = u64::try_from(held_through).unwrap_or(0);
    // Entries the service already holds are retries: skipped, not re-verified.
    let entries: Vec<Entry> = pushed
        .iter()
        .filter(|e| e.seq > held)
        .map(|e| Entry { seq: e.seq, body: e.body.clone(), hash: e.hash.clone(), signature: e.signature.clone() })
        .collect();
    if entries.is_empty() {
        return Ok(AuditAck { held_through: held, fault: None });
    }
    let key: [u8; 32] = public_key.try_into().unwrap_or([0; 32]);
    let anchor = Anchor { next_seq: held + 1, prev_hash: last_hash };
    let verification = pos_audit::verify(&entries, &anchor, &device.device.to_string(), &key, None, 1);
    let good: &[Entry] = match &verification.fault {
        Some(f) => &entries[..entries.iter().position(|e| e.seq >= f.seq).unwrap_or(entries.len())],
        None => &entries,
    };
    if let Some(last) = good.last() {
        let seqs: Vec<i64> = good.iter().map(|e| e.seq as i64).collect();
        let bodies: Vec<&str> = good.iter().map(|e| e.body.as_str()).collect();
        let hashes: Vec<&str> = good.iter().map(|e| e.hash.as_str()).collect();
        let sigs: Vec<&str> = good.iter().map(|e| e.signature.as_str()).collect();
        tx.execute(
            "INSERT INTO audit_entries (tenant_id, device_id, seq, body, hash, signature) \
             SELECT $1, $2, * FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[])",
            &[&device.tenant, &device.device, &seqs, &bodies, &hashes, &sigs],
        )
        .await?;
        tx.execute(
            "UPDATE devices SET audit_held_through = $2, audit_last_hash = $3 WHERE id = $1",
            &[&device.device, &(last.seq as i64), &last.hash],
        )
        .await?;
    }
    let fault =
        verification.fault.map(|f| ChainFault { seq: f.seq, kind: f.kind.as_str().to_owned(), detail: f.detail });
    if let Some(f) = &fault {
        let json = serde_json::to_value(f).unwrap_or_default();
        tx.execute("UPDATE devices SET audit_fault = $2 WHERE id = $1", &[&device.device, &json]).await?;
    }
    Ok(AuditAck { held_through: good.last().map_or(held, |e| e.seq), fault })
}
