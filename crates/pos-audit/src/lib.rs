//! The register's tamper-evident audit chain. docs/audit-chain.md specifies it byte for byte:
//!
//! - an entry's body is an object in RFC 8785 canonical JSON that names the device, its gapless
//!   sequence number and the previous entry's hash;
//! - its hash is SHA-256 over the body's UTF-8 bytes, in lowercase hex;
//! - its signature is Ed25519 over the same bytes, by the device's key.
//!
//! Pure: the caller supplies the time, the previous hash and the signer, and stores the result.

pub mod canonical;

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use canonical::{CanonicalError, to_canonical};

/// The body format version.
pub const FORMAT: u64 = 1;

/// The `prev` of the first entry: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How many hex digits of an entry's hash a receipt prints.
pub const SHORT_HASH_LEN: usize = 12;

/// A person named by an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: i64,
    pub name: String,
}

/// What happened, before it is numbered, chained and signed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    /// e.g. `sale`, `refund`, `pin_failed`, `override_approved`.
    pub action: String,
    /// `ok`, `refused`, `denied`, `abandoned`, …
    pub outcome: String,
    pub actor: Option<Person>,
    pub approver: Option<Person>,
    /// Ids of what the action touched, e.g. `order`, `receipt`, `shift`, `staff`.
    pub subject: Map<String, Value>,
    /// Minor units of `currency`.
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub reason: Option<String>,
    /// Anything else worth keeping (thresholds, permission names, counts).
    pub details: Map<String, Value>,
}

impl Event {
    pub fn new(action: &str, outcome: &str) -> Event {
        Event { action: action.into(), outcome: outcome.into(), ..Event::default() }
    }

    #[must_use]
    pub fn actor(mut self, id: i64, name: &str) -> Event {
        self.actor = Some(Person { id, name: name.into() });
        self
    }

    #[must_use]
    pub fn approver(mut self, id: i64, name: &str) -> Event {
        self.approver = Some(Person { id, name: name.into() });
        self
    }

    #[must_use]
    pub fn subject(mut self, key: &str, value: impl Into<Value>) -> Event {
        self.subject.insert(key.into(), value.into());
        self
    }

    #[must_use]
    pub fn amount(mut self, minor: i64, currency: &str) -> Event {
        self.amount = Some(minor);
        self.currency = Some(currency.into());
        self
    }

    #[must_use]
    pub fn reason(mut self, reason: &str) -> Event {
        self.reason = Some(reason.into());
        self
    }

    #[must_use]
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Event {
        self.details.insert(key.into(), value.into());
        self
    }
}

/// Where and when an entry is written, and what it follows.
#[derive(Debug, Clone, Copy)]
pub struct Position<'a> {
    pub device: &'a str,
    pub seq: u64,
    /// UTC, RFC 3339 with a `Z`.
    pub at: &'a str,
    /// The venue's UTC offset at that instant, e.g. `+01:00`.
    pub offset: &'a str,
    /// The previous entry's hash, or [`GENESIS`].
    pub prev: &'a str,
}

/// A sealed entry as stored and exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u64,
    /// Canonical JSON.
    pub body: String,
    /// SHA-256 of `body`, lowercase hex.
    pub hash: String,
    /// Ed25519 over `body`, lowercase hex.
    pub signature: String,
}

impl Entry {
    pub fn short_hash(&self) -> &str {
        &self.hash[..SHORT_HASH_LEN]
    }
}

/// Signs entries. Ed25519 with a key from the credential store today; a certified signing device
/// can take its place later.
pub trait Signer {
    fn sign(&self, message: &[u8]) -> [u8; 64];
    fn public_key(&self) -> [u8; 32];
}

/// An Ed25519 key held in memory (loaded from the credential store by the caller).
pub struct Ed25519Signer(SigningKey);

impl Ed25519Signer {
    pub fn from_seed(seed: &[u8; 32]) -> Ed25519Signer {
        Ed25519Signer(SigningKey::from_bytes(seed))
    }
}

impl std::fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ed25519Signer(public {})", hex::encode(self.public_key()))
    }
}

