//! The HTTP API between a register and the cloud service, version 1.
//!
//! Every body is JSON. Every path starts with `/v1/`. Errors are [`ApiError`] with an HTTP status
//! that says how the caller must react (see `docs/sync-protocol.md`): 401 → get a new token with
//! the device key; 403 → stop (revoked or not allowed); 400/422 → the request itself is wrong;
//! 409 → the same operation is in flight elsewhere, retry later; 429/5xx/network → back off and retry.
//!
//! Byte strings (keys, signatures, hashes, challenges) are lowercase hex.

use serde::{Deserialize, Serialize};

/// The most records one push may carry; a larger batch is refused with 413.
pub const MAX_PUSH_RECORDS: usize = 500;
/// The most audit entries one push may carry.
pub const MAX_PUSH_AUDIT: usize = 2000;
/// The largest push body the service reads, in bytes.
pub const MAX_PUSH_BYTES: usize = 8 * 1024 * 1024;
/// How long an access token lives. Refreshing needs the device key.
pub const ACCESS_TOKEN_SECONDS: u64 = 15 * 60;

/// What a device signs to get an access token: a fixed prefix, its device id and the challenge.
pub fn token_message(device_id: &str, challenge: &str) -> Vec<u8> {
    format!("pos-cloud token v1\n{device_id}\n{challenge}").into_bytes()
}

/// The error body of every failed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// A stable, machine-readable code, e.g. `unauthorized`, `invalid`, `revoked`.
    pub code: String,
    pub message: String,
}

/// `POST /v1/devices/enroll` — no token; the one-time code is the credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub code: String,
    /// The register's own device id (the one its audit chain names).
    pub device_id: String,
    pub device_name: String,
    /// Ed25519 key that signs token challenges; its private half stays in the credential store.
    pub device_public_key: String,
    /// Ed25519 key of the register's audit chain.
    pub audit_public_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub device_id: String,
    pub tenant_id: String,
    pub venue_id: String,
    pub venue_name: String,
}

/// `POST /v1/devices/challenge` — no token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeRequest {
    pub device_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeResponse {
    pub challenge: String,
    pub expires_in_s: u64,
}

/// `POST /v1/devices/token` — the signature is over [`token_message`]. A challenge is single-use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    pub device_id: String,
    pub challenge: String,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in_s: u64,
}

/// One outbox record as pushed. `payload` is the exact outbox bytes (UTF-8 JSON of
/// [`crate::Operation`]); `payload_hash` is their SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRecord {
    pub seq: i64,
    pub op_id: String,
    pub kind: String,
    pub payload: String,
    pub payload_hash: String,
}

/// One audit entry as pushed: the register's stored entry, unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushAuditEntry {
    pub seq: u64,
    pub body: String,
    pub hash: String,
    pub signature: String,
}

/// `POST /v1/sync/push` (device token). Records in outbox order; audit entries continue the chain
/// from what the service already holds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PushRequest {
    pub records: Vec<PushRecord>,
    pub audit: Vec<PushAuditEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// Stored now.
    Stored,
    /// Already stored earlier with the same payload hash (a retry): nothing changed.
    Duplicate,
    /// Refused; the register quarantines it and goes on with the rest.
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordResult {
    pub op_id: String,
    pub seq: i64,
    pub status: RecordStatus,
    /// Why it was rejected: `hash_mismatch`, `invalid`, `unsupported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl RecordResult {
    /// Stored or duplicate: the cloud holds it and the register may mark it acknowledged.
    pub fn acknowledged(&self) -> bool {
        matches!(self.status, RecordStatus::Stored | RecordStatus::Duplicate)
    }
}

/// Where the service's copy of the device's audit chain stands after a push.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditAck {
    /// The highest sequence number the service holds, verified and contiguous from 1.
    pub held_through: u64,
    /// Set when the pushed entries do not continue the chain (the service keeps what it held).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<ChainFault>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainFault {
    pub seq: u64,
    /// `gap`, `reordering`, `hash_mismatch`, `chain_broken`, `bad_signature`, `malformed`.
    pub kind: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PushResponse {
    /// One result per pushed record, in the order pushed.
    pub results: Vec<RecordResult>,
    pub audit: AuditAck,
}

/// `GET /v1/sync/pull?cursor=N` (device token): everything of the device's venue changed after
/// `cursor`, in one answer. The register applies it in one transaction, then stores `cursor`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PullResponse {
    pub cursor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<VenueSettings>,
    /// Tax classes changed since `cursor`, each whole. Applied before the catalog, so an item may
    /// name a class that arrives in the same answer.
    #[serde(default)]
    pub taxes: Vec<TaxClassDef>,
    pub catalog: Vec<CatalogItem>,
    pub staff: Vec<StaffMember>,
    /// Named JSON documents (`override_policy`, `lockout`, `auto_lock`), as the register stores them.
    pub settings: Vec<Setting>,
}

impl PullResponse {
    pub fn is_empty(&self) -> bool {
        self.venue.is_none()
            && self.taxes.is_empty()
            && self.catalog.is_empty()
            && self.staff.is_empty()
            && self.settings.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueSettings {
    pub name: String,
}

/// The most rates one tax class may have.
pub const MAX_CLASS_RATES: usize = 4;

/// A tax class as the venue's owner keeps it: the name catalog items use, and every rate it
/// applies now (a class with a federal and a provincial part has two). A rate missing from a later
/// version of the class is retired on the register; a changed percentage becomes a new rate there,
/// so what was sold before keeps the rate it was sold at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxClassDef {
    pub name: String,
    pub rates: Vec<TaxRateDef>,
}

/// One rate of a class. `code` is what receipts print beside a line (`A`, `B`); `rate_ppm` is the
/// rate in millionths (19 % = 190000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRateDef {
    pub code: String,
    pub name: String,
    pub rate_ppm: u32,
}

