//! The database key lives in the real Secret Service; a lost key is recovered with the recovery
//! secret; without a credential store nothing starts and nothing is written.

use std::process::Command;

use crate::support::*;

fn secret_tool(args: &[&str]) -> std::process::Output {
    Command::new("secret-tool").args(args).output().expect("secret-tool runs")
}

#[test]
fn key_is_in_the_secret_service_and_recovery_restores_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let init = init_demo(&dir);
    let recovery = init["recovery_secret"].as_str().unwrap().to_owned();
    let id = store_id(&dir);
    let key_name = format!("{id}/db-key");

    // The key is in the Secret Service, 32 bytes, and nowhere in the data directory.
    let found = secret_tool(&["lookup", "service", "pos-register", "username", &key_name]);
    assert!(found.status.success(), "db key not in the Secret Service");
    assert_eq!(found.stdout.len(), 32, "the raw key is 256 bits");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(32).any(|w| w == &found.stdout[..]), "the key leaked into the data directory");
    }
    let doctor = json(&dir, &["doctor"]);
    assert_eq!(doctor["ok"], true, "{doctor}");
    // Pages are encrypted through our crypto provider (pos-store's codec.rs), not OpenSSL's.
    assert_eq!(doctor["cipher_provider"], "pos-rustcrypto", "{doctor}");

    // Lose the key: the store refuses to open and says how to recover.
    assert!(secret_tool(&["clear", "service", "pos-register", "username", &key_name]).status.success());
    let (code, message) = error(&run(&dir, &["doctor"]));
    assert_eq!(code, "key_missing");
    assert!(message.contains("posctl recover"), "{message}");

    // A wrong recovery secret changes nothing.
    let mut wrong = posctl();
    wrong.arg("--data-dir").arg(&dir).arg("recover");
    let out = pipe(wrong, "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH\n");
    assert_eq!(error(&out).0, "wrong_key");
    assert!(!secret_tool(&["lookup", "service", "pos-register", "username", &key_name]).status.success());

    // The right one puts the key back, and the sales are readable again.
    let mut right = posctl();
    right.arg("--data-dir").arg(&dir).arg("recover");
    let out = pipe(right, &format!("{}\n", recovery.to_lowercase()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doctor = json(&dir, &["doctor"]);
    assert_eq!(doctor["ok"], true, "{doctor}");
    assert_eq!(secret_tool(&["lookup", "service", "pos-register", "username", &key_name]).stdout, found.stdout);
    // The device's audit key came back too: the chain still verifies, restore included.
    let audit_key = secret_tool(&["lookup", "service", "pos-register", "username", &format!("{id}/audit-key")]);
    assert_eq!(audit_key.stdout.len(), 32, "the audit signing key is in the Secret Service");
    let verify = json(&dir, &["audit", "verify"]);
    assert_eq!(verify["ok"], true, "{verify}");
}

fn pipe(mut cmd: Command, input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn without_a_credential_store_nothing_starts_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let out = posctl()
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .arg("--data-dir")
        .arg(&dir)
        .args(["init", "--demo"])
        .output()
        .unwrap();
    let (code, message) = error(&out);
    assert_eq!(code, "credential_store_unavailable");
    assert!(message.contains("dbus-run-session") && message.contains("gnome-keyring-daemon"), "{message}");
    assert!(!dir.exists(), "nothing may be written without a credential store");

    // An existing store does not open either, and is left as it was.
    let existing = tmp.path().join("existing");
    init_demo(&existing);
    let before = std::fs::read(existing.join("register.db")).unwrap();
    let out = posctl()
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .arg("--data-dir")
        .arg(&existing)
        .arg("doctor")
        .output()
        .unwrap();
    assert_eq!(error(&out).0, "credential_store_unavailable");
    assert_eq!(std::fs::read(existing.join("register.db")).unwrap(), before);
}
