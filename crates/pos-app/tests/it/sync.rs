//! Cloud sync against the real cloud service (`pos_cloud::testing::TestCloud`: the service on a
//! throw-away PostgreSQL, connecting as its own role under row-level security), sometimes through
//! a proxy that drops, fails, loses and repeats requests (`pos_test_support::FaultyProxy`).
//!
//! Enrolment, exactly-once push of sales, refunds, voids, shift events and the audit chain, pull of
//! tax classes, catalog, staff and settings, revocation, quarantine of a record the cloud rejects.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::SignedDuration;
use pos_app::demo::{Traffic, init_demo, run_traffic};
use pos_app::pos_core::refund::RefundRequest;
use pos_app::pos_core::shift::CashMovementKind;
use pos_app::{
    Clock, CloudSync, Enrolment, ErrorCode, ManualClock, MemorySecretStore, OrderRef, Register, SecretStore, Session,
    SyncSummary,
};
use pos_cloud::pull::{put_catalog, put_setting, put_staff, put_taxes};
use pos_cloud::testing::{TestCloud, TestTenant};
use pos_sync_protocol::api::{CatalogItem, StaffMember, TaxClassDef, TaxRateDef};
use pos_test_support::{Faults, FaultyProxy};
use sha2::{Digest, Sha256};

use crate::support::*;

/// A demo register whose device key lives in a secret store the sync client shares.
struct Till {
    reg: Register,
    secrets: Arc<MemorySecretStore>,
    clock: Arc<ManualClock>,
    owner: Authenticator,
    cloud: CloudSync,
    dir: tempfile::TempDir,
}

impl Till {
    fn new() -> Till {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets = Arc::new(MemorySecretStore::default());
        let clock = Arc::new(ManualClock::new(ts(T0)));
        let (reg, _) = init_demo(dir.path(), secrets.as_ref(), clock.clone()).expect("init demo store");
        let cloud = CloudSync::new(secrets.clone());
        Till { reg, secrets, clock, owner: Authenticator::default(), cloud, dir }
    }

    fn owner(&mut self) -> Session {
        back_office(&mut self.reg, &self.clock, &mut self.owner)
    }

    fn enroll(&mut self, url: &str, code: &str) -> pos_app::AppResult<pos_app::SyncStatus> {
        let owner = self.owner();
        self.cloud.enroll(&mut self.reg, &owner, &Enrolment { cloud_url: url, code, ca_file: None })
    }

    fn sync(&mut self) -> SyncSummary {
        self.cloud.sync_once(&mut self.reg).expect("a sync round reads and writes the store")
    }

    /// Syncs until a round finishes cleanly; every failure on the way must be one worth retrying.
    fn sync_until_clean(&mut self, rounds: usize) -> SyncSummary {
        for _ in 0..rounds {
            let s = self.sync();
            match &s.error {
                None => return s,
                Some(f) => assert!(f.retryable, "not worth retrying: {f:?}"),
            }
        }
        panic!("no clean sync round in {rounds} rounds")
    }

