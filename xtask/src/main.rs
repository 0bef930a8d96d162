//! Project automation. `cargo xtask demo` runs the main job; `cargo xtask test` runs every check CI
//! runs; `cargo xtask bench` prints the benchmark lines. Each installs what it needs first.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Debian packages the build and tests need: a C toolchain and Perl for SQLCipher and OpenSSL, the
/// keyring for the credential store, socat for the virtual serial printer, poppler-utils to read
/// PDFs back, WebKitGTK and friends for the Tauri window, and Xvfb plus WebKitWebDriver to drive
/// the real window in the end-to-end tests.
const PACKAGES: &[&str] = &[
    "build-essential",
    "perl",
    "pkg-config",
    "gnome-keyring",
    "dbus-x11",
    "libsecret-tools",
    "socat",
    "poppler-utils",
    "libwebkit2gtk-4.1-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libssl-dev",
    "libxdo-dev",
    "webkit2gtk-driver",
    "xvfb",
    "postgresql",
    "xauth",
];

fn main() -> Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = project_root();
    env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("setup") => setup(),
        Some("demo") => demo(&root, &args[1..]),
        Some("test") => test(&root),
        Some("bench") => bench(&root, &args[1..]),
        Some("bench-app-inner") => bench_app_inner(&root, &args[1..]),
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
    apt_install(PACKAGES)?;
    ensure_tauri_driver()?;
    ui(false)
}

/// The front-end: installs its npm packages (the locked versions) when missing, then builds it into
/// `ui/dist`, which the app embeds. With `check`, also type-checks it and runs its unit tests.
fn ui(check: bool) -> Result<()> {
    let npm = |args: &[&str]| {
        let mut c = Command::new("npm");
        c.args(["--prefix", "ui"]).args(args);
        c
    };
    let lock = Path::new("ui/package-lock.json");
    let installed = Path::new("ui/node_modules/.package-lock.json");
    let stale = |a: &Path, b: &Path| -> bool {
        match (a.metadata().and_then(|m| m.modified()), b.metadata().and_then(|m| m.modified())) {
            (Ok(a), Ok(b)) => a > b,
            _ => true,
        }
    };
    if !installed.exists() || stale(lock, installed) {
        // Not `npm ci`: the lock file holds only the platform packages the registry serves for
        // Linux (rollup's and esbuild's binaries for other systems are not mirrored), and
        // `npm ci` refuses a lock without all of them. `install --no-save` installs exactly the
        // locked versions and leaves the lock file untouched.
        run(&mut npm(&["install", "--no-save", "--no-audit", "--no-fund"]))?;
    }
    if check {
        run(&mut npm(&["run", "check"]))?;
        run(&mut npm(&["test"]))?;
    }
    run(&mut npm(&["run", "build"]))
}

/// `tauri-driver` (the WebDriver server for Tauri apps) from crates.io, once.
fn ensure_tauri_driver() -> Result<()> {
    if tauri_driver().exists() {
        return Ok(());
    }
    run(Command::new("cargo").args(["install", "tauri-driver", "--locked"]))
}

fn tauri_driver() -> PathBuf {
    let home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default();
    home.join("bin/tauri-driver")
}

/// A virtual X display for the window when there is no real one; stopped when dropped.
struct Xvfb {
    child: Option<std::process::Child>,
    display: String,
}

