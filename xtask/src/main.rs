//! Project automation. `cargo xtask demo` runs the main job; `cargo xtask test` runs every check CI
//! runs; `cargo xtask bench` prints the benchmark lines. Each installs what it needs first.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Debian packages the project needs: a C toolchain and Perl to build SQLCipher and OpenSSL from
/// source, and a Secret Service (GNOME Keyring on a private D-Bus) for the credential store.
/// Debian packages the build and tests need: a C toolchain for SQLCipher, the keyring for the
/// credential store, socat for the virtual serial printer, poppler-utils to read PDFs back.
const PACKAGES: &[&str] =
    &["build-essential", "perl", "gnome-keyring", "dbus-x11", "libsecret-tools", "socat", "poppler-utils"];

fn main() -> Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = project_root();
    env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("setup") => setup(),
        Some("demo") => demo(&root, &args[1..]),
        Some("test") => test(&root),
        Some("bench") => bench(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  setup   install the system packages the project needs\n  demo    build, create a demo store, record demo sales, print the Z report\n  test    formatting, lints, unit, integration and end-to-end tests (what CI runs)\n  bench   benchmarks: prints `bench <name> <value> <unit>` lines"
            );
            bail!("unknown or missing command")
        }
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the project root").to_owned()
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {}", show(cmd));
    let status = cmd.status().with_context(|| format!("cannot run {}", show(cmd)))?;
    if !status.success() {
        bail!("{} failed with {status}", show(cmd));
    }
    Ok(())
}

fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn have_package(name: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", name])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// Installs missing Debian packages (with sudo when not root).
fn apt_install(packages: &[&str]) -> Result<()> {
    if !Path::new("/usr/bin/dpkg-query").exists() {
        eprintln!("not a Debian system: make sure these are installed: {}", packages.join(" "));
        return Ok(());
    }
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !have_package(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
    let apt = |args: &[&str]| {
        let mut c = Command::new(sudo.first().copied().unwrap_or("apt-get"));
        if !sudo.is_empty() {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run(&mut apt(&["update", "-qq"]))?;
    let mut install = apt(&["install", "-y", "-qq", "--no-install-recommends"]);
    install.args(&missing);
    run(&mut install)
}

fn setup() -> Result<()> {
    apt_install(PACKAGES)
}

/// Runs `script` in a private D-Bus session with a freshly unlocked GNOME Keyring whose data lives
/// in `keyring_home` (its control socket too, so no daemon of another session is reused), unless a
/// Secret Service is already reachable (a desktop session).
fn with_secret_service(script: &str, keyring_home: &Path, use_existing: bool) -> Command {
    if use_existing && env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() && secret_service_answers() {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        return c;
    }
    let inner = format!(
        "export XDG_DATA_HOME='{home}' XDG_RUNTIME_DIR='{home}/run'; mkdir -p -m 700 \"$XDG_RUNTIME_DIR\"; printf '%s' \"$POS_KEYRING_PASSWORD\" | gnome-keyring-daemon --unlock --components=secrets >/dev/null; {script}",
        home = keyring_home.display()
    );
    let mut c = Command::new("dbus-run-session");
    c.args(["--", "sh", "-c", &inner]).env("POS_KEYRING_PASSWORD", "pos-test-keyring");
    c
}

fn secret_service_answers() -> bool {
    Command::new("secret-tool")
        .args(["search", "service", "pos-register-probe"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success() || s.code() == Some(1))
        .unwrap_or(false)
}

fn demo(root: &Path, args: &[String]) -> Result<()> {
    apt_install(PACKAGES)?;
    run(Command::new("cargo").args(["build", "--release", "-p", "pos-cli"]))?;
    let posctl = root.join("target/release/posctl");
    let dir = match args.iter().position(|a| a == "--dir") {
        Some(i) => PathBuf::from(args.get(i + 1).context("--dir needs a path")?),
        None => root.join("target/demo-store"),
    };
    if dir.join("store.json").exists() {
        eprintln!("removing the previous demo store in {}", dir.display());
        std::fs::remove_dir_all(&dir)?;
    }
    let keyring = root.join("target/demo-keyring");
    std::fs::create_dir_all(&keyring)?;
    let p = posctl.display();
    let d = dir.display();
    let script = format!(
        "set -e; \
         echo '== posctl init --demo'; '{p}' --data-dir '{d}' init --demo; \
         echo '== posctl demo-sales --count 3000 --days 3'; '{p}' --data-dir '{d}' demo-sales --count 3000 --days 3 --seed 7; \
         echo '== posctl doctor'; '{p}' --data-dir '{d}' doctor; \
         echo '== posctl audit verify'; '{p}' --data-dir '{d}' audit verify; \
         echo '== posctl report z (the last closed shift), as the manager Mia Keller (PIN on stdin)'; \
         echo 2468 | '{p}' --data-dir '{d}' --staff 2 report z --format text"
    );
    run(&mut with_secret_service(&script, &keyring, true))
}

fn test(root: &Path) -> Result<()> {
    apt_install(PACKAGES)?;
    run(Command::new("cargo").args(["fmt", "--all", "--", "--check"]))?;
    run(Command::new("cargo").args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    // Every test runs inside its own D-Bus session with a throw-away keyring, so the credential
    // store tests use the real Secret Service and leave nothing behind.
    let keyring = tempdir(root, "test-keyring")?;
    let result = run_counting_tests(&mut with_secret_service(
        "cargo test --workspace --all-targets --no-fail-fast",
        &keyring,
        false,
    ));
    let _ = std::fs::remove_dir_all(&keyring);
    result
}

/// Runs the test command, passing its output through, and closes with one line that sums every
/// test binary's result, so a reader (or CI) sees at once how many tests ran.
fn run_counting_tests(cmd: &mut Command) -> Result<()> {
    use std::io::{BufRead, BufReader, Write};
    eprintln!("$ {}", show(cmd));
    let mut child = cmd.stdout(Stdio::piped()).spawn().with_context(|| format!("cannot run {}", show(cmd)))?;
    let (mut passed, mut failed) = (0u64, 0u64);
    let stdout = child.stdout.take().context("test output")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if let Some(rest) = line.strip_prefix("test result: ") {
            let count = |word: &str| {
                rest.split(';')
                    .find_map(|part| part.trim().strip_suffix(word)?.split_whitespace().last()?.parse::<u64>().ok())
            };
            passed += count("passed").unwrap_or(0);
            failed += count("failed").unwrap_or(0);
        }
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
    }
    let status = child.wait()?;
    println!("tests: {passed} passed, {failed} failed");
    if !status.success() || failed > 0 {
        bail!("tests failed ({status})");
    }
    if passed == 0 {
        bail!("no test ran");
    }
    Ok(())
}

fn bench(args: &[String]) -> Result<()> {
    apt_install(PACKAGES)?;
    let mut c = Command::new("cargo");
    c.args(["run", "--release", "--quiet", "-p", "pos-app", "--features", "test-support", "--bin", "pos-bench", "--"]);
    c.args(args);
    run(&mut c)
}

fn tempdir(root: &Path, name: &str) -> Result<PathBuf> {
    let dir = root.join("target").join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Tidy checks: architectural rules that are absences, verified on the dependency graph.
#[cfg(test)]
mod tidy {
    use std::collections::{BTreeSet, HashMap};
    use std::process::Command;

    use serde_json::Value;

    /// (package name, its normal — non-dev, non-build — dependencies by package name), for the
    /// whole resolved graph.
    fn normal_graph() -> HashMap<String, Vec<String>> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--locked"])
            .current_dir(super::project_root())
            .output()
            .expect("cargo metadata runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
        let name_of: HashMap<&str, &str> = meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
            .collect();
        let mut graph = HashMap::new();
        for node in meta["resolve"]["nodes"].as_array().unwrap() {
            let deps = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["dep_kinds"].as_array().unwrap().iter().any(|k| k["kind"].is_null()))
                .map(|d| name_of[d["pkg"].as_str().unwrap()].to_owned())
                .collect();
            graph.insert(name_of[node["id"].as_str().unwrap()].to_owned(), deps);
        }
        graph
    }

    fn closure(graph: &HashMap<String, Vec<String>>, root: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![root.to_owned()];
        while let Some(p) = stack.pop() {
            for d in graph.get(&p).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    stack.push(d.clone());
                }
            }
        }
        seen
    }

    #[test]
    fn pure_crates_depend_on_no_io() {
        let graph = normal_graph();
        let io = ["rusqlite", "libsqlite3-sys", "keyring", "zbus", "reqwest", "tokio", "tauri", "hyper", "openssl-sys"];
        for pure in ["pos-core", "pos-auth", "pos-audit", "pos-sync-protocol"] {
            let deps = closure(&graph, pure);
            let bad: Vec<&&str> = io.iter().filter(|c| deps.contains(**c)).collect();
            assert!(bad.is_empty(), "{pure} must do no I/O but depends on {bad:?}");
        }
    }

    #[test]
    fn only_the_store_speaks_sql() {
        let graph = normal_graph();
        for (pkg, deps) in &graph {
            if pkg.starts_with("pos-") && pkg != "pos-store" {
                assert!(
                    !deps.iter().any(|d| d == "rusqlite"),
                    "{pkg} depends on rusqlite directly; only pos-store may"
                );
            }
        }
    }
}