    /// A connection of our own to the register's encrypted database, for checks and for crafting
    /// records no façade call would write.
    fn raw(&self) -> rusqlite::Connection {
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.dir.path().join("store.json")).unwrap()).unwrap();
        let id = meta["store_id"].as_str().unwrap();
        let key = self.secrets.get(&format!("{id}/db-key")).unwrap().unwrap();
        let conn = rusqlite::Connection::open(self.dir.path().join("register.db")).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA key = \"x'{}'\"; PRAGMA cipher_hmac_algorithm = HMAC_SHA256; PRAGMA cipher_page_size = 2048; \
             PRAGMA busy_timeout = 5000;",
            hex::encode(&key[..])
        ))
        .unwrap();
        conn
    }

    /// (paid orders, including those voided after payment; the sum of their totals)
    fn paid_orders(&self) -> (i64, i64) {
        self.raw()
            .query_row("SELECT count(*), coalesce(sum(total), 0) FROM orders WHERE receipt_no IS NOT NULL", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap()
    }

    fn count(&self, sql: &str) -> i64 {
        self.raw().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    fn device_id(&self) -> String {
        self.reg.sync_status().unwrap().device_id
    }
}

fn one(cloud: &TestCloud, t: TestTenant, sql: &str) -> i64 {
    let rows = cloud.query_text(t.tenant, sql);
    assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
    rows[0].parse().unwrap_or_else(|_| panic!("{sql}: not a number: {rows:?}"))
}

/// A small day at the till: every kind of outbox record.
fn busy_day(till: &mut Till) {
    let reg = &mut till.reg;
    let cashier = cashier(reg);
    let manager = manager(reg);
    reg.open_shift(&cashier, eur(15_000)).unwrap();
    let a = sell_cash(reg, &cashier, &[("HOT-00-0", 2), ("BAK-00", 1)]);
    let b = sell_card(reg, &cashier, &[("HOT-03-0", 1)]);
    sell_cash(reg, &cashier, &[("COLD-00-0", 3)]);
    reg.refund(&manager, &OrderRef::Receipt(a.receipt_no), &RefundRequest::Lines(vec![(1, qty(1))]), "quality")
        .unwrap();
    reg.void_paid_order(&manager, &OrderRef::Receipt(b.receipt_no), "rung up twice").unwrap();
    let open = ring_up(reg, &cashier, &[("BAK-00", 1)]);
    pos_app::demo::with_manager_approval(reg, &cashier, "customer_changed_mind", |r| {
        r.void_open_order(&cashier, &open, "customer changed their mind")
    })
    .unwrap();
    reg.cash_movement(&cashier, CashMovementKind::PaidOut, eur(500), "milk").unwrap();
    let x = reg.x_report(&manager).unwrap();
    let count = pos_app::demo::exact_count(reg.currency(), x.cash.expected.minor());
    reg.close_shift(&cashier, &count).unwrap();
}

#[test]
fn a_register_enrols_once_and_pushes_everything_exactly_once() {
    let cloud = TestCloud::start("sync_basic");
    let tenant = cloud.create_tenant("basic");
    let code = cloud.enrolment_code(tenant);
    let mut till = Till::new();

    // Without a cloud nothing changes: the round says so and the register sells as before.
    let s = till.sync();
    assert!(!s.enrolled);
    assert_eq!(s.error.as_ref().map(|e| e.code), Some(ErrorCode::NotEnrolled));
    let status = till.reg.sync_status().unwrap();
    assert!(!status.enrolled && !status.online);

    // Plain http is for this machine only; a cashier may not enrol; neither may a manager.
    let e = till.enroll("http://cloud.example", &code).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput, "{e}");
    assert!(e.message.contains("https://"), "{e}");
    let cashier = cashier(&mut till.reg);
    let e =
        till.cloud.enroll(&mut till.reg, &cashier, &Enrolment { cloud_url: &cloud.url(), code: &code, ca_file: None });
    assert_eq!(e.unwrap_err().code, ErrorCode::PermissionDenied);
    let manager = elevated_manager(&mut till);
    let e =
        till.cloud.enroll(&mut till.reg, &manager, &Enrolment { cloud_url: &cloud.url(), code: &code, ca_file: None });
    assert_eq!(e.unwrap_err().code, ErrorCode::PermissionDenied);
    assert!(!till.reg.sync_status().unwrap().enrolled);

    // A wrong code is refused and leaves no key behind.
    let e = till.enroll(&cloud.url(), "AAAAA-BBBBB-CCCCC").unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput, "{e}");
    let key_name = format!("{}/sync-device-key", status_store_id(&till));
    assert!(till.secrets.get(&key_name).unwrap().is_none());

    let status = till.enroll(&cloud.url(), &code).expect("enrol");
    assert!(status.enrolled);
    assert_eq!(status.venue_name.as_deref(), Some("basic café"));
    assert_eq!(status.tenant_id, Some(tenant.tenant.to_string()));
    assert!(till.secrets.get(&key_name).unwrap().is_some(), "the key is in the credential store");
    let e = till.enroll(&cloud.url(), &code).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "enrolled once: {e}");

    // The code is used up: another register cannot take it.
    let mut other = Till::new();
    let e = other.enroll(&cloud.url(), &code).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput, "{e}");
    assert!(e.message.contains("not valid, was already used"), "{e}");

    busy_day(&mut till);
    let depth = till.reg.outbox_status().unwrap().depth;
    assert_eq!(depth, 9, "shift opened, 3 sales, refund, 2 voids, paid-out, shift closed");

    let s = till.sync();
    assert_eq!(s.error, None);
    assert!(s.online);
    assert_eq!(s.acknowledged, depth as usize);
    assert_eq!(s.stored, depth as usize);
    assert_eq!(s.quarantined, 0);
    assert_eq!(s.outbox_depth, 0);
    let status = till.reg.sync_status().unwrap();
    assert!(status.online);
    assert_eq!(status.outbox.depth, 0);
    assert_eq!(status.audit_held_through, status.audit_head, "the whole chain is in the cloud");

    let (orders, total) = till.paid_orders();
    assert_eq!(orders, 3);
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM orders"), orders);
    assert_eq!(one(&cloud, tenant, "SELECT coalesce(sum(total), 0) FROM orders"), total);
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM orders WHERE voided_at IS NOT NULL"), 1);
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM refunds"), till.count("SELECT count(*) FROM refunds"));
    assert_eq!(
        one(&cloud, tenant, "SELECT coalesce(sum(total), 0) FROM refunds"),
        till.count("SELECT coalesce(sum(total), 0) FROM refunds")
    );
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM shift_events"), 3, "opened, paid out, closed");
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM sync_ops"), till.count("SELECT count(*) FROM outbox"));
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM audit_entries") as u64, status.audit_head);
    let enrolled = "SELECT count(*) FROM audit_entries WHERE body::jsonb->>'action' = 'cloud_enrolled' AND body::jsonb->>'outcome' = ";
    assert_eq!(one(&cloud, tenant, &format!("{enrolled} 'ok'")), 1);
    assert_eq!(one(&cloud, tenant, &format!("{enrolled} 'refused'")), 1, "the wrong code");

    // Again: nothing new to send.
    let s = till.sync();
    assert_eq!(s.error, None);
    assert_eq!((s.pushes, s.records_pushed, s.audit_pushed), (0, 0, 0), "{s:?}");
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM orders"), orders);
}

