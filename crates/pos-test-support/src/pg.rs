//! A throw-away PostgreSQL cluster for tests.

use std::ffi::OsString;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

/// Use this server instead of starting one; must name a superuser.
const URL_VAR: &str = "POS_TEST_DATABASE_URL";
/// Where `initdb`, `pg_ctl` and `psql` live, if not in [`DEFAULT_BIN_DIR`].
const BIN_VAR: &str = "POS_PG_BIN";
/// The Debian/Ubuntu location of the PostgreSQL 15 server tools.
const DEFAULT_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";
/// How many ports to try before giving up (another process may take the one we picked).
const START_ATTEMPTS: u32 = 5;
/// The system user that runs the server when the tests run as root.
const SERVER_USER: &str = "postgres";
/// Runs a program as [`SERVER_USER`] (util-linux).
const RUNUSER_PREFIX: [&str; 4] = ["runuser", "-u", SERVER_USER, "--"];
/// The same with `su`: the arguments after the user become `$0`, `$1`, … of the shell
/// command, so they need no quoting.
const SU_PREFIX: [&str; 7] = ["su", "-s", "/bin/sh", "-c", r#"exec "$0" "$@""#, "--", SERVER_USER];

/// Runs until the test process (`$1`) is gone, then stops the server and removes its
/// directory (`$2`); the remaining arguments are the `pg_ctl stop` command. It repeats
/// that while the directory comes back: a tool the test had started (`initdb`,
/// `pg_ctl start`) may still be writing to it.
const WATCHDOG_SCRIPT: &str = r#"parent=$1; dir=$2; shift 2
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
for round in 1 2 3 4 5; do
  "$@" >/dev/null 2>&1
  rm -rf "$dir" 2>/dev/null
  sleep 1
  [ -e "$dir" ] || break
done"#;

/// A PostgreSQL 15 server for tests: a private throw-away cluster, or the server named
/// by `POS_TEST_DATABASE_URL`.
///
/// A private cluster lives in a temporary directory, listens on `127.0.0.1` on a free
/// port with `trust` authentication for the superuser `postgres`, and runs with
/// durability off (`fsync=off` and friends) for speed. Dropping the handle stops the
/// server (`pg_ctl stop -m immediate`) and removes the directory, also when a test
/// panics. Should the test process die without unwinding (killed, aborted), a watchdog
/// process does the same a few seconds later.
///
/// When the tests run as root, `initdb` and `pg_ctl` run as the `postgres` system user
/// (PostgreSQL refuses to run as root), via `runuser` or else `su`, and the directory
/// is created under `/tmp` and handed to that user.
#[derive(Debug)]
pub struct PgCluster {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// A server someone else runs, from `POS_TEST_DATABASE_URL`.
    External { url: String },
    /// Our own cluster.
    Local(Local),
}

/// A running private cluster; stopped on drop, then its directory is removed.
#[derive(Debug)]
struct Local {
    bin: PathBuf,
    runner: Runner,
    port: u16,
    data: PathBuf,
    /// Whether the server was started (and so must be stopped).
    running: bool,
    watchdog: Option<Child>,
    // Declared last: dropped (removed) after `Drop::drop` has stopped the server.
    dir: TempDir,
}

impl PgCluster {
    /// Starts a private cluster, or connects to `POS_TEST_DATABASE_URL` when it is set.
    ///
    /// The URL must name a superuser: [`create_database`](Self::create_database) creates
    /// and drops databases on that server. Without it the server tools are taken from
    /// `POS_PG_BIN` or `/usr/lib/postgresql/15/bin` (Debian package `postgresql`).
    pub fn start() -> Result<PgCluster> {
        if let Some(url) = std::env::var_os(URL_VAR).filter(|url| !url.is_empty()) {
            let url = url.into_string().map_err(|_| anyhow::anyhow!("{URL_VAR} is not valid UTF-8"))?;
            return Ok(PgCluster { kind: Kind::External { url } });
        }
        let bin = server_bin_dir(std::env::var_os(BIN_VAR))?;
        let local = Local::start(bin)?;
        Ok(PgCluster { kind: Kind::Local(local) })
    }

    /// One cluster for the whole test process, started on first use.
    ///
    /// Statics are never dropped, so this cluster is not stopped by `Drop`; its watchdog
    /// process stops it and removes its directory once the test process has exited.
    ///
    /// # Panics
    ///
    /// If the cluster cannot be started (the error says why).
    pub fn shared() -> &'static PgCluster {
        static SHARED: OnceLock<PgCluster> = OnceLock::new();
        SHARED.get_or_init(|| {
            PgCluster::start().unwrap_or_else(|error| panic!("starting the shared PostgreSQL cluster: {error:#}"))
        })
    }

    /// A superuser URL for the `postgres` database, such as
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn admin_url(&self) -> String {
        match &self.kind {
            Kind::External { url } => url.clone(),
            Kind::Local(local) => {
                format!("postgres://postgres@127.0.0.1:{}/postgres", local.port)
            }
        }
    }

    /// Creates an empty database called `name` and returns its URL.
    ///
    /// A database of that name is dropped first (disconnecting its users), so that test
    /// runs against a long-lived `POS_TEST_DATABASE_URL` start clean: give each test its
    /// own name. Names are limited to ASCII letters, digits, `_` and `-` (at most 63).
    pub fn create_database(&self, name: &str) -> Result<String> {
        check_database_name(name)?;
        let admin = self.admin_url();
        self.psql_command(&admin)
            .arg("-c")
            .arg(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
            .arg("-c")
            .arg(format!(r#"CREATE DATABASE "{name}""#))
            .output()
            .map_err(anyhow::Error::from)
            .and_then(|output| check_output(output, "psql"))
            .with_context(|| format!("creating database {name}"))?;
        url_with_database(&admin, name)
    }

    /// Runs `sql` with `psql` against `url` and returns its output: unaligned rows,
    /// without headers, so `select 1` gives `"1\n"`.
    pub fn psql(&self, url: &str, sql: &str) -> Result<String> {
        let output = self.psql_command(url).args(["-A", "-t", "-c", sql]).output().context("running psql")?;
        let output = check_output(output, "psql")?;
        String::from_utf8(output.stdout).context("psql printed invalid UTF-8")
    }

    /// The directory holding the private cluster; `None` for an external server.
    pub fn dir(&self) -> Option<&Path> {
        match &self.kind {
            Kind::External { .. } => None,
            Kind::Local(local) => Some(local.dir.path()),
        }
    }

    /// `psql` connected to `url`, stopping at the first error and ignoring `~/.psqlrc`.
    fn psql_command(&self, url: &str) -> Command {
        let program = match &self.kind {
            Kind::Local(local) => local.bin.join("psql"),
            // Only the client may be installed where the tests run: fall back to PATH.
            Kind::External { .. } => std::env::var_os(BIN_VAR)
                .map(PathBuf::from)
                .into_iter()
                .chain([PathBuf::from(DEFAULT_BIN_DIR)])
                .map(|bin| bin.join("psql"))
                .find(|psql| psql.is_file())
                .unwrap_or_else(|| PathBuf::from("psql")),
        };
        let mut command = Command::new(program);
        command
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url])
            .env("PGCONNECT_TIMEOUT", "10")
            .stdin(Stdio::null());
        command
    }
}

impl Local {
    /// Creates, starts and guards a cluster with the tools in `bin`.
    ///
    /// The watchdog starts first, so even a test killed during `initdb` leaves nothing.
    fn start(bin: PathBuf) -> Result<Local> {
        let runner = Runner::detect()?;
        let dir = runner.temp_dir()?;
        let data = dir.path().join("data");
        let mut local = Local { bin, runner, port: 0, data, running: false, watchdog: None, dir };
        local.watchdog = Some(local.spawn_watchdog().context("starting the watchdog")?);

        let sockets = local.dir.path().join("sockets");
        std::fs::create_dir(&sockets).context("creating the socket directory")?;
        local.runner.hand_over(&sockets)?;
        let output = local
            .runner
            .command(&local.bin.join("initdb"), local.dir.path())
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
            .arg("--locale=C")
            .arg("-D")
            .arg(&local.data)
            .output()
            .context("running initdb")?;
        check_output(output, "initdb")?;

        local.port = start_server(&local.runner, &local.bin, local.dir.path(), &local.data, &sockets)?;
        local.running = true;
        Ok(local)
    }

    /// `pg_ctl … stop -m immediate`, as the user that runs the server.
    fn stop_command(&self) -> Command {
        let mut command = self.runner.command(&self.bin.join("pg_ctl"), self.dir.path());
        command.arg("-D").arg(&self.data).args(["stop", "-m", "immediate", "-w"]);
        command
    }

    /// Spawns the shell loop that cleans up after the test process if it dies.
    ///
    /// It runs in its own process group, so Ctrl-C on the test run does not kill it.
    fn spawn_watchdog(&self) -> std::io::Result<Child> {
        let stop = self.stop_command();
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .arg("pos-pg-watchdog")
            .arg(std::process::id().to_string())
            .arg(self.dir.path())
            .arg(stop.get_program())
            .args(stop.get_args())
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        command.spawn()
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        if !self.running {
            return;
        }
        match self.stop_command().output() {
            Ok(output) if output.status.success() => {}
            Ok(output) => {
                eprintln!("pos-test-support: pg_ctl stop failed: {}", String::from_utf8_lossy(&output.stderr).trim())
            }
            Err(error) => eprintln!("pos-test-support: could not run pg_ctl stop: {error}"),
        }
        // `self.dir` is removed when the fields are dropped, right after this.
    }
}

/// Starts the server on a free port, trying a few ports; returns the port.
fn start_server(runner: &Runner, bin: &Path, dir: &Path, data: &Path, sockets: &Path) -> Result<u16> {
    let sockets = sockets
        .to_str()
        .filter(|path| !path.contains('\''))
        .context("the socket directory path must be UTF-8 without quotes")?;
    let log = dir.join("postgres.log");
    let pg_ctl = bin.join("pg_ctl");
    let mut failure = String::new();
    for _ in 0..START_ATTEMPTS {
        let port = free_port()?;
        let options = format!(
            "-p {port} -k '{sockets}' -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        );
        let output = runner
            .command(&pg_ctl, dir)
            .arg("-D")
            .arg(data)
            .arg("-o")
            .arg(options)
            .arg("-l")
            .arg(&log)
            .args(["-w", "start"])
            .output()
            .context("running pg_ctl start")?;
        if output.status.success() {
            return Ok(port);
        }
        failure = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        // In case it came up after pg_ctl gave up waiting.
        let _ = runner.command(&pg_ctl, dir).arg("-D").arg(data).args(["stop", "-m", "immediate"]).output();
    }
    let log_tail = std::fs::read_to_string(&log).unwrap_or_default();
    let log_tail: Vec<&str> = log_tail.lines().rev().take(20).collect();
    let log_tail: Vec<&str> = log_tail.into_iter().rev().collect();
    bail!("PostgreSQL did not start after {START_ATTEMPTS} attempts: {failure}\nserver log:\n{}", log_tail.join("\n"))
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("looking for a free port")?;
    Ok(listener.local_addr()?.port())
}

/// The directory with the server tools: `POS_PG_BIN` if given, else the Debian default.
fn server_bin_dir(from_env: Option<OsString>) -> Result<PathBuf> {
    match from_env.filter(|dir| !dir.is_empty()) {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if !dir.join("initdb").is_file() {
                bail!(
                    "{BIN_VAR} is {}, but there is no initdb in it; point it at the \
                     PostgreSQL 15 bin directory",
                    dir.display()
                );
            }
            Ok(dir)
        }
        None => {
            let dir = PathBuf::from(DEFAULT_BIN_DIR);
            if !dir.join("initdb").is_file() {
                bail!(
                    "PostgreSQL 15 server tools not found in {DEFAULT_BIN_DIR}: install the \
                     Debian package `postgresql` (apt-get install postgresql), set {BIN_VAR} \
                     to the directory holding initdb, or set {URL_VAR} to a superuser URL of \
                     a running server"
                );
            }
            Ok(dir)
        }
    }
}

/// Accepts names that need no escaping in SQL identifiers or URLs.
fn check_database_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && !name.starts_with('-')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid {
        bail!("invalid database name {name:?}: use 1 to 63 ASCII letters, digits, `_` or `-`");
    }
    Ok(())
}

