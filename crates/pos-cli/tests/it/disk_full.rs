//! A full disk: the sale in progress fails with a clear error, and earlier sales are intact.
//! The disk is made "full" for the posctl process with a file-size limit (RLIMIT_FSIZE).

use std::process::Command;

use crate::support::*;

#[test]
fn a_full_disk_fails_the_sale_cleanly_and_keeps_earlier_sales() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    init_demo(&dir);
    json(&dir, &["demo-sales", "--count", "50", "--days", "1"]);
    let before = sale_receipts(&dir);
    assert_eq!(before.len(), 50);

    // Allow the files to grow only a little beyond their current size.
    let largest = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).max().unwrap();
    let blocks = largest / 512 + 64; // POSIX sh counts ulimit -f in 512-byte blocks
    let script = format!("trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\"");
    let out = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_posctl"))
        .arg("--data-dir")
        .arg(&dir)
        .args(["demo-sales", "--count", "20000", "--days", "1", "--seed", "3"])
        .output()
        .unwrap();
    let (code, message) = error(&out);
    assert_eq!(code, "disk_full", "{message}");
    assert!(message.contains("earlier records are intact"), "{message}");

    let doctor = json(&dir, &["doctor"]);
    assert_eq!(doctor["ok"], true, "{doctor}");
    let after = sale_receipts(&dir);
    assert!(before.is_subset(&after), "earlier sales were lost");
}