fn status_store_id(till: &Till) -> String {
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(till.dir.path().join("store.json")).unwrap()).unwrap();
    meta["store_id"].as_str().unwrap().to_owned()
}

/// The demo manager with an authenticator and back-office access.
fn elevated_manager(till: &mut Till) -> Session {
    let m = manager(&mut till.reg);
    let enrolment = till.reg.begin_totp_enrolment(&m, m.staff_id()).unwrap();
    let secret = data_encoding::BASE32_NOPAD.decode(enrolment.secret_base32.as_bytes()).unwrap();
    let code = |clock: &ManualClock| pos_app::pos_auth::totp::code_at(&secret, clock.now().as_second() as u64);
    till.reg.confirm_totp_enrolment(&m, m.staff_id(), &code(&till.clock)).unwrap();
    till.clock.advance(SignedDuration::from_secs(30));
    till.reg.elevate(&m, "2468", &code(&till.clock)).unwrap();
    m
}

/// The issue's bar: 10,000 demo sales pushed through a proxy that drops requests, answers 503,
/// loses answers after the cloud committed, repeats requests and delays them; then healed. The
/// cloud ends with every order once, to the cent, and the register's outbox is empty.
#[test]
fn ten_thousand_sales_arrive_exactly_once_through_a_faulty_network() {
    let cloud = TestCloud::start("sync_chaos");
    let tenant = cloud.create_tenant("chaos");
    let code = cloud.enrolment_code(tenant);
    let proxy = FaultyProxy::start(cloud.addr, Faults::none(), 20_261_121).expect("proxy");
    let mut till = Till::new();
    till.enroll(&proxy.url(), &code).expect("enrol through the proxy");

    let started = Instant::now();
    let clock = till.clock.clone();
    let traffic = run_traffic(&mut till.reg, &clock, Traffic { sales: 10_000, seed: 42, days: 5 }, |_| {}).unwrap();
    eprintln!("demo traffic: {traffic:?} in {:?}", started.elapsed());
    let records = till.reg.outbox_status().unwrap().depth;
    assert!(records > 10_000, "{records}");

    let started = Instant::now();
    proxy.set_faults(Faults::chaos());
    let mut failed = 0;
    for _ in 0..30 {
        let s = till.sync();
        if let Some(e) = &s.error {
            assert!(e.retryable, "chaos is only ever worth retrying: {e:?}");
            failed += 1;
        }
    }
    let under_chaos = till.reg.outbox_status().unwrap().depth;
    eprintln!(
        "30 rounds under chaos ({failed} cut short) in {:?}; {under_chaos} of {records} records left",
        started.elapsed()
    );

    proxy.set_faults(Faults::none());
    let s = till.sync_until_clean(10);
    assert_eq!(s.outbox_depth, 0, "{s:?}");
    eprintln!("healed and drained in {:?}; proxy: {:?}", started.elapsed(), proxy.stats());

    let (orders, total) = till.paid_orders();
    assert!(orders >= 10_000);
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM orders"), orders);
    assert_eq!(one(&cloud, tenant, "SELECT count(DISTINCT order_id) FROM orders"), orders);
    assert_eq!(one(&cloud, tenant, "SELECT sum(total) FROM orders"), total, "to the cent");
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM refunds"), till.count("SELECT count(*) FROM refunds"));
    assert_eq!(
        one(&cloud, tenant, "SELECT count(*) FROM orders WHERE voided_at IS NOT NULL"),
        till.count("SELECT count(*) FROM orders WHERE receipt_no IS NOT NULL AND status = 'voided'")
    );
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM sync_ops"), till.count("SELECT count(*) FROM outbox"));
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM rejected_ops"), 0);
    assert_eq!(till.reg.outbox_status().unwrap().depth, 0);
    let status = till.reg.sync_status().unwrap();
    assert_eq!(status.audit_held_through, status.audit_head);
    assert_eq!(status.quarantined, 0);
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM audit_entries") as u64, status.audit_head);

    let stats = proxy.stats();
    assert!(stats.dropped > 0, "{stats:?}");
    assert!(stats.error_5xx > 0, "{stats:?}");
    assert!(stats.reset_after_forward > 0, "{stats:?}");
    assert!(stats.duplicated > 0, "{stats:?}");
    assert!(stats.delayed > 0, "{stats:?}");

    // Nothing more to send, however often it is asked.
    let s = till.sync();
    assert_eq!((s.error.clone(), s.records_pushed, s.audit_pushed), (None, 0, 0), "{s:?}");
}