/// `url` with its database (the path) replaced by `name`; the query string is kept.
fn url_with_database(url: &str, name: &str) -> Result<String> {
    let scheme_end = url.find("://").with_context(|| format!("{url:?} is not a postgres:// URL"))? + 3;
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let tail = &rest[authority_end..];
    let query = tail.find('?').map_or("", |start| &tail[start..]);
    Ok(format!("{}{}/{name}{query}", &url[..scheme_end], &rest[..authority_end]))
}

/// Turns a failed command into an error carrying its output.
fn check_output(output: Output, what: &str) -> Result<Output> {
    if output.status.success() {
        return Ok(output);
    }
    bail!(
        "{what} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim(),
        String::from_utf8_lossy(&output.stdout).trim()
    )
}

/// How server tools are run: directly, or as the `postgres` user when we are root.
#[derive(Debug, Clone)]
struct Runner {
    /// Program and arguments to put in front of each tool; empty to run it directly.
    prefix: Vec<OsString>,
    /// The `postgres` user's uid and gid, when running as root.
    owner: Option<(u32, u32)>,
}

impl Runner {
    /// Checks who we are: root must hand the server over to the `postgres` user.
    fn detect() -> Result<Runner> {
        if id(&["-u"])? != 0 {
            return Ok(Runner { prefix: Vec::new(), owner: None });
        }
        let uid = id(&["-u", SERVER_USER]).with_context(|| {
            format!(
                "running as root, where PostgreSQL refuses to run, and there is no \
                 `{SERVER_USER}` user to run it as (the Debian package `postgresql` creates it)"
            )
        })?;
        let gid = id(&["-g", SERVER_USER])?;
        let prefix: &[&str] = if find_program("runuser").is_some() {
            &RUNUSER_PREFIX
        } else if find_program("su").is_some() {
            &SU_PREFIX
        } else {
            bail!("running as root, but neither runuser nor su is available to switch to {SERVER_USER}");
        };
        Ok(Runner::as_server_user(prefix, (uid, gid)))
    }

