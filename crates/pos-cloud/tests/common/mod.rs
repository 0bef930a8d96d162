//! Shared by the service's tests: a register-like device speaking the real HTTP API.

#![allow(dead_code)]

use ed25519_dalek::{Signer as _, SigningKey};
use pos_audit::{Ed25519Signer, Entry, Event, GENESIS, Position};
use pos_cloud::testing::{TestCloud, TestTenant};
use pos_sync_protocol::api::{self, PushAuditEntry, PushRecord, PushRequest, PushResponse};
use pos_sync_protocol::{CardDetails, LineTax, Operation, RateTotal, SaleLine, SalePayment, SaleRecorded};
use uuid::Uuid;

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// (status, body as JSON or Null)
pub fn post(url: &str, token: Option<&str>, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let mut req = agent().post(url);
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let mut resp = req.send_json(body).expect("the service answers");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_json().unwrap_or(serde_json::Value::Null))
}

pub fn post_raw(url: &str, token: Option<&str>, body: &[u8]) -> (u16, serde_json::Value) {
    let mut req = agent().post(url).header("Content-Type", "application/json");
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let mut resp = req.send(body).expect("the service answers");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_json().unwrap_or(serde_json::Value::Null))
}

pub fn get(url: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut req = agent().get(url);
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let mut resp = req.call().expect("the service answers");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_json().unwrap_or(serde_json::Value::Null))
}

/// An enrolled register: its id, device key, audit key and a current token.
pub struct Dev {
    pub id: Uuid,
    pub key: SigningKey,
    pub audit: Ed25519Signer,
    pub audit_seed: [u8; 32],
    pub token: String,
    pub tenant: TestTenant,
    pub next_seq: i64,
    pub audit_chain: Vec<Entry>,
}

pub fn seed(n: u8) -> [u8; 32] {
    let mut s = [n; 32];
    s[0] = n.wrapping_mul(31).wrapping_add(7);
    s
}