impl TaxClassDef {
    /// What is wrong with this class, if anything. The cloud refuses such a class and a register
    /// skips it, so both sides apply the same rules.
    pub fn problem(&self) -> Option<String> {
        let printable =
            |s: &str, max: usize| !s.trim().is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control);
        if !printable(&self.name, 60) {
            return Some("a tax class name needs 1 to 60 printable characters".into());
        }
        if self.rates.is_empty() || self.rates.len() > MAX_CLASS_RATES {
            return Some(format!("tax class {:?} needs 1 to {MAX_CLASS_RATES} rates", self.name));
        }
        for (i, r) in self.rates.iter().enumerate() {
            if r.code.is_empty() || r.code.len() > 8 || !r.code.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Some(format!(
                    "tax class {:?}: a rate code is 1 to 8 letters or digits, not {:?}",
                    self.name, r.code
                ));
            }
            if !printable(&r.name, 60) {
                return Some(format!(
                    "tax class {:?}: rate {} needs a name of 1 to 60 printable characters",
                    self.name, r.code
                ));
            }
            if r.rate_ppm > 1_000_000 {
                return Some(format!("tax class {:?}: rate {} is above 100 %", self.name, r.code));
            }
            if self.rates[..i].iter().any(|o| o.code == r.code) {
                return Some(format!("tax class {:?}: rate code {} appears twice", self.name, r.code));
            }
        }
        None
    }
}

/// A sellable item: the same fields as a catalog CSV row. `price` is decimal text in the venue's
/// price basis (`3.20`); `tax_class` names one of the register's tax classes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogItem {
    pub sku: String,
    pub product: String,
    pub variant: String,
    pub category: String,
    pub price: String,
    pub tax_class: String,
    pub barcodes: Vec<String>,
    pub weighed: bool,
    pub active: bool,
}

/// A staff member as the venue's owner keeps them. `pin_hash` is an Argon2id PHC string made
/// with the venue's PIN pepper, when the cloud has one; `permissions` is pos-auth's bit set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    /// The cloud's id for this person, stable across renames.
    pub id: String,
    pub name: String,
    pub role: String,
    pub permissions: u64,
    pub max_discount_bp: u32,
    pub totp_required: bool,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    pub name: String,
    pub value: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_response_round_trips_and_acknowledges_only_what_is_held() {
        let r = PushResponse {
            results: vec![
                RecordResult { op_id: "a".into(), seq: 1, status: RecordStatus::Stored, code: None, message: None },
                RecordResult {
                    op_id: "b".into(),
                    seq: 2,
                    status: RecordStatus::Rejected,
                    code: Some("hash_mismatch".into()),
                    message: Some("another payload was stored under this id".into()),
                },
            ],
            audit: AuditAck { held_through: 7, fault: None },
        };
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains(r#""status":"stored""#), "{text}");
        let back: PushResponse = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r);
        assert!(back.results[0].acknowledged());
        assert!(!back.results[1].acknowledged());
    }

    #[test]
    fn tax_classes_are_checked_the_same_on_both_sides() {
        let rate = |code: &str, ppm: u32| TaxRateDef { code: code.into(), name: format!("Rate {code}"), rate_ppm: ppm };
        let class = |name: &str, rates: Vec<TaxRateDef>| TaxClassDef { name: name.into(), rates };
        assert_eq!(class("standard", vec![rate("A", 190_000)]).problem(), None);
        assert_eq!(class("hst", vec![rate("G", 50_000), rate("P", 80_000)]).problem(), None);
        assert_eq!(class("zero", vec![rate("Z", 0)]).problem(), None);
        assert_eq!(class("full", vec![rate("X", 1_000_000)]).problem(), None);
        let bad = [
            class("", vec![rate("A", 1)]),
            class("  ", vec![rate("A", 1)]),
            class("tab\there", vec![rate("A", 1)]),
            class(&"x".repeat(61), vec![rate("A", 1)]),
            class("none", vec![]),
            class("many", (0..5).map(|i| rate(&format!("R{i}"), 1)).collect()),
            class("over", vec![rate("A", 1_000_001)]),
            class("twice", vec![rate("A", 1), rate("A", 2)]),
            class("code", vec![rate("", 1)]),
            class("code", vec![rate("A-1", 1)]),
            class("code", vec![rate("ABCDEFGHI", 1)]),
            class("rname", vec![TaxRateDef { code: "A".into(), name: String::new(), rate_ppm: 1 }]),
        ];
        for c in bad {
            assert!(c.problem().is_some(), "{c:?} passed");
        }
    }

    #[test]
    fn a_pull_without_taxes_still_parses() {
        let old = r#"{"cursor":3,"catalog":[],"staff":[],"settings":[]}"#;
        let p: PullResponse = serde_json::from_str(old).unwrap();
        assert!(p.taxes.is_empty() && p.is_empty());
    }

    #[test]
    fn the_token_message_binds_device_and_challenge() {
        assert_ne!(token_message("d1", "c"), token_message("d2", "c"));
        assert_ne!(token_message("d1", "c1"), token_message("d1", "c2"));
    }
}