    /// Runs tools through `prefix`, handing files to `owner` (uid, gid).
    fn as_server_user(prefix: &[&str], owner: (u32, u32)) -> Runner {
        Runner { prefix: prefix.iter().map(OsString::from).collect(), owner: Some(owner) }
    }

    /// A command running `program` as the server user, in `cwd` (which that user can enter).
    fn command(&self, program: &Path, cwd: &Path) -> Command {
        let mut command = match self.prefix.split_first() {
            Some((first, rest)) => {
                let mut command = Command::new(first);
                command.args(rest).arg(program);
                command
            }
            None => Command::new(program),
        };
        command.current_dir(cwd).stdin(Stdio::null());
        command
    }

    /// A fresh temporary directory the server user owns.
    ///
    /// As root it goes under `/tmp`, which every user can reach (`$TMPDIR` may not be);
    /// otherwise under the usual temporary directory.
    fn temp_dir(&self) -> Result<TempDir> {
        let base = match self.owner {
            Some(_) => PathBuf::from("/tmp"),
            None => std::env::temp_dir(),
        };
        let dir = tempfile::Builder::new()
            .prefix("pos-pg-")
            .tempdir_in(&base)
            .with_context(|| format!("creating a temporary directory in {}", base.display()))?;
        self.hand_over(dir.path())?;
        Ok(dir)
    }

