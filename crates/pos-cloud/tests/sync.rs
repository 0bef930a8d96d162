//! The sync API against a real PostgreSQL: enrolment, tokens, exactly-once push, the audit chain,
//! pull, and malformed input.

mod common;

use common::*;
use ed25519_dalek::SigningKey;
use pos_cloud::testing::TestCloud;
use pos_cloud::token::{DeviceClaims, TokenKey};
use pos_sync_protocol::api::{CatalogItem, PullResponse, PushRequest, RecordStatus};
use pos_sync_protocol::{CashMoved, Operation, RefundLine, RefundPayout, RefundRecorded, ShiftOpened};
use proptest::prelude::*;

#[test]
fn an_enrolment_code_works_once_and_the_token_needs_the_device_key() {
    let cloud = TestCloud::start("sync_enrol");
    let t = cloud.create_tenant("Linden");
    let dev = enroll(&cloud, t, 1);

    // The same code again, for another device: refused.
    let code = cloud.enrolment_code(t);
    let req = |id: uuid::Uuid, code: &str| {
        serde_json::json!({
            "code": code, "device_id": id.to_string(), "device_name": "Till",
            "device_public_key": hex::encode(SigningKey::from_bytes(&seed(9)).verifying_key().to_bytes()),
            "audit_public_key": hex::encode(SigningKey::from_bytes(&seed(10)).verifying_key().to_bytes()),
        })
    };
    let url = format!("{}/v1/devices/enroll", cloud.url());
    assert_eq!(
        post(&url, None, &req(uuid::Uuid::now_v7(), &code.to_lowercase())).0,
        200,
        "codes ignore case and dashes"
    );
    let (status, body) = post(&url, None, &req(uuid::Uuid::now_v7(), &code));
    assert_eq!(status, 403, "{body}");
    assert_eq!(post(&url, None, &req(uuid::Uuid::now_v7(), "AAAAA-BBBBB-CCCCC")).0, 403);
    // An already enrolled device cannot enrol again (its key cannot be replaced that way).
    assert_eq!(post(&url, None, &req(dev.id, &cloud.enrolment_code(t))).0, 409);
    // But a retry of an enrolment whose answer was lost gets the same answer again.
    let code = cloud.enrolment_code(t);
    let id = uuid::Uuid::now_v7();
    let (status, first) = post(&url, None, &req(id, &code));
    assert_eq!(status, 200, "{first}");
    let (status, again) = post(&url, None, &req(id, &code));
    assert_eq!((status, &again), (200, &first));
    let mut other_key = req(id, &code);
    other_key["device_public_key"] = hex::encode(SigningKey::from_bytes(&seed(11)).verifying_key().to_bytes()).into();
    assert_eq!(post(&url, None, &other_key).0, 409, "a replay with another key is a second enrolment");

    // A token signed by another key is refused, and so is a challenge used twice.
    let (status, _) = token_signed_by(&cloud, dev.id, &SigningKey::from_bytes(&seed(200))).unwrap_err();
    assert_eq!(status, 401);
    let body = signed_token_request(&cloud, &dev);
    assert_eq!(post(&format!("{}/v1/devices/token", cloud.url()), None, &body).0, 200);
    assert_eq!(post(&format!("{}/v1/devices/token", cloud.url()), None, &body).0, 401, "a challenge is single-use");
}

#[test]
fn tokens_expired_forged_edited_or_revoked_are_refused() {
    let cloud = TestCloud::start("sync_tokens");
    let t = cloud.create_tenant("Linden");
    let dev = enroll(&cloud, t, 1);
    let pull = |token: &str| get(&format!("{}/v1/sync/pull?cursor=0", cloud.url()), Some(token)).0;
    assert_eq!(pull(&dev.token), 200);
    assert_eq!(pull("v1.e30.00"), 401);
    assert_eq!(get(&format!("{}/v1/sync/pull", cloud.url()), None).0, 401);

    // Forged: right claims, wrong key.
    let claims = DeviceClaims { tid: t.tenant, vid: t.venue, did: dev.id, exp: pos_cloud::http::now_unix() + 600 };
    assert_eq!(pull(&TokenKey::new([7; 32]).issue(&claims)), 401);

    // Expired: the service's own key, an expiry in the past.
    let admin = cloud.admin();
    let key: Vec<u8> = cloud.block_on(async {
        admin.query_one("SELECT value FROM service_keys WHERE name = 'access_token'", &[]).await.unwrap().get(0)
    });
    let real = TokenKey::new(key.try_into().unwrap());
    assert_eq!(pull(&real.issue(&claims)), 200, "the test's claims are right");
    assert_eq!(pull(&real.issue(&DeviceClaims { exp: pos_cloud::http::now_unix() - 1, ..claims.clone() })), 401);

    // Revoked: the current token runs out, and no new one is issued.
    cloud.revoke(t, dev.id);
    let (status, body) = token(&cloud, &dev).unwrap_err();
    assert_eq!((status, body["code"].as_str()), (403, Some("revoked")));
}