#[test]
fn a_revoked_register_stops_syncing_and_goes_on_selling() {
    let config = pos_cloud::state::Config { access_token_seconds: 1, ..pos_cloud::state::Config::default() };
    let cloud = TestCloud::start_with("sync_revoked", config);
    let (mut till, tenant, cashier) = selling_till(&cloud, "revoked");
    assert_eq!(till.sync().error, None);

    cloud.revoke(tenant, till.device_id().parse().unwrap());
    // The token it holds expires; a new one needs a challenge, which a revoked device is refused.
    std::thread::sleep(Duration::from_millis(1500));
    sell_cash(&mut till.reg, &cashier, &[("BAK-00", 2)]);
    let s = till.sync();
    let e = s.error.expect("revoked");
    assert_eq!(e.code, ErrorCode::DeviceRevoked, "{e:?}");
    assert!(!e.retryable);
    assert!(!s.online);
    let status = till.reg.sync_status().unwrap();
    assert!(status.revoked && !status.online);
    assert!(!till.reg.sync_due(Duration::ZERO, true).unwrap(), "the worker stops");
    assert_eq!(status.outbox.depth, 1, "the sale after revocation waits in the outbox");

    // It stops: no request is even made.
    let s = till.sync();
    assert_eq!(s.error.map(|e| e.code), Some(ErrorCode::DeviceRevoked));
    assert_eq!(s.pushes, 0);

    // The register sells as ever.
    sell_card(&mut till.reg, &cashier, &[("HOT-03-0", 1)]);
    assert_eq!(till.reg.outbox_status().unwrap().depth, 2);
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM orders"), 1);
}

/// A register enrolled with a new tenant of `cloud`, with a shift open and one cash sale made.
fn selling_till(cloud: &TestCloud, tenant: &str) -> (Till, TestTenant, Session) {
    let tenant = cloud.create_tenant(tenant);
    let code = cloud.enrolment_code(tenant);
    let mut till = Till::new();
    till.enroll(&cloud.url(), &code).unwrap();
    let cashier = cashier(&mut till.reg);
    till.reg.open_shift(&cashier, eur(10_000)).unwrap();
    sell_cash(&mut till.reg, &cashier, &[("HOT-00-0", 1)]);
    (till, tenant, cashier)
}

fn keep(reg: &mut Register, s: &Session) {
    pos_app::demo::keep_unlocked(reg, s).unwrap();
}

#[test]
fn a_record_the_cloud_rejects_is_quarantined_and_the_rest_go_on() {
    let cloud = TestCloud::start("sync_quarantine");
    let (mut till, tenant, cashier) = selling_till(&cloud, "quarantine");

    // A record no façade call would write: a sale that is not one.
    let bad_op = uuid::Uuid::now_v7().to_string();
    let payload = br#"{"type":"sale_recorded","order_id":"not-a-uuid"}"#;
    let bad_seq: i64 = {
        let conn = till.raw();
        let seq: i64 = conn.query_row("SELECT max(seq) + 1 FROM outbox", [], |r| r.get(0)).unwrap();
        conn.execute(
            "INSERT INTO outbox (seq, op_id, kind, payload, payload_hash, created_at) VALUES (?1, ?2, 'sale_recorded', ?3, ?4, 0)",
            rusqlite::params![seq, bad_op, &payload[..], &Sha256::digest(payload)[..]],
        )
        .unwrap();
        seq
    };
    sell_cash(&mut till.reg, &cashier, &[("BAK-00", 1)]);
    sell_card(&mut till.reg, &cashier, &[("COLD-00-0", 1)]);

    let s = till.sync();
    assert_eq!(s.error, None);
    assert_eq!(s.quarantined, 1);
    assert_eq!(s.acknowledged, 4, "the shift, the sale before and the two after");
    assert_eq!(s.outbox_depth, 1, "the rejected record stays, unacknowledged");
    let status = till.reg.sync_status().unwrap();
    assert_eq!(status.quarantined, 1);
    let q = &status.quarantine[0];
    assert_eq!((q.seq, q.op_id.as_str(), q.code.as_str()), (bad_seq, bad_op.as_str(), "invalid"));
    assert!(!q.message.is_empty());
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM orders"), 3);
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM rejected_ops"), 1);

    // It is not pushed again; new sales are.
    sell_cash(&mut till.reg, &cashier, &[("HOT-00-0", 1)]);
    let s = till.sync();
    assert_eq!((s.error.clone(), s.records_pushed, s.acknowledged), (None, 1, 1), "{s:?}");
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM rejected_ops"), 1);
    assert_eq!(till.reg.outbox_status().unwrap().depth, 1);

    // A manager sees it in the app; a cashier may not.
    assert_eq!(till.reg.sync_overview(&cashier).unwrap_err().code, ErrorCode::PermissionDenied);
    assert_eq!(till.reg.retry_quarantined(&cashier, bad_seq).unwrap_err().code, ErrorCode::PermissionDenied);
    let manager = manager(&mut till.reg);
    let overview = till.reg.sync_overview(&manager).unwrap();
    assert_eq!((overview.quarantined, overview.quarantine[0].seq), (1, bad_seq));

    // Sent again on a manager's word: the cloud checks it afresh and refuses it again, so it is
    // back in quarantine, logged once in the cloud, and nothing else is held back.
    let e = till.reg.retry_quarantined(&manager, bad_seq - 1).unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound, "{e}");
    assert_eq!(till.reg.retry_quarantined(&manager, bad_seq).unwrap().quarantined, 0);
    sell_cash(&mut till.reg, &cashier, &[("HOT-00-0", 1)]);
    let s = till.sync();
    assert_eq!((s.error.clone(), s.records_pushed, s.quarantined, s.acknowledged), (None, 2, 1, 1), "{s:?}");
    assert_eq!(till.reg.sync_status().unwrap().quarantine[0].seq, bad_seq);
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM rejected_ops"), 1);
    assert_eq!(
        one(&cloud, tenant, "SELECT count(*) FROM audit_entries WHERE body::jsonb->>'action' = 'sync_retry'"),
        1,
        "the retry is audited and its entry went up"
    );
    assert!(till.reg.doctor("in-memory").unwrap().integrity.is_empty());

    // Pushes start after a mark below which every record is acknowledged or quarantined. A mark
    // past a record still waiting would hide that record from every push: doctor reports it.
    sell_cash(&mut till.reg, &cashier, &[("HOT-00-0", 1)]);
    till.raw().execute("UPDATE outbox_mark SET settled_through = (SELECT max(seq) FROM outbox)", []).unwrap();
    let problems = till.reg.doctor("in-memory").unwrap().integrity;
    assert!(problems.iter().any(|p| p.contains("below the pushed-through mark")), "{problems:?}");
}

