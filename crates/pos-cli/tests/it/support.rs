//! Running `posctl` and reading its JSON.

use std::path::Path;
use std::process::{Command, Output, Stdio};

pub fn posctl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_posctl"))
}

/// Fails loudly when no Secret Service is reachable: these tests are about the real one.
pub fn require_secret_service() {
    let answers = || {
        Command::new("secret-tool")
            .args(["search", "service", "pos-register-probe"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.code().is_some())
            .unwrap_or(false)
    };
    // The daemon may still be starting when the first tests run: give it a few seconds.
    let mut ok = answers();
    for _ in 0..50 {
        if ok {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        ok = answers();
    }
    assert!(
        ok && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests need a Secret Service (GNOME Keyring) on the session bus: run them with `cargo xtask test`"
    );
}

pub fn run(dir: &Path, args: &[&str]) -> Output {
    posctl().arg("--data-dir").arg(dir).args(args).output().expect("posctl runs")
}

/// Runs posctl and returns its JSON output, failing the test with stderr on error.
pub fn json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "posctl {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("posctl {args:?}: not JSON ({e})"))
}

/// The error posctl printed on stderr: (code, message).
pub fn error(out: &Output) -> (String, String) {
    assert!(!out.status.success(), "expected a failure, got: {}", String::from_utf8_lossy(&out.stdout));
    let v: serde_json::Value = serde_json::from_slice(&out.stderr)
        .unwrap_or_else(|_| panic!("stderr is not a JSON error: {}", String::from_utf8_lossy(&out.stderr)));
    (v["error"]["code"].as_str().unwrap_or("").to_owned(), v["error"]["message"].as_str().unwrap_or("").to_owned())
}

pub fn init_demo(dir: &Path) -> serde_json::Value {
    require_secret_service();
    json(dir, &["init", "--demo"])
}

pub fn store_id(dir: &Path) -> String {
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("store.json")).unwrap()).unwrap();
    meta["store_id"].as_str().unwrap().to_owned()
}

/// Every receipt number of a sale in the store.
pub fn sale_receipts(dir: &Path) -> std::collections::BTreeSet<i64> {
    let orders = json(dir, &["export", "sales", "--from", "2000-01-01", "--to", "2100-12-31"]);
    orders.as_array().unwrap().iter().filter_map(|o| o["receipt_no"].as_i64()).collect()
}