pub fn enroll(cloud: &TestCloud, tenant: TestTenant, n: u8) -> Dev {
    let key = SigningKey::from_bytes(&seed(n));
    let audit_seed = seed(n.wrapping_add(100));
    let audit = Ed25519Signer::from_seed(&audit_seed);
    let id = Uuid::now_v7();
    let code = cloud.enrolment_code(tenant);
    let (status, body) = post(
        &format!("{}/v1/devices/enroll", cloud.url()),
        None,
        &serde_json::to_value(api::EnrollRequest {
            code,
            device_id: id.to_string(),
            device_name: format!("Till {n}"),
            device_public_key: hex::encode(key.verifying_key().to_bytes()),
            audit_public_key: hex::encode(pos_audit::Signer::public_key(&audit)),
        })
        .unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    let mut dev =
        Dev { id, key, audit, audit_seed, token: String::new(), tenant, next_seq: 1, audit_chain: Vec::new() };
    dev.token = token(cloud, &dev).expect("a token");
    dev
}

/// Signs a fresh challenge with the device key; Err((status, body)) when refused.
pub fn token(cloud: &TestCloud, dev: &Dev) -> Result<String, (u16, serde_json::Value)> {
    token_signed_by(cloud, dev.id, &dev.key)
}

/// A token request for `dev`: a fresh challenge signed with its device key (not yet sent).
pub fn signed_token_request(cloud: &TestCloud, dev: &Dev) -> serde_json::Value {
    let (_, ch) = post(
        &format!("{}/v1/devices/challenge", cloud.url()),
        None,
        &serde_json::json!({ "device_id": dev.id.to_string() }),
    );
    let challenge = ch["challenge"].as_str().expect("a challenge");
    let signature = hex::encode(dev.key.sign(&api::token_message(&dev.id.to_string(), challenge)).to_bytes());
    serde_json::json!({ "device_id": dev.id.to_string(), "challenge": challenge, "signature": signature })
}

pub fn token_signed_by(cloud: &TestCloud, device: Uuid, key: &SigningKey) -> Result<String, (u16, serde_json::Value)> {
    let (status, body) = post(
        &format!("{}/v1/devices/challenge", cloud.url()),
        None,
        &serde_json::json!({ "device_id": device.to_string() }),
    );
    if status != 200 {
        return Err((status, body));
    }
    let challenge = body["challenge"].as_str().unwrap().to_owned();
    let signature = hex::encode(key.sign(&api::token_message(&device.to_string(), &challenge)).to_bytes());
    let (status, body) = post(
        &format!("{}/v1/devices/token", cloud.url()),
        None,
        &serde_json::json!({ "device_id": device.to_string(), "challenge": challenge, "signature": signature }),
    );
    if status != 200 {
        return Err((status, body));
    }
    Ok(body["access_token"].as_str().unwrap().to_owned())
}

/// A plausible paid sale of `total` cents: one line at 19 % VAT, cash or card.
pub fn sale(receipt_no: i64, total: i64, card: bool) -> SaleRecorded {
    let tax = total.wrapping_mul(19) / 119;
    SaleRecorded {
        order_id: Uuid::now_v7().to_string(),
        receipt_no,
        shift_id: "shift-1".into(),
        business_day: "2026-11-21".into(),
        staff_id: 3,
        opened_at: "2026-11-21T09:00:00Z".into(),
        paid_at: "2026-11-21T09:01:00Z".into(),
        currency: "EUR".into(),
        subtotal: total,
        discount_total: 0,
        tax_total: tax,
        total,
        rounding: 0,
        change_due: 0,
        lines: vec![SaleLine {
            line_no: 1,
            sku_id: 1,
            sku_code: "LATTE-L".into(),
            name: "Latte, large".into(),
            product_id: 10,
            category_id: 2,
            category: "Coffee".into(),
            product: "Coffee".into(),
            qty_milli: 1000,
            list_price: total,
            unit_price: total,
            extended: total,
            line_discount: 0,
            order_discount: 0,
            amount: total,
            taxes: vec![LineTax { rate_id: 1, tax }],
        }],
        taxes: vec![RateTotal { rate_id: 1, code: "A".into(), rate_ppm: 190_000, base: total.wrapping_sub(tax), tax }],
        payments: vec![SalePayment {
            seq: 1,
            kind: if card { "card" } else { "cash" }.into(),
            amount: total,
            tendered: total,
            change: 0,
            card: card.then(|| CardDetails {
                last4: "4242".into(),
                scheme: "VISA".into(),
                auth_code: "A1B2C3".into(),
                terminal_ref: "T-1".into(),
            }),
        }],
    }
}

pub fn record(seq: i64, op: &Operation) -> PushRecord {
    pos_cloud::testing::push_record(seq, op)
}

impl Dev {
    /// The next outbox record of this device.
    pub fn next(&mut self, op: &Operation) -> PushRecord {
        let r = record(self.next_seq, op);
        self.next_seq += 1;
        r
    }

    /// Appends `n` entries to this device's audit chain and returns them as pushed.
    pub fn audit_entries(&mut self, n: usize) -> Vec<PushAuditEntry> {
        (0..n)
            .map(|_| {
                let seq = self.audit_chain.len() as u64 + 1;
                let prev = self.audit_chain.last().map_or(GENESIS.to_string(), |e| e.hash.clone());
                let id = self.id.to_string();
                let e = pos_audit::seal(
                    &Event::new("sale", "ok").actor(3, "Jonas").subject("receipt", seq),
                    &Position { device: &id, seq, at: "2026-11-21T09:00:00.000000Z", offset: "+01:00", prev: &prev },
                    &self.audit,
                )
                .unwrap();
                self.audit_chain.push(e.clone());
                PushAuditEntry { seq: e.seq, body: e.body, hash: e.hash, signature: e.signature }
            })
            .collect()
    }

    pub fn push(&self, cloud: &TestCloud, req: &PushRequest) -> (u16, serde_json::Value) {
        post(&format!("{}/v1/sync/push", cloud.url()), Some(&self.token), &serde_json::to_value(req).unwrap())
    }

    pub fn push_ok(&self, cloud: &TestCloud, req: &PushRequest) -> PushResponse {
        let (status, body) = self.push(cloud, req);
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).unwrap()
    }
}

pub fn count(cloud: &TestCloud, tenant: TestTenant, sql: &str) -> i64 {
    cloud.query_text(tenant.tenant, sql)[0].parse().unwrap()
}

/// Creates an owner for `tenant` and signs in with password and TOTP: the session token.
pub fn owner_session(cloud: &TestCloud, t: TestTenant, email: &str) -> String {
    cloud.owner_session(t, email)
}

pub fn put(url: &str, token: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let mut resp =
        agent().put(url).header("Authorization", &format!("Bearer {token}")).send_json(body).expect("answers");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_json().unwrap_or(serde_json::Value::Null))
}