impl Signer for Ed25519Signer {
    fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
    fn public_key(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Builds the body of an entry as a JSON value (before canonicalisation).
pub fn body_value(event: &Event, pos: &Position) -> Value {
    let person = |p: &Option<Person>| match p {
        Some(p) => serde_json::json!({"id": p.id, "name": p.name}),
        None => Value::Null,
    };
    let opt_str = |s: &Option<String>| s.as_ref().map_or(Value::Null, |s| Value::String(s.clone()));
    serde_json::json!({
        "v": FORMAT,
        "device": pos.device,
        "seq": pos.seq,
        "at": pos.at,
        "offset": pos.offset,
        "action": event.action,
        "outcome": event.outcome,
        "actor": person(&event.actor),
        "approver": person(&event.approver),
        "subject": Value::Object(event.subject.clone()),
        "amount": event.amount.map_or(Value::Null, Value::from),
        "currency": opt_str(&event.currency),
        "reason": opt_str(&event.reason),
        "details": Value::Object(event.details.clone()),
        "prev": pos.prev,
    })
}

/// Numbers, chains and signs an event.
pub fn seal(event: &Event, pos: &Position, signer: &dyn Signer) -> Result<Entry, CanonicalError> {
    let body = to_canonical(&body_value(event, pos))?;
    let hash = sha256_hex(body.as_bytes());
    let signature = hex::encode(signer.sign(body.as_bytes()));
    Ok(Entry { seq: pos.seq, body, hash, signature })
}

/// What is wrong with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// An entry is missing: the sequence skips this number.
    Gap,
    /// The entry stored at this position carries another sequence number.
    Reordering,
    /// The stored hash is not the SHA-256 of the body.
    HashMismatch,
    /// The body's `prev` is not the previous entry's hash.
    ChainBroken,
    /// The signature does not verify with the device's public key.
    BadSignature,
    /// The body is not canonical JSON of the documented shape, or names another device.
    Malformed,
    /// Entries end before the last sequence number the store handed out.
    Truncated,
}

impl FaultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Gap => "gap",
            FaultKind::Reordering => "reordering",
            FaultKind::HashMismatch => "hash_mismatch",
            FaultKind::ChainBroken => "chain_broken",
            FaultKind::BadSignature => "bad_signature",
            FaultKind::Malformed => "malformed",
            FaultKind::Truncated => "truncated",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fault {
    pub seq: u64,
    pub kind: FaultKind,
    pub detail: String,
}

/// Where verification starts: sequence 1 after [`GENESIS`], or after an entry already verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub next_seq: u64,
    pub prev_hash: String,
}

impl Anchor {
    pub fn genesis() -> Anchor {
        Anchor { next_seq: 1, prev_hash: GENESIS.into() }
    }
}

/// Checks one entry against what precedes it: `expected_seq` and `prev_hash`.
fn check_entry(e: &Entry, expected_seq: u64, prev_hash: &str, device: &str, key: &VerifyingKey) -> Option<Fault> {
    let fault = |kind, detail: String| Some(Fault { seq: e.seq, kind, detail });
    if e.seq > expected_seq {
        return Some(Fault {
            seq: expected_seq,
            kind: FaultKind::Gap,
            detail: format!("entries {expected_seq}..{} are missing", e.seq - 1),
        });
    }
    if e.seq < expected_seq {
        return fault(FaultKind::Reordering, format!("sequence {} found where {expected_seq} belongs", e.seq));
    }
    let Ok(value) = serde_json::from_str::<Value>(&e.body) else {
        return fault(FaultKind::Malformed, "the body is not JSON".into());
    };
    if to_canonical(&value).ok().as_deref() != Some(e.body.as_str()) {
        return fault(FaultKind::Malformed, "the body is not in canonical form".into());
    }
    let body_seq = value.get("seq").and_then(Value::as_u64);
    if body_seq != Some(e.seq) {
        return fault(
            FaultKind::Reordering,
            format!(
                "the entry at position {} says it is number {}",
                e.seq,
                body_seq.map_or("?".into(), |s| s.to_string())
            ),
        );
    }
    if value.get("device").and_then(Value::as_str) != Some(device)
        || value.get("v").and_then(Value::as_u64) != Some(FORMAT)
    {
        return fault(FaultKind::Malformed, "the body names another device or format".into());
    }
    let hash = sha256_hex(e.body.as_bytes());
    if hash != e.hash {
        return fault(FaultKind::HashMismatch, format!("stored {}, computed {hash}", e.hash));
    }
    if value.get("prev").and_then(Value::as_str) != Some(prev_hash) {
        return fault(FaultKind::ChainBroken, format!("prev does not match the hash of entry {}", e.seq - 1));
    }
    let sig = hex::decode(&e.signature).ok().and_then(|b| <[u8; 64]>::try_from(b.as_slice()).ok());
    match sig {
        Some(sig) if key.verify(e.body.as_bytes(), &Signature::from_bytes(&sig)).is_ok() => None,
        _ => fault(FaultKind::BadSignature, "the signature does not verify with the device key".into()),
    }
}

/// The outcome of verifying a run of entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub entries: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub last_hash: Option<String>,
    pub fault: Option<Fault>,
}