#[test]
fn a_token_lives_at_most_fifteen_minutes() {
    let cloud = TestCloud::start_with(
        "sync_token_ttl",
        pos_cloud::state::Config { access_token_seconds: 24 * 3600, ..Default::default() },
    );
    let t = cloud.create_tenant("Linden");
    let dev = enroll(&cloud, t, 1);
    let request = signed_token_request(&cloud, &dev);
    let (_, body) = post(&format!("{}/v1/devices/token", cloud.url()), None, &request);
    assert_eq!(body["expires_in_s"], 900);
}

#[test]
fn a_push_is_stored_exactly_once_and_a_different_payload_under_the_same_id_is_refused() {
    let cloud = TestCloud::start("sync_exactly_once");
    let t = cloud.create_tenant("Linden");
    let mut dev = enroll(&cloud, t, 1);
    let shift = dev.next(&Operation::ShiftOpened(ShiftOpened {
        shift_id: "shift-1".into(),
        business_day: "2026-11-21".into(),
        staff_id: 3,
        at: "2026-11-21T08:00:00Z".into(),
        currency: "EUR".into(),
        float: 15000,
    }));
    let s1 = sale(1, 450, false);
    let s2 = sale(2, 1290, true);
    let r1 = dev.next(&Operation::SaleRecorded(s1.clone()));
    let r2 = dev.next(&Operation::SaleRecorded(s2.clone()));
    let refund = dev.next(&Operation::RefundRecorded(RefundRecorded {
        refund_id: uuid::Uuid::now_v7().to_string(),
        receipt_no: 3,
        order_id: s2.order_id.clone(),
        shift_id: "shift-1".into(),
        business_day: "2026-11-21".into(),
        staff_id: 2,
        at: "2026-11-21T10:00:00Z".into(),
        reason: "cold".into(),
        amount: 1290,
        tax_total: 206,
        rounding: 0,
        total: 1290,
        lines: vec![RefundLine { line_no: 1, qty_milli: 1000, amount: 1290, taxes: vec![] }],
        taxes: vec![],
        payouts: vec![RefundPayout { payment_seq: 1, kind: "card".into(), amount: 1290 }],
    }));
    let paid_out = dev.next(&Operation::CashMoved(CashMoved {
        movement_id: "m1".into(),
        shift_id: "shift-1".into(),
        kind: "paid_out".into(),
        amount: 250,
        reason: "milk".into(),
        staff_id: 3,
        at: "2026-11-21T11:00:00Z".into(),
    }));
    let batch = PushRequest { records: vec![shift, r1.clone(), r2, refund, paid_out], audit: dev.audit_entries(3) };
    let first = dev.push_ok(&cloud, &batch);
    assert!(first.results.iter().all(|r| r.status == RecordStatus::Stored), "{first:?}");
    assert_eq!(first.audit.held_through, 3);

    // The same batch again (a lost acknowledgement): all duplicates, nothing stored twice.
    let again = dev.push_ok(&cloud, &batch);
    assert!(again.results.iter().all(|r| r.status == RecordStatus::Duplicate), "{again:?}");
    assert_eq!(again.audit.held_through, 3);
    assert_eq!(count(&cloud, t, "SELECT count(*) FROM orders"), 2);
    assert_eq!(count(&cloud, t, "SELECT sum(total) FROM orders"), 1740);
    assert_eq!(count(&cloud, t, "SELECT count(*) FROM refunds"), 1);
    assert_eq!(count(&cloud, t, "SELECT count(*) FROM shift_events"), 2);
    assert_eq!(count(&cloud, t, "SELECT count(*) FROM payments WHERE card_last4 = '4242'"), 1);
    assert_eq!(count(&cloud, t, "SELECT count(*) FROM audit_entries"), 3);
    assert_eq!(count(&cloud, t, "SELECT count(*) FROM sync_ops"), 5);

    // Same operation id, another payload: refused, the stored one unchanged.
    let mut forged = record(r1.seq, &Operation::SaleRecorded(sale(1, 99_999, false)));
    forged.op_id = r1.op_id.clone();
    let resp = dev.push_ok(&cloud, &PushRequest { records: vec![forged], audit: vec![] });
    assert_eq!(resp.results[0].status, RecordStatus::Rejected);
    assert_eq!(resp.results[0].code.as_deref(), Some("hash_mismatch"));
    assert_eq!(count(&cloud, t, "SELECT sum(total) FROM orders"), 1740);

    // The same sale under a new operation id (a register bug or a replay): refused as well.
    let replay = dev.next(&Operation::SaleRecorded(s1));
    let resp = dev.push_ok(&cloud, &PushRequest { records: vec![replay], audit: vec![] });
    assert_eq!(resp.results[0].status, RecordStatus::Rejected);
    assert_eq!(count(&cloud, t, "SELECT count(*) FROM orders"), 2);
    assert_eq!(count(&cloud, t, "SELECT count(*) FROM rejected_ops"), 2);
}

