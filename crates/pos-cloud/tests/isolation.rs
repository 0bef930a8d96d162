//! One tenant never sees or changes another's data: row-level security checked directly in SQL
//! as the service's role, and every endpoint of the router asked for another tenant's ids
//! (`every_route_is_in_the_isolation_matrix` keeps that list complete).

mod common;

use common::*;
use pos_cloud::testing::{TestCloud, TestTenant};
use pos_sync_protocol::api::{CatalogItem, PullResponse, PushRequest, RecordStatus, TaxClassDef, TaxRateDef};
use pos_sync_protocol::{Operation, OrderVoided, RefundLine, RefundPayout, RefundRecorded};

/// Tables that hold tenant data: every table with a tenant_id column, and tenants itself.
fn tenant_tables(cloud: &TestCloud) -> Vec<String> {
    let admin = cloud.admin();
    cloud.block_on(async {
        admin
            .query(
                "SELECT c.table_name::text FROM information_schema.columns c \
                 JOIN information_schema.tables t USING (table_schema, table_name) \
                 WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.column_name = 'tenant_id' \
                 UNION SELECT 'tenants' ORDER BY 1",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    })
}

/// Two tenants with a device each, each with a sale, a record the service refused, audit entries,
/// a tax class and a catalog.
fn two_tenants(name: &str) -> (TestCloud, (TestTenant, Dev, String), (TestTenant, Dev, String)) {
    let cloud = TestCloud::start(name);
    let mut out = Vec::new();
    for (i, tenant_name) in ["Alpha", "Beta"].into_iter().enumerate() {
        let t = cloud.create_tenant(tenant_name);
        let mut dev = enroll(&cloud, t, i as u8 + 1);
        let s = sale(1, 1000 * (i as i64 + 1), true);
        let order_id = s.order_id.clone();
        let r = dev.next(&Operation::SaleRecorded(s));
        let mut bad = sale(2, 500, false);
        bad.lines[0].qty_milli = -1000;
        let bad = dev.next(&Operation::SaleRecorded(bad));
        let audit = dev.audit_entries(2);
        let resp = dev.push_ok(&cloud, &PushRequest { records: vec![r, bad], audit });
        assert_eq!(resp.results[0].status, RecordStatus::Stored);
        assert_eq!(resp.results[1].status, RecordStatus::Rejected);
        let mut admin = cloud.admin();
        cloud.block_on(async {
            let tx = pos_cloud::db::tenant_tx(&mut admin, t.tenant).await.unwrap();
            let item = CatalogItem {
                sku: format!("{tenant_name}-SKU"),
                product: "Secret recipe".into(),
                variant: String::new(),
                category: "Cakes".into(),
                price: "4.50".into(),
                tax_class: "Standard".into(),
                barcodes: vec![],
                weighed: false,
                active: true,
            };
            let class = TaxClassDef {
                name: "Standard".into(),
                rates: vec![TaxRateDef { code: "A".into(), name: format!("{tenant_name} VAT"), rate_ppm: 190_000 }],
            };
            pos_cloud::pull::put_taxes(&tx, t.tenant, t.venue, &[class]).await.unwrap();
            pos_cloud::pull::put_catalog(&tx, t.tenant, t.venue, &[item]).await.unwrap();
            tx.commit().await.unwrap();
        });
        out.push((t, dev, order_id));
    }
    let b = out.pop().unwrap();
    let a = out.pop().unwrap();
    (cloud, a, b)
}

#[test]
fn row_level_security_is_forced_on_every_tenant_table_and_the_service_role_cannot_bypass_it() {
    let (cloud, (a, _, _), (b, _, b_order)) = two_tenants("iso_rls");
    let tables = tenant_tables(&cloud);
    assert!(tables.len() >= 20, "{tables:?}");
    let admin = cloud.admin();
    cloud.block_on(async {
        for t in &tables {
            let row = admin
                .query_one(
                    "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = $1 AND relkind = 'r'",
                    &[t],
                )
                .await
                .unwrap();
            assert!(
                row.get::<_, bool>(0) && row.get::<_, bool>(1),
                "{t}: row-level security must be enabled and forced"
            );
        }
        let role = admin
            .query_one("SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = 'pos_service'", &[])
            .await
            .unwrap();
        assert!(!role.get::<_, bool>(0) && !role.get::<_, bool>(1) && !role.get::<_, bool>(2));
        let owned: i64 = admin
            .query_one("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = 'pos_service'", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(owned, 0, "the service role owns no table");
    });

    // As the service role: without a tenant, nothing; with tenant A, only A.
    let mut service = cloud.service_client();
    cloud.block_on(async {
        for t in &tables {
            let n: i64 = service.query_one(&format!("SELECT count(*) FROM {t}"), &[]).await.map_or(0, |r| r.get(0));
            assert_eq!(n, 0, "{t} shows rows without a tenant");
        }
        let tx = pos_cloud::db::tenant_tx(&mut service, a.tenant).await.unwrap();
        for t in ["orders", "order_lines", "payments", "devices", "audit_entries", "catalog_items", "sync_ops", "venues", "tenants"] {
            let other = if t == "tenants" { "id" } else { "tenant_id" };
            let n: i64 = tx.query_one(&format!("SELECT count(*) FROM {t} WHERE {other} <> $1"), &[&a.tenant]).await.unwrap().get(0);
            assert_eq!(n, 0, "{t}: tenant A sees another tenant's rows");
            let mine: i64 = tx.query_one(&format!("SELECT count(*) FROM {t}"), &[]).await.unwrap().get(0);
            assert!(mine > 0, "{t}: tenant A sees its own rows");
        }
        let b_order: uuid::Uuid = b_order.parse().unwrap();
        let n: i64 = tx.query_one("SELECT count(*) FROM orders WHERE order_id = $1", &[&b_order]).await.unwrap().get(0);
        assert_eq!(n, 0);
        let changed = tx.execute("UPDATE orders SET voided_at = now() WHERE order_id = $1", &[&b_order]).await.unwrap();
        assert_eq!(changed, 0, "tenant A cannot void tenant B's order");
        // Writing a row that names tenant B is refused by the policy's WITH CHECK.
        tx.batch_execute("SAVEPOINT s").await.unwrap();
        let err = tx
            .execute(
                "INSERT INTO catalog_items (tenant_id, venue_id, sku, product, category, price, tax_class) VALUES ($1, $2, 'X', 'X', 'X', '1.00', 'S')",
                &[&b.tenant, &b.venue],
            )
            .await;
        assert!(err.is_err(), "inserting a row for tenant B must fail");
        tx.batch_execute("ROLLBACK TO SAVEPOINT s").await.unwrap();
        // Nor can the scope be widened from inside: the setting is the only key.
        tx.rollback().await.unwrap();
        // A pooled connection carries no scope into the next transaction.
        let n: i64 = service.query_one("SELECT count(*) FROM orders", &[]).await.unwrap().get(0);
        assert_eq!(n, 0);
    });
    assert_eq!(count(&cloud, b, "SELECT count(*) FROM orders WHERE voided_at IS NOT NULL"), 0);
}

#[test]
fn a_device_of_tenant_a_gets_nothing_of_tenant_b_and_changes_nothing_there() {
    let (cloud, (a, mut dev_a, _), (b, dev_b, b_order)) = two_tenants("iso_devices");
    let before_b = cloud.query_text(
        b.tenant,
        "SELECT string_agg(order_id::text || total || coalesce(voided_at::text, '-'), ',') FROM orders",
    );

    // Pull: only A's catalog.
    let (status, body) = get(&format!("{}/v1/sync/pull?cursor=0", cloud.url()), Some(&dev_a.token));
    assert_eq!(status, 200);
    let pulled: PullResponse = serde_json::from_value(body).unwrap();
    assert_eq!(pulled.catalog.iter().map(|c| c.sku.as_str()).collect::<Vec<_>>(), ["Alpha-SKU"]);
    assert_eq!(pulled.taxes.iter().map(|c| c.rates[0].name.as_str()).collect::<Vec<_>>(), ["Alpha VAT"]);

    // Push: a void and a refund naming B's order, and B's own operation replayed by A.
    let void = dev_a.next(&Operation::OrderVoided(OrderVoided {
        order_id: b_order.clone(),
        receipt_no: Some(1),
        was_paid: true,
        shift_id: "shift-1".into(),
        staff_id: 2,
        at: "2026-11-21T12:00:00Z".into(),
        reason: "test".into(),
        total: 2000,
        lines: vec![],
    }));
    let refund = dev_a.next(&Operation::RefundRecorded(RefundRecorded {
        refund_id: uuid::Uuid::now_v7().to_string(),
        receipt_no: 2,
        order_id: b_order.clone(),
        shift_id: "shift-1".into(),
        business_day: "2026-11-21".into(),
        staff_id: 2,
        at: "2026-11-21T12:00:00Z".into(),
        reason: "test".into(),
        amount: 2000,
        tax_total: 0,
        rounding: 0,
        total: 2000,
        lines: vec![RefundLine { line_no: 1, qty_milli: 1000, amount: 2000, taxes: vec![] }],
        taxes: vec![],
        payouts: vec![RefundPayout { payment_seq: 1, kind: "card".into(), amount: 2000 }],
    }));
    dev_a.push_ok(&cloud, &PushRequest { records: vec![void, refund], audit: vec![] });
    let after_b = cloud.query_text(
        b.tenant,
        "SELECT string_agg(order_id::text || total || coalesce(voided_at::text, '-'), ',') FROM orders",
    );
    assert_eq!(before_b, after_b, "tenant B's orders are untouched");
    assert_eq!(count(&cloud, b, "SELECT count(*) FROM refunds"), 0);

    // Audit entries pushed with A's token land in A's device chain only, whatever they claim.
    let forged = {
        let mut d = enroll(&cloud, b, 9);
        d.id = dev_b.id;
        d.audit_chain = dev_b.audit_chain.clone();
        d.audit_entries(1)
    };
    let ack = dev_a.push_ok(&cloud, &PushRequest { records: vec![], audit: forged }).audit;
    assert!(ack.fault.is_some(), "B's chain entries do not continue A's chain");
    assert_eq!(count(&cloud, b, "SELECT count(*) FROM audit_entries"), 2);

    // Tokens: B's device cannot be driven with A's key, nor with a challenge A was given.
    let url = |p: &str| format!("{}{p}", cloud.url());
    let challenge_for = |id: uuid::Uuid| {
        let (status, body) =
            post(&url("/v1/devices/challenge"), None, &serde_json::json!({ "device_id": id.to_string() }));
        assert_eq!(status, 200, "{body}");
        body["challenge"].as_str().unwrap().to_owned()
    };
    let token_for = |id: uuid::Uuid, challenge: &str, key: &ed25519_dalek::SigningKey| {
        use ed25519_dalek::Signer;
        let signature =
            hex::encode(key.sign(&pos_sync_protocol::api::token_message(&id.to_string(), challenge)).to_bytes());
        post(
            &url("/v1/devices/token"),
            None,
            &serde_json::json!({ "device_id": id.to_string(), "challenge": challenge, "signature": signature }),
        )
        .0
    };
    let b_challenge = challenge_for(dev_b.id);
    assert_eq!(token_for(dev_b.id, &b_challenge, &dev_a.key), 401, "A's key does not open B's device");
    let a_challenge = challenge_for(dev_a.id);
    assert_eq!(token_for(dev_b.id, &a_challenge, &dev_b.key), 401, "A's challenge is not B's");
    assert_eq!(token_signed_by(&cloud, dev_b.id, &dev_a.key).unwrap_err().0, 401);
    assert_eq!(count(&cloud, a, "SELECT count(*) FROM orders"), 1);
}

/// The tenant and venue a request acts for come only from its token or session (security.md):
/// no request type the service deserialises has a field that could name a tenant, and no
/// handler takes one from the path.
#[test]
fn no_request_input_names_a_tenant() {
    let sources = [
        include_str!("../../pos-sync-protocol/src/api.rs"),
        include_str!("../src/devices.rs"),
        include_str!("../src/push.rs"),
        include_str!("../src/pull.rs"),
        include_str!("../src/owner.rs"),
        include_str!("../src/reports.rs"),
        include_str!("../src/http.rs"),
    ];
    for src in sources {
        let mut in_request_type = false;
        for line in src.lines() {
            let l = line.trim();
            if l.starts_with("#[derive") {
                in_request_type = l.contains("Deserialize");
            }
            // What the service answers is not request input.
            if l.starts_with("pub struct") && l.contains("Response") {
                in_request_type = false;
            }
            if l.starts_with('}') {
                in_request_type = false;
            }
            if in_request_type && l.starts_with("pub ") && l.contains(':') {
                let field = l.trim_start_matches("pub ").split(':').next().unwrap().trim();
                assert!(!field.contains("tenant"), "a request field names a tenant: {l}");
            }
            assert!(!(l.contains("Path<") && l.contains("tenant")), "a handler takes a tenant from its path: {l}");
        }
    }
}

/// Every owner endpoint, with tenant A's session and tenant B's ids: nothing of B comes back and
/// nothing of B changes.
#[test]
fn an_owner_of_tenant_a_gets_nothing_of_tenant_b_and_changes_nothing_there() {
    let (cloud, (a, _, _), (b, dev_b, _)) = two_tenants("iso_owners");
    let session_a = owner_session(&cloud, a, "owner@alpha.example");
    let session_b = owner_session(&cloud, b, "owner@beta.example");
    let url = |p: &str| format!("{}{p}", cloud.url());
    let b_state = || {
        (
            cloud.query_text(b.tenant, "SELECT string_agg(sku || price, ',') FROM catalog_items"),
            cloud.query_text(b.tenant, "SELECT string_agg(name || rates::text, ',') FROM tax_classes"),
            cloud.query_text(b.tenant, "SELECT count(*) FROM staff"),
            cloud.query_text(b.tenant, "SELECT count(*) FROM settings"),
            cloud.query_text(b.tenant, "SELECT count(*) FROM owner_sessions WHERE revoked_at IS NULL"),
        )
    };
    let before = b_state();

    // Reports: B's venue does not exist for A; A's own venue does.
    for report in ["daily", "item-mix", "tax", "payments"] {
        let (status, body) =
            get(&url(&format!("/v1/reports/{report}?from=2026-11-21&venue={}", b.venue)), Some(&session_a));
        assert_eq!(status, 404, "{report}: {body}");
        let (status, body) =
            get(&url(&format!("/v1/reports/{report}?from=2026-11-21&venue={}", a.venue)), Some(&session_a));
        assert_eq!(status, 200, "{report}: {body}");
    }
    // Across venues: A's sale only (10.00, tax 1.59), never B's (20.00, tax 3.19) nor both.
    let (_, daily) = get(&url("/v1/reports/daily?from=2026-11-21"), Some(&session_a));
    assert_eq!(daily["summary"]["order_count"], 1, "{daily}");
    assert_eq!(daily["summary"]["gross"], "10.00", "{daily}");
    for report in ["daily", "item-mix", "tax", "payments"] {
        let (status, body) = get(&url(&format!("/v1/reports/{report}?from=2026-11-21")), Some(&session_a));
        assert_eq!(status, 200, "{report}: {body}");
        let text = body.to_string();
        // The payments report reconciles shifts; these tenants have sales but no shift events.
        if report != "payments" {
            assert!(["10.00", "1.59", "8.41"].iter().any(|f| text.contains(f)), "{report}: A's sale is there: {text}");
        }
        assert!(!text.contains("Beta"), "{report}: {text}");
        for b_figure in ["20.00", "3.19", "16.81", "30.00", "4.78"] {
            assert!(!text.contains(b_figure), "{report}: {b_figure} of tenant B: {text}");
        }
    }

    // Writes aimed at B's venue.
    let item = serde_json::json!([{ "sku": "Beta-SKU", "product": "Stolen", "variant": "", "category": "X",
        "price": "0.01", "tax_class": "Standard", "barcodes": [], "weighed": false, "active": true }]);
    assert_eq!(put(&url(&format!("/v1/venues/{}/catalog", b.venue)), &session_a, &item).0, 404);
    let taxes = serde_json::json!([{ "name": "Standard", "rates": [{ "code": "A", "name": "Zero", "rate_ppm": 0 }] }]);
    assert_eq!(put(&url(&format!("/v1/venues/{}/taxes", b.venue)), &session_a, &taxes).0, 404);
    let staff = serde_json::json!([{ "id": uuid::Uuid::now_v7().to_string(), "name": "Mallory", "role": "owner",
        "permissions": u32::MAX, "max_discount_bp": 10000, "totp_required": false, "active": true }]);
    assert_eq!(put(&url(&format!("/v1/venues/{}/staff", b.venue)), &session_a, &staff).0, 404);
    assert_eq!(
        put(&url(&format!("/v1/venues/{}/settings/lockout", b.venue)), &session_a, &serde_json::json!({})).0,
        404
    );

    // Lists: only A's devices and refused records.
    let (_, devices) = get(&url("/v1/devices"), Some(&session_a));
    assert!(!devices.to_string().contains(&dev_b.id.to_string()), "{devices}");
    assert_eq!(devices.as_array().unwrap().len(), 1);
    let (status, rejected) = get(&url("/v1/rejected"), Some(&session_a));
    assert_eq!(status, 200);
    let rejected = rejected.as_array().unwrap();
    assert_eq!(rejected.len(), 1, "A's own refused record, not B's: {rejected:?}");
    assert_ne!(rejected[0]["device"], dev_b.id.to_string());
    let (_, rejected_b) = get(&url("/v1/rejected"), Some(&session_b));
    assert_eq!(rejected_b.as_array().unwrap().len(), 1, "B has one too, so a leak would show");

    // Sessions: B's session ids cannot be listed or revoked by A.
    let (_, sessions_b) = get(&url("/v1/owner/sessions"), Some(&session_b));
    let b_session_id = sessions_b["sessions"][0]["id"].as_str().unwrap().to_owned();
    let (_, sessions_a) = get(&url("/v1/owner/sessions"), Some(&session_a));
    assert!(!sessions_a.to_string().contains(&b_session_id));
    let (status, _) =
        post(&url("/v1/owner/sessions/revoke"), Some(&session_a), &serde_json::json!({ "session_id": b_session_id }));
    assert_eq!(status, 404);

    // A device token is not an owner session, and an owner session is not a device token.
    assert_eq!(get(&url("/v1/devices"), Some(&dev_b.token)).0, 401);
    assert_eq!(get(&url("/v1/sync/pull?cursor=0"), Some(&session_a)).0, 401);

    // Signing in names a tenant only through the credentials: A's password does not open B's
    // account, and A signing out ends A's session only.
    let (status, _) = post(
        &url("/v1/owner/login"),
        None,
        &serde_json::json!({ "email": "owner@beta.example", "password": "Correct-Horse-Battery-42-not", "totp": "000000" }),
    );
    assert_eq!(status, 401);
    assert_eq!(post(&url("/v1/owner/logout"), Some(&session_a), &serde_json::json!({})).0, 200);
    assert_eq!(get(&url("/v1/devices"), Some(&session_a)).0, 401, "A's session ended");

    assert_eq!(before, b_state(), "nothing of tenant B changed");
    assert_eq!(get(&url("/v1/devices"), Some(&session_b)).0, 200, "B's own session still works");
}

/// Enrolment names no tenant either: tenant A's code with the id of B's register enrols nothing,
/// leaves B's register as it was, and does not use up A's code.
#[test]
fn an_enrolment_code_of_tenant_a_cannot_take_over_a_register_of_tenant_b() {
    let (cloud, (a, _, _), (b, dev_b, _)) = two_tenants("iso_enrol");
    let code = cloud.enrolment_code(a);
    let b_device = || {
        cloud.query_text(
            b.tenant,
            &format!("SELECT name || encode(public_key, 'hex') || venue_id FROM devices WHERE id = '{}'", dev_b.id),
        )
    };
    let before = b_device();
    let key = ed25519_dalek::SigningKey::from_bytes(&seed(7));
    let body = serde_json::json!({
        "code": code,
        "device_id": dev_b.id.to_string(),
        "device_name": "Mallory's till",
        "device_public_key": hex::encode(key.verifying_key().to_bytes()),
        "audit_public_key": hex::encode(key.verifying_key().to_bytes()),
    });
    let (status, answer) = post(&format!("{}/v1/devices/enroll", cloud.url()), None, &body);
    assert!(status == 403 || status == 409, "{status} {answer}");
    assert!(!answer.to_string().contains(&b.tenant.to_string()), "{answer}");
    assert_eq!(count(&cloud, a, &format!("SELECT count(*) FROM devices WHERE id = '{}'", dev_b.id)), 0);
    assert_eq!(before.len(), 1);
    assert_eq!(before, b_device(), "B's register is untouched");
    assert_eq!(
        count(&cloud, a, "SELECT count(*) FROM enrolment_codes WHERE used_at IS NULL"),
        1,
        "A's code is still good"
    );
    // B's register still gets tokens with its own key.
    assert!(token(&cloud, &dev_b).is_ok());
}

/// Every route the service serves, the test in this file that asks it for another tenant's data,
/// and what in that test calls it. A new route fails `every_route_is_in_the_isolation_matrix`
/// until it is added here, with its isolation test.
const MATRIX: &[(&str, &str, &str)] = &[
    ("/v1/health", "", ""),
    ("/v1/devices/enroll", ENROL, "/v1/devices/enroll"),
    ("/v1/devices/challenge", DEVICE, "/v1/devices/challenge"),
    ("/v1/devices/token", DEVICE, "/v1/devices/token"),
    ("/v1/sync/push", DEVICE, "dev_a.push_ok("),
    ("/v1/sync/pull", DEVICE, "/v1/sync/pull"),
    ("/v1/owner/login", OWNER, "/v1/owner/login"),
    ("/v1/owner/logout", OWNER, "/v1/owner/logout"),
    ("/v1/owner/sessions", OWNER, "/v1/owner/sessions\")"),
    ("/v1/owner/sessions/revoke", OWNER, "/v1/owner/sessions/revoke"),
    ("/v1/reports/daily", OWNER, "\"daily\""),
    ("/v1/reports/item-mix", OWNER, "\"item-mix\""),
    ("/v1/reports/tax", OWNER, "\"tax\""),
    ("/v1/reports/payments", OWNER, "\"payments\""),
    ("/v1/venues/{venue}/taxes", OWNER, "/v1/venues/{}/taxes"),
    ("/v1/venues/{venue}/catalog", OWNER, "/v1/venues/{}/catalog"),
    ("/v1/venues/{venue}/staff", OWNER, "/v1/venues/{}/staff"),
    ("/v1/venues/{venue}/settings/{name}", OWNER, "/v1/venues/{}/settings/"),
    ("/v1/devices", OWNER, "/v1/devices\")"),
    ("/v1/rejected", OWNER, "/v1/rejected"),
];
const ENROL: &str = "an_enrolment_code_of_tenant_a_cannot_take_over_a_register_of_tenant_b";
const DEVICE: &str = "a_device_of_tenant_a_gets_nothing_of_tenant_b_and_changes_nothing_there";
const OWNER: &str = "an_owner_of_tenant_a_gets_nothing_of_tenant_b_and_changes_nothing_there";

#[test]
fn every_route_is_in_the_isolation_matrix() {
    let sources = [
        include_str!("../src/http.rs"),
        include_str!("../src/owner.rs"),
        include_str!("../src/reports.rs"),
        include_str!("../src/manage.rs"),
    ];
    let mut routes: Vec<&str> = sources
        .iter()
        .flat_map(|src| src.split(".route(\"").skip(1))
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    routes.sort_unstable();
    let mut listed: Vec<&str> = MATRIX.iter().map(|(r, _, _)| *r).collect();
    listed.sort_unstable();
    assert_eq!(routes, listed, "the router's routes and the isolation matrix differ");
    let this_file = include_str!("isolation.rs");
    let body_of = |test: &str| {
        let start = this_file.find(&format!("fn {test}()")).unwrap_or_else(|| panic!("no test named {test}"));
        let rest = &this_file[start..];
        &rest[..rest.find("\n}\n").expect("the test ends")]
    };
    for (route, test, call) in MATRIX {
        if !test.is_empty() {
            assert!(body_of(test).contains(call), "{route}: {test} does not call it ({call})");
        }
    }
}
