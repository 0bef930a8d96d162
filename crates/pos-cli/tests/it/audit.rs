//! `posctl audit verify` and `audit export` against a store whose keys are in the real Secret
//! Service; tampering done with the database key is named by sequence number.

use std::process::Command;

use crate::support::*;

fn db_key(dir: &std::path::Path) -> Vec<u8> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "pos-register", "username", &format!("{}/db-key", store_id(dir))])
        .output()
        .expect("secret-tool runs");
    assert!(out.status.success());
    out.stdout
}

#[test]
fn verify_names_the_first_tampered_entry_and_exports_are_back_office() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    init_demo(&dir);
    json(&dir, &["demo-sales", "--count", "20", "--days", "1", "--seed", "5"]);
    let ok = json(&dir, &["audit", "verify"]);
    assert_eq!(ok["ok"], true, "{ok}");
    let entries = ok["entries"].as_u64().unwrap();
    assert!(entries > 20, "{ok}");

    // The export needs PIN and code; a manager without an authenticator cannot, nor can a cashier.
    let (code, _) = error(&run_as(&dir, CASHIER, &["audit", "export"], "123456\n"));
    assert_eq!(code, "totp_not_enrolled", "a cashier has no authenticator");
    let mut auth = enrol_owner(&dir);
    let csv = run_elevated(&dir, &mut auth, &["audit", "export", "--format", "csv"]);
    assert!(csv.status.success(), "{}", String::from_utf8_lossy(&csv.stderr));
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert!(csv.starts_with("device,public_key,seq,hash,signature,body\n"), "{csv}");
    assert!(csv.lines().count() as u64 > entries, "every entry exported");

    // An attacker with the key drops the triggers and edits a sale's amount.
    let key = db_key(&dir);
    {
        let conn = rusqlite::Connection::open(dir.join("register.db")).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA key = \"x'{}'\"; PRAGMA cipher_hmac_algorithm = HMAC_SHA256; PRAGMA cipher_page_size = 2048;",
            key.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ))
        .unwrap();
        conn.execute_batch("DROP TRIGGER audit_log_no_update;").unwrap();
        let seq: i64 = conn
            .query_row("SELECT min(seq) FROM audit_log WHERE body LIKE '%\"action\":\"sale\"%'", [], |r| r.get(0))
            .unwrap();
        conn.execute("UPDATE audit_log SET body = replace(body, '\"amount\":', '\"amount\":9') WHERE seq = ?1", [seq])
            .unwrap();
        let out = run(&dir, &["audit", "verify"]);
        let (code, message) = error(&out);
        assert_eq!(code, "audit_chain_broken");
        assert!(message.starts_with(&format!("audit entry {seq}: hash_mismatch")), "{message}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["fault"]["seq"], seq);
    }
}