#[test]
fn an_invalid_record_is_rejected_without_holding_back_the_rest() {
    let cloud = TestCloud::start("sync_invalid");
    let t = cloud.create_tenant("Linden");
    let mut dev = enroll(&cloud, t, 1);
    let good1 = dev.next(&Operation::SaleRecorded(sale(1, 450, false)));
    let mut bad_sale = sale(2, 300, false);
    bad_sale.lines[0].qty_milli = -1000;
    let bad = dev.next(&Operation::SaleRecorded(bad_sale));
    let mut bad_hash = dev.next(&Operation::SaleRecorded(sale(3, 300, false)));
    bad_hash.payload_hash = "00".repeat(32);
    let mut card_number = sale(4, 300, true);
    card_number.payments[0].card.as_mut().unwrap().last4 = "4111111111111111".into();
    let pan = dev.next(&Operation::SaleRecorded(card_number));
    let good2 = dev.next(&Operation::SaleRecorded(sale(5, 550, false)));
    let resp = dev.push_ok(&cloud, &PushRequest { records: vec![good1, bad, bad_hash, pan, good2], audit: vec![] });
    let statuses: Vec<RecordStatus> = resp.results.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            RecordStatus::Stored,
            RecordStatus::Rejected,
            RecordStatus::Rejected,
            RecordStatus::Rejected,
            RecordStatus::Stored
        ]
    );
    assert!(resp.results[1].message.as_deref().unwrap().contains("quantity"), "{:?}", resp.results[1]);
    assert_eq!(count(&cloud, t, "SELECT count(*) FROM orders"), 2);
    assert_eq!(count(&cloud, t, "SELECT count(*) FROM rejected_ops"), 3);
    assert_eq!(count(&cloud, t, "SELECT count(*) FROM payments WHERE length(card_last4) > 4"), 0);
}

