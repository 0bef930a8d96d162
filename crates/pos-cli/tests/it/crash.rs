//! Crash safety: posctl records sales and is killed with SIGKILL at random moments, many times
//! over. Every sale whose call returned (and was printed) must be there afterwards, the file must
//! pass SQLCipher's integrity check, and receipt and outbox sequences must have no gaps.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::*;

const KILLS: u64 = 15;

#[test]
fn sigkill_at_random_moments_loses_no_returned_sale() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    init_demo(&dir);
    #[allow(clippy::disallowed_methods)] // A fresh seed per run; it is printed for replay.
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
    eprintln!("crash test seed {seed}");
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut returned: BTreeSet<i64> = BTreeSet::new();
    for round in 0..KILLS {
        let mut child = posctl()
            .arg("--data-dir")
            .arg(&dir)
            .args(["demo-sales", "--count", "1000000", "--days", "1", "--progress", "--seed"])
            .arg(round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<i64>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                    && let Some(n) = v["receipt_no"].as_i64()
                {
                    let _ = tx.send(n);
                }
            }
        });
        // Wait for the first durable sale, then kill at a random moment within the next 400 ms.
        let first = rx.recv_timeout(Duration::from_secs(60));
        if first.is_err() {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("round {round}: no sale within 60 s: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(next() % 400));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        returned.insert(first.unwrap());
        returned.extend(rx.try_iter());
    }
    assert!(returned.len() as u64 > KILLS, "too few sales recorded to prove anything");

    let doctor = json(&dir, &["doctor"]);
    assert_eq!(doctor["ok"], true, "store damaged after crashes: {doctor}");
    assert_eq!(doctor["integrity"], serde_json::json!([]), "{doctor}");
    let stored = sale_receipts(&dir);
    let lost: Vec<&i64> = returned.difference(&stored).collect();
    assert!(lost.is_empty(), "sales whose call returned are missing after a crash: {lost:?}");
}
