//! End-to-end tests of the real register app: the built binary in a real window (under Xvfb in
//! CI), driven through WebDriver by `tauri-driver` and WebKitWebDriver, on a real encrypted demo
//! store whose key is in the real credential store. They click and type as a cashier does.
//!
//! Run by `cargo xtask test` (which provides Xvfb, a private keyring and `tauri-driver`);
//! directly: `cargo test -p pos-register --features e2e --test e2e` with those in place.
//! Screenshots of each screen land in `target/e2e-screenshots/`.

mod webdriver;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use pos_app::{OsCredentialStore, SystemClock};
use serde_json::json;
use webdriver::Session;

/// Demo staff (ids in the order the demo creates them) and their PINs, as in the README.
const MANAGER: (i64, &str) = (2, "2468");
const CASHIER: (i64, &str) = (3, "1234");

struct Driver {
    child: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn tauri_driver() -> PathBuf {
    if let Some(p) = std::env::var_os("TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let p = home.join(".cargo/bin/tauri-driver");
    assert!(p.exists(), "tauri-driver is not installed: `cargo xtask setup` installs it");
    p
}

/// A demo store in a fresh directory, and a driver that will start the app on it.
fn start(dir: &Path) -> (Driver, Session) {
    assert!(std::env::var_os("DISPLAY").is_some(), "no DISPLAY: run under Xvfb (cargo xtask test does)");
    let secrets = OsCredentialStore::connect().expect("a Secret Service (cargo xtask test provides one)");
    pos_app::demo::init_demo(dir, &secrets, Arc::new(SystemClock)).expect("demo store");
    let (port, native) = (free_port(), free_port());
    let child = Command::new(tauri_driver())
        .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
        .env("POS_DATA_DIR", dir)
        // WebKitWebDriver's screenshots need compositing (see `lean_webview` in src-tauri/lib.rs).
        .env("POS_WEBVIEW_COMPOSITING", "on-demand")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("tauri-driver starts");
    let driver = Driver { child };
    let session = Session::start(port, env!("CARGO_BIN_EXE_pos-register"));
    (driver, session)
}

fn shots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn pin(s: &Session, pad: &str, digits: &str) {
    for d in digits.chars() {
        s.click(&format!("{pad}-{d}"));
    }
    s.click(&format!("{pad}-enter"));
}

/// "€ 12.50" → 1250 (minor units), for comparing what the screen shows.
fn cents(text: &str) -> i64 {
    let t: String = text.chars().filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-' || *c == '−').collect();
    let neg = t.starts_with(['-', '−']);
    let t = t.trim_start_matches(['-', '−']);
    let (i, f) = t.split_once('.').unwrap_or((t, "0"));
    let v = i.parse::<i64>().unwrap() * 100 + format!("{f:0<2}")[..2].parse::<i64>().unwrap();
    if neg { -v } else { v }
}

fn outbox_depth(s: &Session) -> i64 {
    s.text("status-outbox-depth").trim().parse().expect("outbox depth is a number")
}

fn add_first_product(s: &Session) {
    let el = s.find_css("[data-testid^=\"product-\"]");
    s.click_el(&el, "the first product");
}

fn pay_cash_exact_or_more(s: &Session, quick_index: usize) -> i64 {
    s.click("pay");
    s.find("pay-dialog");
    let due = cents(&s.wait_text("pay-due", "."));
    let quick = s.count("[data-testid^=\"quick-\"]");
    assert!(quick > quick_index, "quick cash buttons: {quick}");
    let buttons = s.run_async(
        "const done = arguments[arguments.length-1]; done([...document.querySelectorAll('[data-testid^=\"quick-\"]')].map(b => b.dataset.testid));",
        json!([]),
    );
    let id = buttons[quick_index].as_str().unwrap().to_owned();
    s.click(&id);
    due
}

#[test]
fn a_cashier_sells_refunds_with_approval_and_closes_the_shift() {
    let dir = tempfile::tempdir().unwrap();
    let (_driver, s) = start(dir.path());
    let shots = shots();

    // Sign-in: staff picker and PIN pad; a wrong PIN is refused with a clear message.
    s.find("lock-screen");
    s.screenshot(&shots.join("01-sign-in.png"));
    s.click(&format!("staff-{}", CASHIER.0));
    pin(&s, "signin-pin", "9999");
    s.find("signin-error");
    assert!(s.text("signin-error").to_lowercase().contains("pin"), "wrong PIN message: {}", s.text("signin-error"));
    pin(&s, "signin-pin", CASHIER.1);
    s.find("tab-sell");
    assert!(s.text("signed-in-as").contains("Jonas"));

    // The offline indicator and the outbox count are always visible.
    assert!(s.wait_text("status-online", "Offline").contains("Offline"));

    // Security through the real IPC: a cashier calling back-office commands directly is refused
    // by the core, and nothing changes.
    for (cmd, args) in [
        ("staff_admin", json!({})),
        ("add_staff", json!({"name": "Mallory", "role": "owner", "pin": "9999"})),
        ("reset_pin", json!({"staff_id": 1, "pin": "0000"})),
        ("export_audit", json!({})),
        ("remove_printer", json!({"name": "x"})),
        ("sync_overview", json!({})),
        ("retry_quarantined", json!({"seq": 1})),
        ("sync_now", json!({})),
    ] {
        let r = s.invoke(cmd, args);
        assert_eq!(r["err"]["code"], "permission_denied", "{cmd} as a cashier: {r}");
    }
    let r = s.invoke("plugin:fs|read_text_file", json!({"path": "/etc/passwd"}));
    assert!(r.get("err").is_some(), "a plugin command is not allowed: {r}");
    let info = s.invoke("app_info", json!({}));
    assert_eq!(info["ok"]["staff"].as_array().unwrap().len(), 4, "no staff was added: {info}");

    // Open the shift with a float of 100.00.
    s.click("tab-shift");
    for k in ["1", "0", "0"] {
        s.click(&format!("float-pad-{k}"));
    }
    s.click("open-shift");
    s.wait_text("status-shift", "Shift open");
    let depth_before = outbox_depth(&s);

    // Sell by tapping: the first product twice.
    s.click("tab-sell");
    add_first_product(&s);
    add_first_product(&s);
    s.wait_text("line-1-qty", "2");
    // Sell by scanning: the scanner types into whatever has the focus (here the search box).
    let cats = s.invoke("categories", json!({}))["ok"].clone();
    let scanned = cats
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            s.invoke("products", json!({"category_id": c["id"]}))["ok"].as_array().cloned().unwrap_or_default()
        })
        .filter(|p| p["barcodes"].as_array().is_some_and(|b| !b.is_empty()))
        .nth(3)
        .expect("a demo item with a barcode");
    let barcode = scanned["barcodes"][0].as_str().unwrap().to_owned();
    s.click("search");
    s.keys(&format!("{barcode}\n"));
    s.wait_text("cart", scanned["name"].as_str().unwrap());
    assert_eq!(s.count("[data-testid=\"line-2\"]"), 1, "the scan added a second line");
    let search_left =
        s.run_async("arguments[arguments.length-1](document.querySelector('[data-testid=search]').value)", json!([]));
    assert_eq!(search_left, "", "the scanned digits did not stay in the search box");
    s.screenshot(&shots.join("02-sell.png"));