#[test]
fn the_audit_chain_is_verified_as_it_arrives_and_a_broken_link_is_flagged() {
    let cloud = TestCloud::start("sync_audit");
    let t = cloud.create_tenant("Linden");
    let mut dev = enroll(&cloud, t, 1);
    let first = dev.audit_entries(5);
    assert_eq!(dev.push_ok(&cloud, &PushRequest { records: vec![], audit: first.clone() }).audit.held_through, 5);

    // Continues: entries 4..=8 (4 and 5 again, as a retry would send them).
    let more = dev.audit_entries(3);
    let overlap: Vec<_> = first[3..].iter().cloned().chain(more).collect();
    let ack = dev.push_ok(&cloud, &PushRequest { records: vec![], audit: overlap }).audit;
    assert_eq!((ack.held_through, ack.fault), (8, None));

    // Entry 10 edited: 9 is kept, 10 and after are refused, the device is flagged.
    let mut next = dev.audit_entries(3);
    next[1].body = next[1].body.replace("\"receipt\":10", "\"receipt\":11");
    let ack = dev.push_ok(&cloud, &PushRequest { records: vec![], audit: next }).audit;
    assert_eq!(ack.held_through, 9);
    let fault = ack.fault.unwrap();
    assert_eq!((fault.seq, fault.kind.as_str()), (10, "hash_mismatch"));
    assert_eq!(count(&cloud, t, "SELECT count(*) FROM audit_entries"), 9);
    assert_eq!(count(&cloud, t, "SELECT count(*) FROM devices WHERE audit_fault IS NOT NULL"), 1);

    // Entries signed by another key do not continue the chain either.
    let mut impostor = enroll(&cloud, t, 2);
    impostor.id = dev.id;
    impostor.token = dev.token.clone();
    impostor.audit_chain = dev.audit_chain[..9].to_vec();
    let forged = impostor.audit_entries(1);
    let ack = dev.push_ok(&cloud, &PushRequest { records: vec![], audit: forged }).audit;
    assert_eq!((ack.held_through, ack.fault.map(|f| f.kind)), (9, Some("bad_signature".to_string())));
}

#[test]
fn audit_entries_cannot_be_changed_even_by_the_service_role() {
    let cloud = TestCloud::start("sync_audit_append_only");
    let t = cloud.create_tenant("Linden");
    let mut dev = enroll(&cloud, t, 1);
    let entries = dev.audit_entries(2);
    dev.push_ok(&cloud, &PushRequest { records: vec![], audit: entries });
    let mut service = cloud.service_client();
    let mut admin = cloud.admin();
    for (who, client) in [("service", &mut service), ("owner", &mut admin)] {
        for sql in
            ["UPDATE audit_entries SET body = 'x'", "DELETE FROM audit_entries", "TRUNCATE audit_entries CASCADE"]
        {
            let result = cloud.block_on(async {
                let tx = pos_cloud::db::tenant_tx(client, t.tenant).await.unwrap();
                tx.batch_execute(sql).await
            });
            assert!(result.is_err(), "{who}: {sql} must be refused");
        }
    }
    assert_eq!(count(&cloud, t, "SELECT count(*) FROM audit_entries"), 2);
}

#[test]
fn pull_returns_what_changed_after_the_cursor_for_the_devices_venue_only() {
    let cloud = TestCloud::start("sync_pull");
    let t = cloud.create_tenant("Linden");
    let other = cloud.create_tenant("Elsewhere");
    let dev = enroll(&cloud, t, 1);
    let item = |sku: &str, price: &str| CatalogItem {
        sku: sku.into(),
        product: "Latte".into(),
        variant: "large".into(),
        category: "Coffee".into(),
        price: price.into(),
        tax_class: "Standard".into(),
        barcodes: vec!["4006381333931".into()],
        weighed: false,
        active: true,
    };
    let put = |tenant: pos_cloud::testing::TestTenant, items: Vec<CatalogItem>| {
        let mut admin = cloud.admin();
        cloud.block_on(async {
            let tx = pos_cloud::db::tenant_tx(&mut admin, tenant.tenant).await.unwrap();
            pos_cloud::pull::put_catalog(&tx, tenant.tenant, tenant.venue, &items).await.unwrap();
            tx.commit().await.unwrap();
        })
    };
    put(t, vec![item("LATTE-L", "3.90"), item("LATTE-S", "3.20")]);
    put(other, vec![item("SECRET", "1.00")]);
    let pull = |cursor: i64| -> PullResponse {
        let (status, body) = get(&format!("{}/v1/sync/pull?cursor={cursor}", cloud.url()), Some(&dev.token));
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).unwrap()
    };
    let all = pull(0);
    assert_eq!(all.catalog.len(), 2);
    assert_eq!(all.venue.unwrap().name, "Linden café");
    assert!(all.cursor > 0);
    assert!(pull(all.cursor).is_empty());
    put(t, vec![item("LATTE-L", "4.10")]);
    let changed = pull(all.cursor);
    assert_eq!(changed.catalog.len(), 1);
    assert_eq!(changed.catalog[0].price, "4.10");
    assert!(changed.cursor > all.cursor);
    assert_eq!(get(&format!("{}/v1/sync/pull?cursor=-1", cloud.url()), Some(&dev.token)).0, 422);
}