    /// Gives `path` to the server user (nothing to do when not root).
    fn hand_over(&self, path: &Path) -> Result<()> {
        if let Some((uid, gid)) = self.owner {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))
                .with_context(|| format!("handing {} to {SERVER_USER}", path.display()))?;
        }
        Ok(())
    }
}

/// Runs `id` with `args` and parses the number it prints.
fn id(args: &[&str]) -> Result<u32> {
    let output = Command::new("id").args(args).output().context("running id")?;
    let output = check_output(output, "id")?;
    String::from_utf8_lossy(&output.stdout).trim().parse().context("parsing the output of id")
}

/// Finds `name` on `PATH` or in the usual system directories.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_database_is_replaced() {
        let cases = [
            ("postgres://postgres@127.0.0.1:5432/postgres", "postgres://postgres@127.0.0.1:5432/t1"),
            ("postgresql://u:p%2Fw@db:5433/main?sslmode=disable", "postgresql://u:p%2Fw@db:5433/t1?sslmode=disable"),
            ("postgres://db", "postgres://db/t1"),
            ("postgres://db?sslmode=require", "postgres://db/t1?sslmode=require"),
        ];
        for (url, expected) in cases {
            assert_eq!(url_with_database(url, "t1").unwrap(), expected);
        }
        assert!(url_with_database("host=db dbname=x", "t1").is_err());
    }

    #[test]
    fn database_names_are_checked() {
        for good in ["a", "sync_test-1", "Upper", &"x".repeat(63)] {
            assert!(check_database_name(good).is_ok(), "{good}");
        }
        for bad in ["", "-x", "a b", "a\"b", "a;drop", "é", &"x".repeat(64)] {
            assert!(check_database_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bin_dir_errors_are_helpful() {
        let empty = tempfile::tempdir().unwrap();
        let error = server_bin_dir(Some(empty.path().into())).unwrap_err();
        assert!(error.to_string().contains("no initdb"), "{error}");

        std::fs::write(empty.path().join("initdb"), "").unwrap();
        assert_eq!(server_bin_dir(Some(empty.path().into())).unwrap(), empty.path());

        if !Path::new(DEFAULT_BIN_DIR).join("initdb").is_file() {
            let error = server_bin_dir(None).unwrap_err();
            assert!(error.to_string().contains("`postgresql`"), "{error}");
        }
    }

    /// As root, both ways of switching user work and pass arguments through verbatim.
    #[test]
    fn runuser_and_su_run_as_the_server_user() {
        if id(&["-u"]).unwrap() != 0 {
            return;
        }
        let owner = (id(&["-u", SERVER_USER]).unwrap(), id(&["-g", SERVER_USER]).unwrap());
        for prefix in [&RUNUSER_PREFIX[..], &SU_PREFIX[..]] {
            if find_program(prefix[0]).is_none() {
                continue;
            }
            let runner = Runner::as_server_user(prefix, owner);
            let output = runner
                .command(Path::new("sh"), Path::new("/"))
                .args(["-c", r#"id -un; echo "$1""#, "sh", "a 'b' $c -x"])
                .output()
                .unwrap();
            let output = check_output(output, prefix[0]).unwrap();
            assert_eq!(String::from_utf8(output.stdout).unwrap(), "postgres\na 'b' $c -x\n", "{prefix:?}");
        }
    }
}