/// A VAT change made in the cloud: the register sells at the new rate from the next pull on, and
/// what it sold before keeps the old rate, in its reports, its refunds and the cloud's copy.
#[test]
fn a_tax_change_flows_down_and_earlier_sales_keep_their_rate() {
    let cloud = TestCloud::start("sync_taxes");
    let (mut till, tenant, cashier) = selling_till(&cloud, "taxes");
    let manager = manager(&mut till.reg);
    let before = sell_cash(&mut till.reg, &cashier, &[("BAK-00", 2)]);
    let rate_of = |till: &Till, receipt: i64| {
        till.count(&format!(
            "SELECT rate_ppm FROM order_taxes WHERE code = 'B' AND order_id = (SELECT id FROM orders WHERE receipt_no = {receipt})"
        ))
    };
    assert_eq!(rate_of(&till, before.receipt_no), 70_000);

    let rate = |code: &str, name: &str, rate_ppm: u32| TaxRateDef { code: code.into(), name: name.into(), rate_ppm };
    let classes = [
        TaxClassDef { name: "reduced".into(), rates: vec![rate("B", "VAT 5%", 50_000)] },
        TaxClassDef { name: "deposit".into(), rates: vec![rate("D", "Deposit", 0)] },
    ];
    let deposit = CatalogItem {
        sku: "DEP-01".into(),
        product: "Bottle deposit".into(),
        variant: String::new(),
        category: "Deposits".into(),
        price: "0.25".into(),
        tax_class: "deposit".into(),
        barcodes: vec![],
        weighed: false,
        active: true,
    };
    {
        let mut client = cloud.admin();
        cloud.block_on(async {
            let tx = pos_cloud::db::tenant_tx(&mut client, tenant.tenant).await.unwrap();
            // The cloud refuses a class the register could not sell with, and changes nothing.
            let over = TaxClassDef { name: "luxury".into(), rates: vec![rate("L", "Luxury", 1_500_000)] };
            let e = put_taxes(&tx, tenant.tenant, tenant.venue, &[classes[0].clone(), over]).await.unwrap_err();
            assert_eq!(e.code, "invalid", "{e}");
            assert_eq!(put_taxes(&tx, tenant.tenant, tenant.venue, &classes).await.unwrap(), 2);
            put_catalog(&tx, tenant.tenant, tenant.venue, &[deposit]).await.unwrap();
            tx.commit().await.unwrap();
        });
    }
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM tax_classes WHERE name = 'luxury'"), 0);

    let s = till.sync();
    assert_eq!(s.error, None);
    assert_eq!(s.pulled.taxes, vec!["reduced".to_owned(), "deposit".to_owned()], "{:?}", s.pulled);
    assert_eq!(s.pulled.catalog, 1, "the item names a class from the same answer: {:?}", s.pulled.skipped);
    assert!(s.pulled.skipped.is_empty(), "{:?}", s.pulled.skipped);

    // New sales use the new rate and the new class.
    let after = sell_cash(&mut till.reg, &cashier, &[("BAK-00", 2), ("DEP-01", 1)]);
    assert_eq!(rate_of(&till, after.receipt_no), 50_000, "BAK-00 now at 5 %");
    let codes: Vec<&str> = after.order.taxes.iter().map(|t| t.code.as_str()).collect();
    assert_eq!(codes, ["B", "D"], "{:?}", after.order.taxes);
    assert_eq!(before.order.total.minor() + 25, after.order.total.minor(), "tax-inclusive prices stay put");
    assert!(after.order.tax_total.minor() < before.order.tax_total.minor());

    // The earlier sale keeps 7 %: refunding it gives back tax at 7 %, and the tax export of the
    // day lists both rates of code B.
    till.reg
        .refund(&manager, &OrderRef::Receipt(before.receipt_no), &RefundRequest::Whole, "returned")
        .expect("refund the 7 % sale");
    assert_eq!(till.count("SELECT rate_ppm FROM refund_taxes"), 70_000);
    let day: jiff::civil::Date = before.business_day.parse().unwrap();
    let owner = till.owner();
    let export = serde_json::to_value(till.reg.tax_export(&owner, day, day).unwrap()).unwrap();
    let text = export.to_string();
    assert!(text.contains("70000") && text.contains("50000"), "{text}");
    assert_eq!(till.count("SELECT count(*) FROM tax_rates WHERE code = 'B' AND retired_at IS NULL"), 1);
    assert_eq!(till.count("SELECT rate_ppm FROM tax_rates WHERE code = 'B' AND retired_at IS NULL"), 50_000);

    // The change is audited, and the cloud's copy of both sales carries the rate each was sold at.
    let s = till.sync_until_clean(5);
    assert_eq!(s.outbox_depth, 0);
    assert!(s.pulled.taxes.is_empty(), "nothing new to pull: {:?}", s.pulled);
    assert_eq!(
        one(
            &cloud,
            tenant,
            "SELECT count(*) FROM audit_entries WHERE body::jsonb->'details'->'taxes'->0->'retired'->0->>1 = '70000'"
        ),
        1
    );
    assert_eq!(one(&cloud, tenant, "SELECT count(DISTINCT rate_ppm) FROM order_taxes WHERE code = 'B'"), 2);
}