    // Pay cash with change: the second quick amount is more than due.
    let due = pay_cash_exact_or_more(&s, 1);
    let given = cents(&s.wait_text("pay-given", "."));
    assert!(given > due, "given {given} for {due}");
    s.screenshot(&shots.join("03-pay-cash.png"));
    s.click("complete-sale");
    let change = cents(&s.text("change-due-amount"));
    assert_eq!(change, given - due, "change due");
    s.screenshot(&shots.join("04-change-due.png"));
    s.click("new-sale");
    s.wait_gone("sale-done");
    let depth_after_sale = outbox_depth(&s);
    assert!(depth_after_sale > depth_before, "the sale is waiting in the outbox ({depth_before} → {depth_after_sale})");

    // Pay by card through the terminal (the demo store uses the simulator).
    add_first_product(&s);
    s.click("pay");
    s.click("pay-card");
    s.find("card-state");
    s.wait_text("card-state", "Approved");
    s.screenshot(&shots.join("05-card-approved.png"));
    s.click("complete-sale");
    s.find("sale-done");
    assert_eq!(cents(&s.text("change-due-amount")), 0);
    s.click("new-sale");
    s.wait_gone("sale-done");

    // A sale above the refund threshold (20.00), paid exactly in cash.
    while s.exists("order-total-amount") && cents(&s.text("order-total-amount")) <= 2500 {
        add_first_product(&s);
        std::thread::sleep(std::time::Duration::from_millis(150));
    }
    let big_total = cents(&s.text("order-total-amount"));
    pay_cash_exact_or_more(&s, 0);
    s.click("complete-sale");
    let receipt = s.text("receipt-no").trim_start_matches('#').to_owned();
    s.click("new-sale");

