//! `posctl sync enroll | now | status` against the real cloud service on a throw-away PostgreSQL,
//! with the device key in the real Secret Service.

use std::process::Command;

use pos_cloud::testing::TestCloud;
use pos_test_support::{Faults, FaultyProxy};

use crate::support::*;

fn secret_tool(args: &[&str]) -> std::process::Output {
    Command::new("secret-tool").args(args).output().expect("secret-tool runs")
}

fn count(cloud: &TestCloud, tenant: pos_cloud::testing::TestTenant, sql: &str) -> i64 {
    cloud.query_text(tenant.tenant, sql)[0].parse().unwrap()
}

#[test]
fn posctl_enrols_syncs_and_reports() {
    let cloud = TestCloud::start("posctl_sync");
    let tenant = cloud.create_tenant("posctl");
    let code = cloud.enrolment_code(tenant);
    let proxy = FaultyProxy::start(cloud.addr, Faults::none(), 3).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    init_demo(&dir);
    let mut owner = enrol_owner(&dir);

    // Not enrolled: status says so, `now` fails with not_enrolled and changes nothing.
    let status = json(&dir, &["sync", "status"]);
    assert_eq!(status["enrolled"], false);
    assert_eq!(status["online"], false);
    let out = run(&dir, &["sync", "now"]);
    assert_eq!(error(&out).0, "not_enrolled");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["enrolled"], false);

    // Plain http to another machine is refused; a cashier may not enrol.
    let out = run_elevated(&dir, &mut owner, &["sync", "enroll", "--url", "http://cloud.example", "--code", &code]);
    let (code_, message) = error(&out);
    assert_eq!(code_, "invalid_input");
    assert!(message.contains("https://"), "{message}");
    let out = run_as(&dir, CASHIER, &["sync", "enroll", "--url", &proxy.url()], &format!("{code}\n"));
    assert!(!out.status.success());

    // The code on standard input, after the PIN and the authenticator code.
    let full = ["--staff", OWNER.0, "sync", "enroll", "--url", &proxy.url()];
    let input = format!("{}\n{}\n{code}\n", OWNER.1, owner.next_code());
    let status = json_in(&dir, &full, &input);
    assert_eq!(status["enrolled"], true, "{status}");
    assert_eq!(status["venue_name"], "posctl café");
    // The device key is in the Secret Service, and nowhere in the data directory.
    let key_name = format!("{}/sync-device-key", store_id(&dir));
    let key = secret_tool(&["lookup", "service", "pos-register", "username", &key_name]);
    assert!(key.status.success(), "sync key not in the Secret Service");
    assert_eq!(key.stdout.len(), 32);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(32).any(|w| w == &key.stdout[..]), "the sync key leaked into the data directory");
    }

    // The code is used up.
    let other = tmp.path().join("other");
    init_demo(&other);
    let mut other_owner = enrol_owner(&other);
    let out = run_elevated(&other, &mut other_owner, &["sync", "enroll", "--url", &cloud.url(), "--code", &code]);
    let (code_, message) = error(&out);
    assert_eq!(code_, "invalid_input");
    assert!(message.contains("already used"), "{message}");

    json(&dir, &["demo-sales", "--count", "25", "--seed", "5"]);
    let depth = json(&dir, &["sync", "status"])["outbox"]["depth"].as_i64().unwrap();
    assert!(depth > 25);
    let summary = json(&dir, &["sync", "now"]);
    assert_eq!(summary["error"], serde_json::Value::Null, "{summary}");
    assert_eq!(summary["online"], true);
    assert_eq!(summary["acknowledged"].as_i64(), Some(depth));
    assert_eq!(summary["outbox_depth"], 0);
    let status = json(&dir, &["sync", "status"]);
    assert_eq!(status["online"], true, "{status}");
    assert_eq!(status["outbox"]["depth"], 0);
    assert_eq!(status["audit_held_through"], status["audit_head"], "the whole chain is in the cloud");
    assert_eq!(status["quarantined"], 0);
    // (Listing the orders signs a cashier in: one more audit entry, for the next round.)
    assert_eq!(count(&cloud, tenant, "SELECT count(*) FROM orders"), sale_receipts(&dir).len() as i64);

    // The cloud out of reach: `now` prints what it did, then cloud_unavailable; the sales wait.
    proxy.set_faults(Faults { drop_request: 1000, ..Faults::none() });
    json(&dir, &["demo-sales", "--count", "3", "--seed", "6"]);
    let out = run(&dir, &["sync", "now"]);
    let (code_, message) = error(&out);
    assert_eq!(code_, "cloud_unavailable", "{message}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["online"], false);
    assert!(summary["outbox_depth"].as_i64().unwrap() >= 3);
    let status = json(&dir, &["sync", "status"]);
    assert_eq!(status["online"], false);
    assert_eq!(status["consecutive_failures"], 1);
    assert!(status["next_attempt_at"].is_string(), "{status}");
    assert!(status["last_error"].as_str().unwrap().contains("not reachable"), "{status}");

    proxy.set_faults(Faults::none());
    let summary = json(&dir, &["sync", "now"]);
    assert_eq!(summary["outbox_depth"], 0, "{summary}");
    assert_eq!(count(&cloud, tenant, "SELECT count(*) FROM orders"), sale_receipts(&dir).len() as i64);
}