#[test]
fn catalog_staff_and_settings_flow_down() {
    let cloud = TestCloud::start("sync_pull");
    let tenant = cloud.create_tenant("pull");
    let code = cloud.enrolment_code(tenant);
    let mut till = Till::new();
    till.enroll(&cloud.url(), &code).unwrap();
    let price_before = till.reg.catalog().by_code("BAK-00").expect("demo SKU").price;

    let item = |sku: &str, price: &str, class: &str, active: bool| CatalogItem {
        sku: sku.into(),
        product: format!("Product {sku}"),
        variant: String::new(),
        category: "Cloud".into(),
        price: price.into(),
        tax_class: class.into(),
        barcodes: vec![],
        weighed: false,
        active,
    };
    let cloud_staff = uuid::Uuid::now_v7();
    let member = StaffMember {
        id: cloud_staff.to_string(),
        name: "Nora Cloud".into(),
        role: "cashier".into(),
        permissions: 1,
        max_discount_bp: 500,
        totp_required: false,
        active: true,
        pin_hash: None,
    };
    {
        let mut client = cloud.admin();
        cloud.block_on(async {
            let tx = pos_cloud::db::tenant_tx(&mut client, tenant.tenant).await.unwrap();
            let items = [
                item("NEW-01", "4.20", "standard", true),
                CatalogItem {
                    product: "Bread roll".into(),
                    category: "Bakery".into(),
                    ..item("BAK-00", "0.99", "reduced", true)
                },
                item("HOT-00-0", "1.00", "standard", false),
                item("BAD-01", "1.00", "luxury", true),
            ];
            put_catalog(&tx, tenant.tenant, tenant.venue, &items).await.unwrap();
            put_staff(&tx, tenant.tenant, tenant.venue, &member).await.unwrap();
            put_setting(&tx, tenant.tenant, tenant.venue, "auto_lock", &serde_json::json!({"auto_lock_secs": 300}))
                .await
                .unwrap();
            put_setting(&tx, tenant.tenant, tenant.venue, "lockout", &serde_json::json!({"staff": {"nonsense": 1}}))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        });
    }

    let s = till.sync();
    assert_eq!(s.error, None);
    assert_eq!(s.pulled.catalog, 2, "{:?}", s.pulled);
    assert_eq!(s.pulled.deactivated, 1);
    assert_eq!(s.pulled.staff, 1);
    assert_eq!(s.pulled.settings, vec!["auto_lock".to_owned()]);
    assert_eq!(s.pulled.skipped.len(), 2, "{:?}", s.pulled.skipped);
    assert!(s.pulled.skipped.iter().any(|m| m.contains("BAD-01") && m.contains("luxury")), "{:?}", s.pulled.skipped);
    assert!(s.pulled.skipped.iter().any(|m| m.contains("lockout")), "{:?}", s.pulled.skipped);
    assert!(s.cursor > 0);

    let catalog = till.reg.catalog();
    assert_eq!(catalog.by_code("NEW-01").expect("new SKU").price, 420);
    assert_eq!(catalog.by_code("BAK-00").unwrap().price, 99);
    assert_ne!(price_before, 99);
    assert!(catalog.by_code("HOT-00-0").is_none(), "switched off");
    assert!(catalog.by_code("BAD-01").is_none());
    assert_eq!(till.reg.security_policy().auto_lock_secs, 300);
    assert!(till.reg.staff().iter().any(|s| s.name == "Nora Cloud" && s.role == "cashier"));

    // The change is audited and that entry goes up too.
    let status = till.reg.sync_status().unwrap();
    assert_eq!(status.audit_held_through, status.audit_head);
    assert_eq!(
        one(&cloud, tenant, "SELECT count(*) FROM audit_entries WHERE body::jsonb->>'action' = 'cloud_pulled'"),
        1
    );

    // The same person again, renamed and switched off: one row, updated.
    {
        let mut client = cloud.admin();
        cloud.block_on(async {
            let tx = pos_cloud::db::tenant_tx(&mut client, tenant.tenant).await.unwrap();
            let gone = StaffMember { name: "Nora Cloud-Weber".into(), active: false, ..member.clone() };
            put_staff(&tx, tenant.tenant, tenant.venue, &gone).await.unwrap();
            tx.commit().await.unwrap();
        });
    }
    let s = till.sync();
    assert_eq!((s.error.clone(), s.pulled.staff, s.pulled.catalog), (None, 1, 0), "{s:?}");
    assert!(!till.reg.staff().iter().any(|s| s.name.starts_with("Nora")), "inactive staff are not offered");
    assert_eq!(till.count("SELECT count(*) FROM staff WHERE cloud_id IS NOT NULL"), 1);

    // Nothing changed since: the cursor holds and nothing is written.
    let head = till.reg.sync_status().unwrap().audit_head;
    let s = till.sync();
    assert_eq!((s.error.clone(), s.pulled.clone()), (None, Default::default()));
    assert_eq!(till.reg.sync_status().unwrap().audit_head, head);
}

