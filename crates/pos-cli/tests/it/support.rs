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
    posctl().arg("--data-dir").arg(dir).args(args).stdin(Stdio::null()).output().expect("posctl runs")
}

/// Runs posctl with `input` on standard input (PINs and codes are never arguments).
pub fn run_in(dir: &Path, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = posctl()
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("posctl starts");
    // A command that ends before reading all its input (an early refusal) closes the pipe first:
    // that is its answer, judged by the caller from the output, not a failure to write.
    match child.stdin.take().expect("stdin").write_all(input.as_bytes()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => panic!("write stdin: {e}"),
    }
    child.wait_with_output().expect("posctl runs")
}

pub fn json_in(dir: &Path, args: &[&str], input: &str) -> serde_json::Value {
    parse_success(args, run_in(dir, args, input))
}

fn parse_success(args: &[&str], out: Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "posctl {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("posctl {args:?}: not JSON ({e})"))
}

/// Demo staff ids and PINs (the order `init --demo` creates them in).
pub const OWNER: (&str, &str) = ("1", "4711");
pub const MANAGER: (&str, &str) = ("2", "2468");
pub const CASHIER: (&str, &str) = ("3", "1234");

/// Runs a command as a demo staff member: `--staff ID`, PIN on standard input.
pub fn json_as(dir: &Path, who: (&str, &str), args: &[&str]) -> serde_json::Value {
    let full: Vec<&str> = ["--staff", who.0].iter().chain(args).copied().collect();
    json_in(dir, &full, &format!("{}\n", who.1))
}

pub fn run_as(dir: &Path, who: (&str, &str), args: &[&str], extra_input: &str) -> Output {
    let full: Vec<&str> = ["--staff", who.0].iter().chain(args).copied().collect();
    run_in(dir, &full, &format!("{}\n{extra_input}", who.1))
}

/// RFC 6238 written out here, independently of the register's implementation: HMAC-SHA1 over
/// the big-endian step counter, dynamic truncation, six digits.
pub fn totp_code(secret: &[u8], step: u64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret).unwrap();
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    format!("{:06}", bin % 1_000_000)
}

#[allow(clippy::disallowed_methods)] // posctl runs on the real clock, so its codes must too.
fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// An owner's authenticator: hands out codes for strictly increasing steps, as a person would
/// (a code is never accepted twice), using the one-step tolerance either side before waiting.
pub struct Authenticator {
    secret: Vec<u8>,
    last_step: Option<u64>,
}

impl Authenticator {
    pub fn next_code(&mut self) -> String {
        loop {
            let now = unix_now() / 30;
            let step = self.last_step.map_or(now.saturating_sub(1), |l| (l + 1).max(now.saturating_sub(1)));
            if step <= now + 1 {
                self.last_step = Some(step);
                return totp_code(&self.secret, step);
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    }
}

/// Enrols the demo owner's authenticator through `posctl staff enrol-totp` (PIN, then the first
/// code once the secret is shown).
pub fn enrol_owner(dir: &Path) -> Authenticator {
    use std::io::{BufRead, Write};
    let mut child = posctl()
        .arg("--data-dir")
        .arg(dir)
        .args(["--staff", OWNER.0, "staff", "enrol-totp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("posctl starts");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}", OWNER.1).unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "posctl ended before showing the secret: {first}");
        first.push_str(&line);
        if line == "}\n" {
            break;
        }
    }
    let shown: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert!(shown["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/"), "{shown}");
    let secret = data_encoding::BASE32_NOPAD.decode(shown["secret_base32"].as_str().unwrap().as_bytes()).unwrap();
    let mut auth = Authenticator { secret, last_step: None };
    writeln!(stdin, "{}", auth.next_code()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "enrolment failed: {}", String::from_utf8_lossy(&out.stderr));
    auth
}

/// Runs a back-office command as the demo owner: PIN, then a fresh code.
pub fn json_elevated(dir: &Path, auth: &mut Authenticator, args: &[&str]) -> serde_json::Value {
    let full: Vec<&str> = ["--staff", OWNER.0].iter().chain(args).copied().collect();
    json_in(dir, &full, &format!("{}\n{}\n", OWNER.1, auth.next_code()))
}

pub fn run_elevated(dir: &Path, auth: &mut Authenticator, args: &[&str]) -> Output {
    let full: Vec<&str> = ["--staff", OWNER.0].iter().chain(args).copied().collect();
    run_in(dir, &full, &format!("{}\n{}\n", OWNER.1, auth.next_code()))
}

/// Runs posctl and returns its JSON output, failing the test with stderr on error.
pub fn json(dir: &Path, args: &[&str]) -> serde_json::Value {
    parse_success(args, run(dir, args))
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

/// Every receipt number of a sale in the store (listed by a demo cashier).
pub fn sale_receipts(dir: &Path) -> std::collections::BTreeSet<i64> {
    let orders = json_as(dir, CASHIER, &["orders", "--from", "2000-01-01", "--to", "2100-12-31"]);
    orders.as_array().unwrap().iter().filter_map(|o| o["receipt_no"].as_i64()).collect()
}