impl Xvfb {
    fn start() -> Result<Xvfb> {
        if let Some(d) = env::var_os("DISPLAY") {
            return Ok(Xvfb { child: None, display: d.to_string_lossy().into_owned() });
        }
        let n = (90..200).find(|n| !Path::new(&format!("/tmp/.X{n}-lock")).exists()).context("no free X display")?;
        let display = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([display.as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start Xvfb")?;
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
        for _ in 0..100 {
            if socket.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(Xvfb { child: Some(child), display })
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The password of the throw-away keyrings that tests, benchmarks and the demo create.
const TEST_KEYRING_PASSWORD: &str = "pos-test-keyring";

/// Runs `script` in a private D-Bus session with a GNOME Keyring whose data lives in
/// `keyring_home` (its control socket too, so no daemon of another session is reused), unless a
/// Secret Service is already reachable (a desktop session).
///
/// The keyring is not started by hand: the session's bus starts it on the first request, through a
/// service file in `keyring_home` that unlocks it with the test password. If the daemon dies
/// mid-run (gnome-keyring-daemon can abort when a client disconnects during a request), the next
/// request starts it again, unlocked, on the same keyring files. Without this, the bus would
/// start the system's own daemon, which waits forever on an unlock prompt nobody can answer.
fn with_secret_service(script: &str, keyring_home: &Path, use_existing: bool) -> Result<Command> {
    if use_existing && env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() && secret_service_answers() {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        return Ok(c);
    }
    let services = keyring_home.join("dbus-1/services");
    let runtime = keyring_home.join("run");
    std::fs::create_dir_all(&services)?;
    std::fs::create_dir_all(&runtime)?;
    std::fs::set_permissions(&runtime, <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700))?;
    std::fs::write(
        services.join("org.freedesktop.secrets.service"),
        format!(
            "[D-BUS Service]\nName=org.freedesktop.secrets\nExec=/bin/sh -c \"printf '%s' {TEST_KEYRING_PASSWORD} | \
             exec gnome-keyring-daemon --foreground --unlock --components=secrets\"\n"
        ),
    )?;
    // The bus daemon reads its service directories, and passes its environment to the services
    // it starts, from the environment it is started with.
    let mut c = Command::new("dbus-run-session");
    c.args(["--", "sh", "-c", script]).env("XDG_DATA_HOME", keyring_home).env("XDG_RUNTIME_DIR", &runtime);
    Ok(c)
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

/// Builds the register app for release (the UI embedded, served from the bundle).
fn build_app() -> Result<()> {
    ui(false)?;
    run(Command::new("cargo").args(["build", "--release", "-p", "pos-register", "--features", "custom-protocol"]))
}

fn demo(root: &Path, args: &[String]) -> Result<()> {
    apt_install(PACKAGES)?;
    let window = env::var_os("DISPLAY").is_some() && !args.iter().any(|a| a == "--no-app");
    if window {
        build_app()?;
    }
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
    let app = root.join("target/release/pos-register");
    let script = if window {
        format!(
            "{script}; echo '== the register app on the demo store (PINs in the README; close the window to end)'; \
             POS_DATA_DIR='{d}' '{a}'",
            a = app.display()
        )
    } else {
        format!("{script}; echo '(no display: the app window was not started)'")
    };
    run(&mut with_secret_service(&script, &keyring, true)?)
}

fn test(root: &Path) -> Result<()> {
    apt_install(PACKAGES)?;
    ensure_tauri_driver()?;
    ui(true)?;
    run(Command::new("cargo").args(["fmt", "--all", "--", "--check"]))?;
    // A one-shot run gains nothing from incremental compilation, and its caches would take
    // gigabytes of disk; a caller who wants them sets CARGO_INCREMENTAL itself.
    let incremental = env::var("CARGO_INCREMENTAL").unwrap_or_else(|_| "0".into());
    run(Command::new("cargo")
        .args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])
        .env("CARGO_INCREMENTAL", &incremental))?;
    // Every test runs inside its own D-Bus session with a throw-away keyring, so the credential
    // store tests use the real Secret Service and leave nothing behind.
    // The end-to-end tests drive the real window on a virtual display.
    let keyring = tempdir(root, "test-keyring")?;
    let xvfb = Xvfb::start()?;
    let mut cmd = with_secret_service(
        "cargo test --workspace --all-targets --no-fail-fast --features pos-register/e2e",
        &keyring,
        false,
    )?;
    cmd.env("DISPLAY", &xvfb.display).env("TAURI_DRIVER", tauri_driver()).env("CARGO_INCREMENTAL", &incremental);
    let result = run_counting_tests(&mut cmd);
    drop(xvfb);
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

fn bench(root: &Path, args: &[String]) -> Result<()> {
    apt_install(PACKAGES)?;
    let core: Vec<&String> = args.iter().filter(|a| !["app", "cloud", "sync"].contains(&a.as_str())).collect();
    if args.is_empty() || !core.is_empty() {
        let mut c = Command::new("cargo");
        c.args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "pos-app",
            "--features",
            "test-support",
            "--bin",
            "pos-bench",
            "--",
        ]);
        c.args(core);
        run(&mut c)?;
    }
    if args.is_empty() || args.iter().any(|a| a == "cloud") {
        // The service on a throw-away PostgreSQL cluster (pos-test-support starts one).
        run(Command::new("cargo").args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "pos-cloud",
            "--features",
            "test-support",
            "--bin",
            "cloud-bench",
        ]))?;
    }
    if args.is_empty() || args.iter().any(|a| a == "sync") {
        run(Command::new("cargo").args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "pos-cli",
            "--features",
            "bench",
            "--bin",
            "sync-bench",
        ]))?;
    }
    if args.is_empty() || args.iter().any(|a| a == "app") {
        bench_app(root)?;
    }
    Ok(())
}