#[test]
fn an_unreachable_cloud_backs_off_and_the_outbox_waits() {
    let cloud = TestCloud::start("sync_offline");
    let tenant = cloud.create_tenant("offline");
    let code = cloud.enrolment_code(tenant);
    let proxy = FaultyProxy::start(cloud.addr, Faults::none(), 7).unwrap();
    let mut till = Till::new();
    till.enroll(&proxy.url(), &code).unwrap();
    let cashier = cashier(&mut till.reg);
    till.reg.open_shift(&cashier, eur(10_000)).unwrap();

    proxy.set_faults(Faults { drop_request: 1000, ..Faults::none() });
    for n in 1..=4u32 {
        keep(&mut till.reg, &cashier);
        sell_cash(&mut till.reg, &cashier, &[("HOT-00-0", 1)]);
        let s = till.sync();
        let e = s.error.expect("unreachable");
        assert_eq!((e.code, e.kind, e.retryable), (ErrorCode::CloudUnavailable, "unreachable", true), "{e:?}");
        let status = till.reg.sync_status().unwrap();
        assert_eq!(status.consecutive_failures, n);
        assert!(!status.online);
        assert!(status.last_error.is_some());
        assert!(status.next_attempt_at.is_some());
        // The next attempt lies within the full-jitter window of this failure: up to 2^(n-1) s.
        let next = till.reg.sync_state().unwrap().unwrap().next_attempt_at.unwrap();
        let wait = next - till.clock.now().as_microsecond();
        assert!((0..=1_000_000 << (n - 1)).contains(&wait), "failure {n}: {wait} µs");
        if wait > 0 {
            assert!(!till.reg.sync_due(Duration::from_secs(60), true).unwrap(), "backing off");
        }
        till.clock.advance(SignedDuration::from_micros(wait + 1));
        assert!(till.reg.sync_due(Duration::from_secs(60), false).unwrap(), "due again");
    }
    assert_eq!(till.reg.outbox_status().unwrap().depth, 5);

    // Back: everything goes, the failures are forgotten.
    proxy.set_faults(Faults::none());
    let s = till.sync();
    assert_eq!(s.error, None);
    assert_eq!(s.acknowledged, 5);
    let status = till.reg.sync_status().unwrap();
    assert!(status.online);
    assert_eq!((status.consecutive_failures, status.next_attempt_at, status.last_error), (0, None, None));
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM orders"), 4);
}