/// Verifies `entries` (in stored order) as the continuation of `anchor`: sequence, chain links,
/// hashes and signatures. Reports the fault with the lowest sequence number. `expected_last`
/// is the last number the store handed out, when known, so a cut-off tail is caught too.
/// Entries are checked in parallel on `threads` threads; the answer does not depend on it.
pub fn verify(
    entries: &[Entry],
    anchor: &Anchor,
    device: &str,
    public_key: &[u8; 32],
    expected_last: Option<u64>,
    threads: usize,
) -> Verification {
    let summary = |fault| Verification {
        entries: entries.len() as u64,
        first_seq: entries.first().map(|e| e.seq),
        last_seq: entries.last().map(|e| e.seq),
        last_hash: entries.last().map(|e| e.hash.clone()),
        fault,
    };
    let Ok(key) = VerifyingKey::from_bytes(public_key) else {
        return summary(Some(Fault {
            seq: anchor.next_seq,
            kind: FaultKind::BadSignature,
            detail: "the public key is not a valid Ed25519 key".into(),
        }));
    };
    let threads = threads.clamp(1, 16);
    let chunk = entries.len().div_ceil(threads).max(1);
    let check_range = |start: usize, items: &[Entry]| -> Option<Fault> {
        items.iter().enumerate().find_map(|(i, e)| {
            let (expected, prev) = match (start + i).checked_sub(1).map(|j| &entries[j]) {
                Some(p) => (p.seq + 1, p.hash.as_str()),
                None => (anchor.next_seq, anchor.prev_hash.as_str()),
            };
            check_entry(e, expected, prev, device, &key)
        })
    };
    let mut faults: Vec<Fault> = if threads == 1 || entries.len() < 1024 {
        check_range(0, entries).into_iter().collect()
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = entries
                .chunks(chunk)
                .enumerate()
                .map(|(n, items)| s.spawn(move || check_range(n * chunk, items)))
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok().flatten()).collect()
        })
    };
    faults.sort_by_key(|f| f.seq);
    let mut fault = faults.into_iter().next();
    if fault.is_none() {
        let last = entries.last().map_or(anchor.next_seq - 1, |e| e.seq);
        if let Some(expected) = expected_last.filter(|x| *x > last) {
            fault = Some(Fault {
                seq: last + 1,
                kind: FaultKind::Truncated,
                detail: format!("entries {}..{expected} are missing at the end", last + 1),
            });
        }
    }
    summary(fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64, signer: &Ed25519Signer) -> Vec<Entry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let e = seal(
                    &Event::new("sale", "ok").actor(3, "Jonas").subject("receipt", seq).amount(450, "EUR"),
                    &Position {
                        device: "dev-1",
                        seq,
                        at: "2026-11-21T09:00:00.000000Z",
                        offset: "+01:00",
                        prev: &prev,
                    },
                    signer,
                )
                .unwrap();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies_and_each_tampering_is_named() {
        let signer = Ed25519Signer::from_seed(&[7; 32]);
        let pk = signer.public_key();
        let good = chain(2000, &signer);
        let v = verify(&good, &Anchor::genesis(), "dev-1", &pk, Some(2000), 2);
        assert_eq!(v.fault, None);
        assert_eq!(v.entries, 2000);

        let check = |entries: &[Entry], seq: u64, kind: FaultKind| {
            for threads in [1, 2, 3] {
                let f = verify(entries, &Anchor::genesis(), "dev-1", &pk, Some(2000), threads).fault.unwrap();
                assert_eq!((f.seq, f.kind), (seq, kind), "{f:?}");
            }
        };
        let mut edited = good.clone();
        edited[1500].body = edited[1500].body.replace("450", "45");
        check(&edited, 1501, FaultKind::HashMismatch);

        let mut resealed = good.clone();
        resealed[1500].body = resealed[1500].body.replace("450", "45");
        resealed[1500].hash = sha256_hex(resealed[1500].body.as_bytes());
        check(&resealed, 1501, FaultKind::BadSignature);

        let mut deleted = good.clone();
        deleted.remove(999);
        check(&deleted, 1000, FaultKind::Gap);

        // Rows keep their numbers; their contents trade places.
        let mut swapped = good.clone();
        let (a, b) = (swapped[10].clone(), swapped[11].clone());
        swapped[10] = Entry { seq: a.seq, ..b.clone() };
        swapped[11] = Entry { seq: b.seq, ..a };
        check(&swapped, 11, FaultKind::Reordering);

        let forger = Ed25519Signer::from_seed(&[9; 32]);
        let mut forged = good.clone();
        let fake = seal(
            &Event::new("sale", "ok"),
            &Position { device: "dev-1", seq: 2001, at: "x", offset: "+00:00", prev: &good[1999].hash },
            &forger,
        )
        .unwrap();
        forged.push(fake);
        let f = verify(&forged, &Anchor::genesis(), "dev-1", &pk, None, 2).fault.unwrap();
        assert_eq!((f.seq, f.kind), (2001, FaultKind::BadSignature));

        let f = verify(&good[..1990], &Anchor::genesis(), "dev-1", &pk, Some(2000), 2).fault.unwrap();
        assert_eq!((f.seq, f.kind), (1991, FaultKind::Truncated));
    }
}