/// The app's start-up and memory: the release build on the demo store, in a window (a virtual
/// display when there is no real one), with the store's key in a private keyring.
fn bench_app(root: &Path) -> Result<()> {
    build_app()?;
    run(Command::new("cargo").args([
        "build",
        "--release",
        "-p",
        "pos-register",
        "--features",
        "custom-protocol",
        "--example",
        "bare-webview",
    ]))?;
    run(Command::new("cargo").args(["build", "--release", "-p", "pos-cli"]))?;
    let keyring = tempdir(root, "bench-keyring")?;
    let xvfb = Xvfb::start()?;
    let me = env::current_exe()?;
    let mut cmd = with_secret_service(&format!("'{}' bench-app-inner", me.display()), &keyring, false)?;
    cmd.env("DISPLAY", &xvfb.display);
    let result = run(&mut cmd);
    drop(xvfb);
    let _ = std::fs::remove_dir_all(&keyring);
    result
}

/// Inside the keyring session: a demo store, then five cold starts of the app timed from spawn to
/// the page reporting it is ready to sell (the staff picker drawn), then the resident memory of the
/// app and all its processes (the WebKit web and network processes) after it has idled. Last, the
/// same memory figure for a bare WebKitGTK window (the `bare-webview` example), the floor that
/// WebKitGTK itself sets on this machine.
fn bench_app_inner(root: &Path, _args: &[String]) -> Result<()> {
    let dir = tempdir(root, "bench-app-store")?;
    let _ = std::fs::remove_dir_all(&dir);
    let posctl = root.join("target/release/posctl");
    let app = root.join("target/release/pos-register");
    run(Command::new(&posctl).arg("--data-dir").arg(&dir).args(["init", "--demo"]).stdout(Stdio::null()))?;
    run(Command::new(&posctl)
        .arg("--data-dir")
        .arg(&dir)
        .args(["demo-sales", "--count", "2000", "--days", "2"])
        .stdout(Stdio::null()))?;
    let mut ready = Vec::new();
    let mut memory = (0, 0);
    for round in 0..5 {
        let mut cmd = Command::new(&app);
        cmd.env("POS_DATA_DIR", &dir);
        let (ms, mem) = start_until_ready(&mut cmd, round == 4)?;
        ready.push(ms);
        memory = mem.unwrap_or(memory);
    }
    ready.sort_unstable();
    println!("bench app_ready_ms {} ms", ready[ready.len() / 2]);
    // Resident memory of the app and its WebKit processes, shared pages counted once (PSS); the
    // plain sum of RSS, which counts shared libraries once per process, is printed beside it.
    println!("bench app_idle_rss_mb {} MB", memory.0 / 1024);
    println!("bench app_idle_rss_sum_mb {} MB", memory.1 / 1024);
    let mut bare = Command::new(root.join("target/release/examples/bare-webview"));
    bare.env("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    let (_, floor) = start_until_ready(&mut bare, true)?;
    println!("bench app_idle_rss_bare_webview_mb {} MB", floor.map_or(0, |m| m.0) / 1024);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Starts a window process, waits until it prints `ready_ms`, and returns the milliseconds that
/// took; with `measure`, also its memory and its children's (PSS and RSS, KiB) after 5 s idle.
fn start_until_ready(cmd: &mut Command, measure: bool) -> Result<(u128, Option<(u64, u64)>)> {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};
    let started = Instant::now();
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?;
    let stdout = child.stdout.take().context("window process stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("ready_ms ") {
                let _ = tx.send(());
            }
        }
    });
    let got = rx.recv_timeout(Duration::from_secs(30));
    let elapsed = started.elapsed().as_millis();
    if got.is_err() {
        let _ = child.kill();
        bail!("{} did not report ready within 30 s", show(cmd));
    }
    let memory = measure.then(|| {
        std::thread::sleep(Duration::from_secs(5));
        tree_memory_kb(child.id())
    });
    let _ = child.kill();
    let _ = child.wait();
    Ok((elapsed, memory))
}

/// Memory of a process and all its descendants, in KiB: (proportional set size, resident set
/// size), each summed over the processes. The RSS sum counts every shared library page once per
/// process that maps it; PSS splits a shared page between its users, so it is what the app
/// really keeps resident.
fn tree_memory_kb(root: u32) -> (u64, u64) {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { continue };
        // The parent pid is the second field after the parenthesised command name.
        let Some(after) = stat.rsplit_once(')').map(|(_, a)| a) else { continue };
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            parents.push((pid, ppid));
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    let field = |pid: &u32, name: &str| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0)
    };
    (tree.iter().map(|p| field(p, "Pss:")).sum(), tree.iter().map(|p| field(p, "Rss:")).sum())
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