#[test]
fn the_worker_syncs_in_the_background() {
    let cloud = TestCloud::start("sync_worker");
    let (till, tenant, cashier) = selling_till(&cloud, "worker");

    let Till { reg, secrets, .. } = till;
    let shared = Arc::new(std::sync::Mutex::new(reg));
    let config = pos_app::WorkerConfig { poll: Duration::from_millis(50), pull_every: Duration::from_secs(3600) };
    let worker = pos_app::SyncWorker::spawn(shared.clone(), CloudSync::new(secrets), config).unwrap();
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !done() {
            assert!(start.elapsed() < Duration::from_secs(30), "the worker did not {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_for("push the first sale", &|| shared.lock().unwrap().outbox_status().unwrap().depth == 0);
    wait_for("report online", &|| worker.online());
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM orders"), 1);

    {
        let mut reg = shared.lock().unwrap();
        sell_cash(&mut reg, &cashier, &[("BAK-00", 1)]);
    }
    worker.poke();
    wait_for("push the second sale", &|| shared.lock().unwrap().outbox_status().unwrap().depth == 0);
    assert_eq!(one(&cloud, tenant, "SELECT count(*) FROM orders"), 2);
    assert!(matches!(worker.last_summary(), Some(Ok(s)) if s.error.is_none()));
    worker.stop();
}

/// The cloud's reports come from the same aggregators over the same records: after a sync, the
/// daily summary, item mix, tax export and payment reconciliation of every day agree with the
/// register's to the cent.
#[test]
fn the_clouds_reports_match_the_registers_to_the_cent() {
    let cloud = TestCloud::start("sync_reports");
    let tenant = cloud.create_tenant("Reports");
    let code = cloud.enrolment_code(tenant);
    let mut till = Till::new();
    let clock = till.clock.clone();
    run_traffic(&mut till.reg, &clock, Traffic { sales: 400, seed: 7, days: 3 }, |_| {}).unwrap();
    busy_day(&mut till);
    till.enroll(&cloud.url(), &code).expect("enrol");
    let s = till.sync_until_clean(5);
    assert_eq!(till.reg.outbox_status().unwrap().depth, 0, "{s:?}");

    let session = cloud.owner_session(tenant, "owner@reports.example");
    // A fresh authenticator code for the register's owner: the one used at enrolment is spent.
    till.clock.advance(SignedDuration::from_secs(60));
    let owner = till.owner();
    let today = till.reg.today();
    let mut checked = 0;
    for back in 0..4 {
        let day = today.checked_sub(jiff::Span::new().days(back)).unwrap();
        let q = format!("from={day}&venue={}", tenant.venue);
        let local = serde_json::to_value(till.reg.daily_summary(&owner, day).unwrap()).unwrap();
        let remote = cloud.get_json(&format!("/v1/reports/daily?{q}"), &session);
        if local["summary"]["order_count"].as_i64().unwrap_or(0) > 0 {
            checked += 1;
        }
        assert_eq!(local["summary"], remote["summary"], "daily summary of {day}");
        assert_eq!((&local["from"], &local["to"]), (&remote["from"], &remote["to"]), "the business day's bounds");

        let mix = till.reg.item_mix(&owner, day, day).unwrap();
        let local = serde_json::to_value(&mix).unwrap();
        let remote = cloud.get_json(&format!("/v1/reports/item-mix?{q}"), &session);
        for field in ["categories", "products"] {
            assert_eq!(local.get(field), remote.get(field), "item mix {field} of {day}");
        }
        // CSV too: the same writer on both sides, so the same bytes.
        let (kind, csv) = cloud.get_text(&format!("/v1/reports/item-mix?{q}&format=csv"), &session);
        assert!(kind.starts_with("text/csv"), "{kind}");
        assert_eq!(csv, mix.to_csv(), "item mix CSV of {day}");

        let local = serde_json::to_value(till.reg.tax_export(&owner, day, day).unwrap()).unwrap();
        let remote = cloud.get_json(&format!("/v1/reports/tax?{q}"), &session);
        assert_eq!(local["rows"], remote["rows"], "tax export of {day}");

        let payments = till.reg.payments_report(&owner, &pos_app::PaymentsScope::Day(day)).unwrap();
        let local = serde_json::to_value(&payments).unwrap();
        let remote = cloud.get_json(&format!("/v1/reports/payments?{q}"), &session);
        for field in ["rows", "shifts", "open_shifts"] {
            assert_eq!(local[field], remote[field], "payment reconciliation {field} of {day}");
        }
        let (_, csv) = cloud.get_text(&format!("/v1/reports/payments?{q}&format=csv"), &session);
        assert_eq!(csv, payments.to_csv(), "payment reconciliation CSV of {day}");
    }
    assert!(checked >= 3, "days with sales were compared");
}