    // Refund it: the core holds it for a manager.
    s.click("tab-orders");
    s.type_into("find-receipt", &receipt);
    s.click("find-go");
    s.wait_text("order-detail", &format!("Receipt #{receipt}"));
    s.click("order-refund");
    s.click("refund-whole");
    s.click("action-confirm");
    s.find("approval-dialog");
    assert!(s.text("approval-amount").contains(&format!("{}.{:02}", big_total / 100, big_total % 100)));
    s.click(&format!("approver-{}", MANAGER.0));
    let first_reason = s.find_css("[data-testid^=\"reason-\"]");
    s.click_el(&first_reason, "a reason");
    s.screenshot(&shots.join("06-manager-approval.png"));
    // A wrong manager PIN is refused and nothing is refunded.
    pin(&s, "approval-pin", "1111");
    s.wait_text("approval-error", "PIN");
    let detail = s.invoke("order_detail", json!({"order": {"receipt": receipt.parse::<i64>().unwrap()}}));
    assert_eq!(detail["ok"]["refunded_total"], "0.00", "nothing refunded before approval: {detail}");
    // The manager's own PIN approves; the refund then goes through.
    pin(&s, "approval-pin", MANAGER.1);
    s.wait_gone("approval-dialog");
    s.wait_text("order-detail", "refunded");
    let detail = s.invoke("order_detail", json!({"order": {"receipt": receipt.parse::<i64>().unwrap()}}));
    assert_eq!(cents(detail["ok"]["refunded_total"].as_str().unwrap()), big_total, "refunded in full: {detail}");
    s.screenshot(&shots.join("07-orders-refunded.png"));

    // Close the shift blind: count the drawer by denomination.
    s.click("tab-shift");
    assert!(!s.exists("x-report"), "a cashier is not offered reports");
    s.click("close-shift");
    s.wait_text("confirm-text", "not reached the cloud");
    s.click("confirm-yes");
    s.find("close-dialog");
    s.type_into("count-5000", "2");
    s.type_into("count-1000", "1");
    s.screenshot(&shots.join("08-blind-close.png"));
    s.click("close-confirm");
    // A big variance is force-closing: the manager approves that too.
    std::thread::sleep(std::time::Duration::from_millis(500));
    if s.exists("approval-dialog") {
        s.click(&format!("approver-{}", MANAGER.0));
        let r = s.find_css("[data-testid^=\"reason-\"]");
        s.click_el(&r, "a reason");
        pin(&s, "approval-pin", MANAGER.1);
        s.wait_gone("approval-dialog");
    }
    s.wait_text("shift-report", "Z report");
    assert_eq!(cents(&s.text("report-counted")), 11000);
    s.screenshot(&shots.join("09-z-report.png"));
    s.wait_text("status-shift", "No shift open");
    // The cashier may not print or export it; the core refuses it through the IPC too.
    assert!(!s.exists("report-pdf"));
    let r = s.invoke("shift_report_pdf", json!({"shift_id": null}));
    assert!(r.get("err").is_some(), "{r}");

    // Signing out with unsynced records warns with the count.
    let depth = outbox_depth(&s);
    s.click("sign-out");
    s.wait_text("confirm-text", &format!("{depth} records"));
    s.click("confirm-yes");
    s.find("lock-screen");

    // A manager finds the cloud connection and any refused records in the back office; this
    // register has no cloud, and says so without alarm.
    assert!(!s.exists("status-quarantined"), "nothing was refused");
    s.click(&format!("staff-{}", MANAGER.0));
    pin(&s, "signin-pin", MANAGER.1);
    s.click("tab-office");
    // The first tab (Staff) is back office proper and asks for an authenticator code; the cloud
    // page does not need one.
    s.find("elevation-dialog");
    s.click("elevation-cancel");
    s.wait_gone("elevation-dialog");
    s.click("bo-tab-cloud");
    assert!(s.wait_text("cloud-state", "Not connected").contains("Not connected"));
    assert!(s.text("cloud-quarantine").contains("Refused by the cloud (0)"), "{}", s.text("cloud-quarantine"));
    let waiting = s.text("cloud-outbox").split_whitespace().next().and_then(|n| n.parse::<i64>().ok());
    assert_eq!(waiting, Some(outbox_depth(&s)), "the page and the status bar agree");
    s.screenshot(&shots.join("10-cloud-sync.png"));
    let r = s.invoke("sync_now", json!({}));
    assert_eq!(r["err"]["code"], "not_enrolled", "{r}");
    s.close();
}