#[test]
fn malformed_pushes_are_refused_and_change_nothing() {
    let cloud = TestCloud::start("sync_malformed");
    let t = cloud.create_tenant("Linden");
    let mut dev = enroll(&cloud, t, 1);
    let url = format!("{}/v1/sync/push", cloud.url());
    for body in [&b"{"[..], b"[]", b"null", b"{\"records\": 5, \"audit\": []}", b"\xff\xfe", b""] {
        let (status, resp) = post_raw(&url, Some(&dev.token), body);
        assert_eq!(status, 400, "{:?} → {resp}", String::from_utf8_lossy(body));
        assert_eq!(resp["code"], "malformed");
    }
    let too_many = PushRequest {
        records: (0..501).map(|i| record(i + 1, &Operation::SaleRecorded(sale(i, 100, false)))).collect(),
        audit: vec![],
    };
    assert_eq!(dev.push(&cloud, &too_many).0, 413);
    let mut bad = dev.next(&Operation::SaleRecorded(sale(1, 100, false)));
    bad.seq = 0;
    let resp = dev.push_ok(&cloud, &PushRequest { records: vec![bad], audit: vec![] });
    assert_eq!(resp.results[0].status, RecordStatus::Rejected);
    assert_eq!(count(&cloud, t, "SELECT count(*) FROM sync_ops"), 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random values in every numeric field of a sale: either stored whole or rejected whole,
    /// never an error of the service and never half a sale.
    #[test]
    fn out_of_range_values_are_rejected_cleanly(
        total in prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(-1i64), any::<i64>(), 0i64..100_000],
        qty in prop_oneof![Just(0i64), Just(i64::MIN), any::<i64>(), 1i64..10_000],
        line_no in any::<u32>(),
        receipt in any::<i64>(),
        rate in any::<i64>(),
        junk in "\\PC{0,40}",
    ) {
        let cloud = shared_cloud();
        let (t, dev) = &*cloud.1;
        let mut s = sale(receipt, total, false);
        s.lines[0].qty_milli = qty;
        s.lines[0].line_no = line_no;
        s.taxes[0].rate_ppm = rate;
        s.lines[0].name = junk;
        let before = count(&cloud.0, *t, "SELECT count(*) FROM orders");
        let rec = record(next_seq(), &Operation::SaleRecorded(s));
        let (status, body) = dev.push(&cloud.0, &PushRequest { records: vec![rec], audit: vec![] });
        prop_assert_eq!(status, 200, "{}", body);
        let after = count(&cloud.0, *t, "SELECT count(*) FROM orders");
        let stored = body["results"][0]["status"] == "stored";
        prop_assert_eq!(after - before, i64::from(stored));
        prop_assert_eq!(count(&cloud.0, *t, "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.order_id)"), 0);
    }

    /// Arbitrary bytes and arbitrary JSON as a push body: a 400, nothing stored.
    #[test]
    fn arbitrary_bodies_are_refused(body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let cloud = shared_cloud();
        let (t, dev) = &*cloud.1;
        let before = count(&cloud.0, *t, "SELECT count(*) FROM sync_ops");
        let (status, _) = post_raw(&format!("{}/v1/sync/push", cloud.0.url()), Some(&dev.token), &body);
        prop_assert!(status == 400 || status == 200, "status {}", status);
        prop_assert_eq!(count(&cloud.0, *t, "SELECT count(*) FROM sync_ops"), before);
    }
}

type Shared = (TestCloud, Box<(pos_cloud::testing::TestTenant, Dev)>);

fn shared_cloud() -> &'static Shared {
    static CLOUD: std::sync::OnceLock<Shared> = std::sync::OnceLock::new();
    CLOUD.get_or_init(|| {
        let cloud = TestCloud::start("sync_fuzz");
        let t = cloud.create_tenant("Fuzz");
        let dev = enroll(&cloud, t, 1);
        (cloud, Box::new((t, dev)))
    })
}

fn next_seq() -> i64 {
    static SEQ: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1);
    SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}
