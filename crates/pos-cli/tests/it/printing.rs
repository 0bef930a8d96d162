//! `posctl printer` and `posctl receipt` against virtual printers (TCP on 127.0.0.1, a socat
//! serial pair) and a store whose keys are in the real Secret Service.

use std::time::Duration;

use pos_print::decode::decode;
use pos_print::status::PrinterStatus;
use pos_print::testing::{SerialPrinter, TcpPrinter, dead_port};

use crate::support::*;

fn first_receipt(dir: &std::path::Path) -> String {
    sale_receipts(dir).into_iter().next().expect("a demo sale").to_string()
}

#[test]
fn printers_are_added_tested_and_asked_for_status() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    init_demo(&dir);
    let mut auth = enrol_owner(&dir);
    let counter = TcpPrinter::start();
    let uri = counter.uri();
    let added = json_elevated(
        &dir,
        &mut auth,
        &["printer", "add", "--name", "Counter", "--connection", &uri, "--columns", "48", "--drawer-pin", "2"],
    );
    assert_eq!(added["connection"], uri.as_str());
    assert_eq!(added["drawer_pin"], 2);
    // Adding a printer is back office: a cashier cannot.
    let (code, _) = error(&run_as(&dir, CASHIER, &["printer", "add", "--name", "X", "--connection", &uri], "000000\n"));
    assert_eq!(code, "totp_not_enrolled");
    let (code, message) =
        error(&run_elevated(&dir, &mut auth, &["printer", "add", "--name", "Bad", "--connection", "lpt1:"]));
    assert_eq!(code, "invalid_input", "{message}");

    let list = json_as(&dir, CASHIER, &["printer", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);

    let sent = json_elevated(&dir, &mut auth, &["printer", "test", "Counter"]);
    assert_eq!(sent[0]["status"], "sent", "{sent}");
    let page = counter.wait_for_jobs(1, Duration::from_secs(3));
    let text = page[0].text();
    assert!(text.contains("TEST PAGE") && text.contains("48 columns, code page pc858"), "{text}");
    assert!(text.contains("Crème brûlée, Weißbier, 5 €"), "{text}");
    assert!(text.contains("Pirozhok s kapustoi"), "Cyrillic is transliterated on PC858: {text}");

    let status = json_as(&dir, CASHIER, &["printer", "status", "Counter"]);
    assert_eq!(status[0]["reachable"], true, "{status}");
    assert_eq!(status[0]["problem"], serde_json::Value::Null);
    counter.set_status(PrinterStatus { online: false, cover_open: true, ..PrinterStatus::default() });
    let status = json_as(&dir, CASHIER, &["printer", "status"]);
    assert_eq!(status[0]["problem"], "cover open", "{status}");
    assert_eq!(status[0]["status"]["cover_open"], true);
}

#[test]
fn receipts_print_render_and_wait_for_a_printer_that_is_off() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    init_demo(&dir);
    json(&dir, &["demo-sales", "--count", "3", "--days", "1", "--seed", "9"]);
    let receipt = first_receipt(&dir);

    let text = run_as(&dir, CASHIER, &["receipt", "render", "--order", &receipt, "--format", "text"], "");
    assert!(text.status.success(), "{}", String::from_utf8_lossy(&text.stderr));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains(&format!("Receipt {receipt}")), "{text}");
    assert!(text.contains("[QR pos:r="), "{text}");

    let escpos = run_as(&dir, CASHIER, &["receipt", "render", "--order", &receipt, "--format", "escpos"], "");
    let d = decode(&escpos.stdout);
    assert!(d.unknown().is_empty() && d.cuts() == 1 && d.qr_payloads().len() == 1);
    assert!(d.qr_payloads()[0].starts_with(&format!("pos:r={receipt}&")));

    let pdf = run_as(&dir, CASHIER, &["receipt", "render", "--order", &receipt, "--format", "pdf"], "");
    assert!(pdf.stdout.starts_with(b"%PDF"));
    let file = tmp.path().join("receipt.pdf");
    std::fs::write(&file, &pdf.stdout).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    let pdf_text = String::from_utf8_lossy(&out.stdout);
    assert!(pdf_text.contains(&receipt) && pdf_text.contains("Café Lindenblatt"), "{pdf_text}");

    // The Z report of the demo's last shift as a PDF.
    let z = run_as(&dir, MANAGER, &["report", "z", "--format", "pdf"], "");
    assert!(z.status.success(), "{}", String::from_utf8_lossy(&z.stderr));
    let zfile = tmp.path().join("z.pdf");
    std::fs::write(&zfile, &z.stdout).unwrap();
    let out = std::process::Command::new("pdftotext").args(["-layout"]).arg(&zfile).arg("-").output().unwrap();
    let z_text = String::from_utf8_lossy(&out.stdout);
    assert!(z_text.contains("Z REPORT") && z_text.contains("Expected"), "{z_text}");
    let (code, _) = error(&run_as(&dir, MANAGER, &["report", "item-mix", "--format", "pdf"], ""));
    assert_eq!(code, "invalid_input");

    // A printer that is off: the receipt is queued, the command says so, and nothing is lost.
    let mut auth = enrol_owner(&dir);
    let port = dead_port();
    let uri = format!("tcp://127.0.0.1:{port}");
    json_elevated(&dir, &mut auth, &["printer", "add", "--name", "Counter", "--connection", &uri]);
    let (code, message) = error(&run_as(&dir, CASHIER, &["receipt", "print", "--order", &receipt], ""));
    assert_eq!(code, "printer_unavailable");
    assert!(message.contains("queued but not printed"), "{message}");
    let jobs = json_as(&dir, CASHIER, &["printer", "jobs"]);
    assert_eq!(jobs[0]["status"], "failed");
    assert_eq!(jobs[0]["attempts"], 1);

    // Back on: the next print goes out, marked as the copy it is.
    let printer = TcpPrinter::start_on(port);
    let job = json_as(&dir, CASHIER, &["receipt", "print", "--order", &receipt]);
    assert_eq!(job["status"], "sent", "{job}");
    assert_eq!(job["copy"], 1);
    let printed = printer.wait_for_jobs(1, Duration::from_secs(3));
    assert!(printed[0].text().contains("*** COPY 1 ***"), "{}", printed[0].text());
}

#[test]
fn a_serial_printer_on_a_pty_pair_prints_the_test_page() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    init_demo(&dir);
    let mut auth = enrol_owner(&dir);
    let printer = SerialPrinter::start(tmp.path()).expect("socat is installed (cargo xtask setup)");
    let uri = printer.uri();
    json_elevated(
        &dir,
        &mut auth,
        &["printer", "add", "--name", "Serial", "--connection", &uri, "--columns", "32", "--code-page", "pc866"],
    );
    let sent = json_elevated(&dir, &mut auth, &["printer", "test", "Serial"]);
    assert_eq!(sent[0]["status"], "sent", "{sent}");
    let d = printer.wait_for_bytes(200, Duration::from_secs(3));
    assert_eq!(d.code_pages(), vec![17]);
    assert!(d.text().contains("Пирожок с капустой"), "{}", d.text());
}
