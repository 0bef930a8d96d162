//! Opening, creating and recovering the encrypted store; connection settings; migrations.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension as _, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::keys::{KeyMaterial, RecoverySecret, SecretStore, WrappedKeys};

/// Marks our database files (`PRAGMA application_id`): "POSR".
pub const APPLICATION_ID: i64 = 0x504F_5352;
pub const DB_FILE: &str = "register.db";
pub const META_FILE: &str = "store.json";
/// `store.json` format: 2 wraps three keys (database, PIN pepper, audit signing key).
const META_FORMAT: u32 = 2;
/// Database page size. Smaller pages mean fewer bytes encrypted and authenticated per commit.
const PAGE_SIZE: u32 = 2048;

/// Numbered, append-only migrations, applied in order by `PRAGMA user_version`.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_register.sql")),
    (2, include_str!("../migrations/0002_staff_security.sql")),
    (3, include_str!("../migrations/0003_printing.sql")),
    (4, include_str!("../migrations/0004_sync.sql")),
    (5, include_str!("../migrations/0005_fewer_pages.sql")),
    (6, include_str!("../migrations/0006_tax_rate_history.sql")),
    (7, include_str!("../migrations/0007_outbox_mark.sql")),
];

pub fn schema_version_supported() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// What sits beside the database: the store's id (which names its credential-store entries) and
/// its keys wrapped by the recovery secret. Nothing in it opens the database without that secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreMeta {
    pub format: u32,
    pub store_id: String,
    pub recovery: WrappedKeys,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encryption {
    On,
    #[cfg_attr(not(feature = "test-support"), allow(dead_code))]
    Off,
}

/// The register's store: one writer connection to the SQLCipher database, and a background thread
/// that checkpoints the WAL so that no sale waits for a checkpoint.
pub struct Store {
    dir: PathBuf,
    conn: Connection,
    meta: StoreMeta,
    keys: KeyMaterial,
    // Declared after `conn`, so the writer is closed before the checkpointer's last pass.
    _checkpointer: Option<Checkpointer>,
}

/// Copies committed pages from the WAL into the database file every half second, off the sale path.
/// (With SQLite's automatic checkpoints, about one commit in a hundred would do this work inline.)
///
/// Each pass first copies without blocking anyone (PASSIVE). Then it restarts the WAL (RESTART):
/// it takes the write lock, waiting a few tens of milliseconds at most for a sale in progress to
/// commit, copies the few pages committed meanwhile, and lets the next commit overwrite the WAL
/// from its start instead of extending the file. The restart must not give up just because the writer is busy:
/// a register selling without pause is busy often enough that it then failed for seconds on
/// end, the WAL grew by every commit (to 44 MB in the benchmark), and every sync of a growing
/// file must also write its new size and block map (sync p50 about 600 µs against about 300 µs
/// when overwriting). A sale arriving during the restart waits for it, once per pass.
struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn spawn(path: &Path, keys: &KeyMaterial, encryption: Encryption) -> Result<Checkpointer, StoreError> {
        let mut conn = open_connection(path, keys, encryption, false)?;
        conn.busy_handler(Some(checkpointer_wait))?;
        let (stop, rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || {
                loop {
                    let stopping =
                        !matches!(rx.recv_timeout(Duration::from_millis(500)), Err(RecvTimeoutError::Timeout));
                    // Failures (SQLITE_BUSY: the writer kept the lock) are retried next time.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    let _ = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()));
                    if stopping {
                        break;
                    }
                }
            })
            .map_err(|e| StoreError::Io { path: path.to_owned(), source: e })?;
        Ok(Checkpointer { stop: Some(stop), thread: Some(thread) })
    }
}

/// Busy handler of the writer: waits for the checkpointer's brief hold of the write lock in steps of
/// 50 µs for the first 5 ms (SQLite's own handler would sleep 1 ms, then 2, then 5), then in
/// steps of 1 ms, giving up after about 5 s.
fn writer_wait(attempt: i32) -> bool {
    match attempt {
        0..100 => std::thread::sleep(Duration::from_micros(50)),
        100..5_100 => std::thread::sleep(Duration::from_millis(1)),
        _ => return false,
    }
    true
}

/// Busy handler of the checkpointer: waits for the writer to finish the transaction in progress
/// (see [`Checkpointer`]) in 400 short sleeps (20 to 40 ms in all); then gives up until the next
/// pass.
fn checkpointer_wait(attempt: i32) -> bool {
    if attempt >= 400 {
        return false;
    }
    std::thread::sleep(Duration::from_micros(50));
    true
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the checkpointer and turns off inline automatic checkpoints on the writer. If the thread
/// cannot start, SQLite's automatic checkpoints stay on: slower, never unsafe.
fn start_checkpointer(
    conn: &Connection,
    path: &Path,
    keys: &KeyMaterial,
    encryption: Encryption,
) -> Option<Checkpointer> {
    let c = Checkpointer::spawn(path, keys, encryption).ok()?;
    conn.execute_batch("PRAGMA wal_autocheckpoint = 0;").ok()?;
    Some(c)
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).field("store_id", &self.meta.store_id).finish()
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| {
        if source.raw_os_error() == Some(28) {
            StoreError::DiskFull
        } else if source.kind() == std::io::ErrorKind::PermissionDenied || source.raw_os_error() == Some(30) {
            StoreError::ReadOnly
        } else {
            StoreError::Io { path: path.to_owned(), source }
        }
    }
}

/// Writes a file so that it is either entirely there or not at all.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = fs::File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(bytes).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io_err(path))?;
    if let Some(parent) = path.parent()
        && let Ok(d) = fs::File::open(parent)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

fn read_meta(dir: &Path) -> Result<StoreMeta, StoreError> {
    let path = dir.join(META_FILE);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StoreError::NotInitialised { dir: dir.to_owned() });
        }
        Err(e) => return Err(io_err(&path)(e)),
    };
    let meta: StoreMeta = serde_json::from_slice(&bytes)
        .map_err(|e| StoreError::BadMetadata { path: path.clone(), detail: e.to_string() })?;
    if meta.format == 1 {
        // Format 1 (before the audit chain) held two keys; no released register wrote it.
        return Err(StoreError::BadMetadata {
            path,
            detail: "format 1 comes from a pre-release without the audit key: create the store again".into(),
        });
    }
    if meta.format != META_FORMAT {
        return Err(StoreError::BadMetadata { path, detail: format!("unknown format {}", meta.format) });
    }
    Ok(meta)
}

fn random_id() -> Result<String, StoreError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| StoreError::Random(e.to_string()))?;
    Ok(hex::encode(b))
}

fn open_connection(
    path: &Path,
    keys: &KeyMaterial,
    encryption: Encryption,
    create: bool,
) -> Result<Connection, StoreError> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    } else if !path.exists() {
        return Err(StoreError::NotInitialised { dir: path.parent().unwrap_or(path).to_owned() });
    }
    // Page encryption through our crypto provider (codec.rs); if it cannot be registered,
    // SQLCipher's OpenSSL provider does the same work, more slowly.
    if encryption == Encryption::On {
        let _ = crate::codec::register();
    }
    // Through the WAL write-gathering VFS (walbuf.rs); without it, the platform's default VFS.
    let mut conn = match crate::walbuf::register() {
        Ok(vfs) => Connection::open_with_flags_and_vfs(path, flags, vfs)?,
        Err(_) => Connection::open_with_flags(path, flags)?,
    };
    if encryption == Encryption::On {
        // SQLCipher would log a failed HMAC check (a wrong key) to stderr; the error we return says it.
        conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
        // The key comes before anything reads the database. A raw key skips SQLCipher's KDF.
        conn.execute_batch(&format!("PRAGMA key = {};", keys.sqlcipher_key().as_str()))?;
        // Per page: AES-256-CBC and an HMAC. SHA-256 rather than SQLCipher 4's default SHA-512,
        // because CPUs accelerate SHA-256 (SHA-NI, ARMv8) and the HMAC is most of a commit's cost;
        // see docs/adr/0003-sqlcipher-settings.md. Must be set identically on every open.
        conn.execute_batch(&format!(
            "PRAGMA cipher_hmac_algorithm = HMAC_SHA256;
             PRAGMA cipher_page_size = {PAGE_SIZE};
             PRAGMA cipher_memory_security = OFF;"
        ))?;
    } else if create {
        conn.execute_batch(&format!("PRAGMA page_size = {PAGE_SIZE};"))?;
    }
    // The first read decrypts page 1: a wrong key or a foreign file fails here.
    if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
        if e.sqlite_error_code() == Some(rusqlite::ffi::ErrorCode::NotADatabase) {
            let mut header = [0u8; 16];
            let is_plain = fs::File::open(path)
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
                .map(|_| &header == b"SQLite format 3\0")
                .unwrap_or(false);
            return Err(if is_plain {
                StoreError::PlainSqliteFile { path: path.to_owned() }
            } else {
                StoreError::WrongKeyOrNotOurs { path: path.to_owned() }
            });
        }
        return Err(e.into());
    }
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -16384;",
    )?;
    conn.busy_handler(Some(writer_wait))?;
    // Every commit must sync: the durability of a sale depends on it, and so does the WAL
    // write-gathering VFS, which hands held writes to the OS at the sync.
    let synchronous: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
    if synchronous < 2 {
        return Err(StoreError::Integrity(format!("the store opened with synchronous = {synchronous}, not FULL")));
    }
    // A sale alone runs about fifteen distinct statements; parsing them again on every sale cost
    // a tenth of its CPU time, so the cache holds all the register's frequent ones.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn migrate(conn: &mut Connection, path: &Path, fresh: bool) -> Result<(), StoreError> {
    let app_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if !fresh && app_id != APPLICATION_ID {
        return Err(StoreError::NotOurDatabase { path: path.to_owned() });
    }
    if version > schema_version_supported() {
        return Err(StoreError::SchemaTooNew { found: version, supported: schema_version_supported() });
    }
    for (v, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > version) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {v}; PRAGMA application_id = {APPLICATION_ID};"))?;
        tx.commit()?;
    }
    Ok(())
}

impl Store {
    /// Creates a new encrypted store in `dir`: fresh random keys, saved to the credential store
    /// first (so nothing is written when it is unreachable), and a recovery secret to show once.
    pub fn create(dir: &Path, secrets: &dyn SecretStore) -> Result<(Store, RecoverySecret), StoreError> {
        Self::create_with(dir, secrets, Encryption::On)
    }

    /// An unencrypted store with the same schema and durability, only so benchmarks can show what
    /// encryption costs. Not reachable from any binary that handles real sales.
    #[cfg(feature = "test-support")]
    pub fn create_unencrypted_for_benchmark(dir: &Path, secrets: &dyn SecretStore) -> Result<Store, StoreError> {
        Self::create_with(dir, secrets, Encryption::Off).map(|(s, _)| s)
    }

    fn create_with(
        dir: &Path,
        secrets: &dyn SecretStore,
        encryption: Encryption,
    ) -> Result<(Store, RecoverySecret), StoreError> {
        let db_path = dir.join(DB_FILE);
        if dir.join(META_FILE).exists() || db_path.exists() {
            return Err(StoreError::AlreadyInitialised { dir: dir.to_owned() });
        }
        let store_id = random_id()?;
        let keys = KeyMaterial::generate()?;
        let recovery = RecoverySecret::random()?;
        let meta =
            StoreMeta { format: META_FORMAT, store_id: store_id.clone(), recovery: recovery.wrap(&store_id, &keys)? };
        let forget_keys = || {
            let _ = secrets.delete(&crate::keys::db_key_name(&store_id));
            let _ = secrets.delete(&crate::keys::pepper_name(&store_id));
            let _ = secrets.delete(&crate::keys::audit_key_name(&store_id));
        };
        // The keys go to the credential store before anything touches the disk.
        if let Err(e) = keys.save(secrets, &store_id) {
            forget_keys();
            return Err(e);
        }
        let created_dir = !dir.exists();
        let result = (|| {
            fs::create_dir_all(dir).map_err(io_err(dir))?;
            let mut conn = open_connection(&db_path, &keys, encryption, true)?;
            migrate(&mut conn, &db_path, true)?;
            let json = serde_json::to_vec_pretty(&meta).expect("metadata serialises");
            write_atomically(&dir.join(META_FILE), &json)?;
            Ok(conn)
        })();
        match result {
            Ok(conn) => {
                let checkpointer = start_checkpointer(&conn, &db_path, &keys, encryption);
                Ok((Store { dir: dir.to_owned(), conn, meta, keys, _checkpointer: checkpointer }, recovery))
            }
            Err(e) => {
                // Leave nothing half-made behind.
                for f in [DB_FILE, "register.db-wal", "register.db-shm", META_FILE] {
                    let _ = fs::remove_file(dir.join(f));
                }
                if created_dir {
                    let _ = fs::remove_dir(dir);
                }
                forget_keys();
                Err(e)
            }
        }
    }

    /// Opens an existing store with the key from the credential store.
    pub fn open(dir: &Path, secrets: &dyn SecretStore) -> Result<Store, StoreError> {
        let meta = read_meta(dir)?;
        let keys = KeyMaterial::load(secrets, &meta.store_id)?;
        Self::open_with(dir, meta, keys)
    }

    /// Opens the store with the recovery secret and puts its keys back into the credential store.
    pub fn recover(dir: &Path, secrets: &dyn SecretStore, recovery: &RecoverySecret) -> Result<Store, StoreError> {
        let meta = read_meta(dir)?;
        let keys = recovery.unwrap(&meta.store_id, &meta.recovery)?;
        let store = Self::open_with(dir, meta, keys)?;
        store.keys.save(secrets, &store.meta.store_id)?;
        Ok(store)
    }

    fn open_with(dir: &Path, meta: StoreMeta, keys: KeyMaterial) -> Result<Store, StoreError> {
        let db_path = dir.join(DB_FILE);
        let mut conn = open_connection(&db_path, &keys, Encryption::On, false)?;
        migrate(&mut conn, &db_path, false)?;
        let checkpointer = start_checkpointer(&conn, &db_path, &keys, Encryption::On);
        Ok(Store { dir: dir.to_owned(), conn, meta, keys, _checkpointer: checkpointer })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join(DB_FILE)
    }

    pub fn store_id(&self) -> &str {
        &self.meta.store_id
    }

    pub fn pin_pepper(&self) -> &[u8; 32] {
        self.keys.pin_pepper.expose()
    }

    /// The seed of the device's Ed25519 audit signing key.
    pub fn audit_key_seed(&self) -> &[u8; 32] {
        self.keys.audit_key.expose()
    }

    /// For reads.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Starts the one write transaction; `pos-app` is its only caller.
    pub fn write(&mut self) -> Result<Transaction<'_>, StoreError> {
        Ok(self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    /// SQLCipher's check of every page's HMAC, plus SQLite's structural check. Empty when healthy.
    pub fn integrity_problems(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let mut stmt = self.conn.prepare("PRAGMA cipher_integrity_check")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        for r in rows {
            problems.push(r?);
        }
        let quick: String = self.conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if quick != "ok" {
            problems.push(quick);
        }
        Ok(problems)
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    pub fn cipher_version(&self) -> Result<String, StoreError> {
        Ok(self.conn.query_row("PRAGMA cipher_version", [], |r| r.get(0))?)
    }

    /// The crypto provider that encrypts this connection's pages (`pos-rustcrypto`, see
    /// `codec.rs`), or `none` for an unencrypted store.
    pub fn cipher_provider(&self) -> Result<String, StoreError> {
        let name: Option<String> = self.conn.query_row("PRAGMA cipher_provider", [], |r| r.get(0)).optional()?;
        Ok(name.unwrap_or_else(|| "none".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;
    use rusqlite::Connection;

    /// Version 6 keeps every tax rate a sale may point at: a changed percentage is a new row, a
    /// dropped code is retired, and the rows themselves cannot be changed or deleted.
    #[test]
    fn tax_classes_change_by_retiring_rates_never_by_rewriting_them() {
        use crate::catalog::{RateSpec, load_tax_classes, set_tax_class};
        let mut conn = Connection::open_in_memory().unwrap();
        for (_, sql) in MIGRATIONS {
            conn.execute_batch(sql).unwrap();
        }
        let rate = |code, rate_ppm| RateSpec { code, name: "VAT", rate_ppm };
        let tx = conn.transaction().unwrap();
        let made = set_tax_class(&tx, "reduced", &[rate("B", 70_000)], 1).unwrap();
        assert!(made.created);
        let first_id = load_tax_classes(&tx).unwrap()[0].rates[0].id;

        // The same rates again change nothing.
        assert!(set_tax_class(&tx, "reduced", &[rate("B", 70_000)], 2).unwrap().is_empty());

        // A new percentage under the same code, a renamed code and a second rate.
        let c = set_tax_class(&tx, "reduced", &[rate("B", 50_000), rate("C", 10_000)], 3).unwrap();
        assert!(!c.created);
        assert_eq!(c.retired, vec![("B".to_owned(), 70_000)]);
        assert_eq!(c.added, vec![("B".to_owned(), 50_000), ("C".to_owned(), 10_000)]);
        let classes = load_tax_classes(&tx).unwrap();
        let now: Vec<(&str, i64)> = classes[0].rates.iter().map(|r| (r.code.as_str(), r.rate_ppm)).collect();
        assert_eq!(now, vec![("B", 50_000), ("C", 10_000)]);
        assert!(classes[0].rates.iter().all(|r| r.id != first_id), "the old row is not reused");

        let renamed =
            set_tax_class(&tx, "reduced", &[RateSpec { name: "Reduced VAT", ..rate("B", 50_000) }], 4).unwrap();
        assert_eq!(renamed.renamed, vec!["B".to_owned()]);
        assert_eq!(renamed.retired, vec![("C".to_owned(), 10_000)]);

        // The old 7 % row is still there, retired at 3, and stays as it is.
        let (ppm, retired): (i64, Option<i64>) = tx
            .query_row("SELECT rate_ppm, retired_at FROM tax_rates WHERE id = ?1", [first_id.0], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((ppm, retired), (70_000, Some(3)));
        for sql in [
            "UPDATE tax_rates SET rate_ppm = 1 WHERE id = ?1",
            "UPDATE tax_rates SET code = 'Z' WHERE id = ?1",
            "UPDATE tax_rates SET retired_at = NULL WHERE id = ?1",
            "DELETE FROM tax_rates WHERE id = ?1",
        ] {
            let e = tx.execute(sql, [first_id.0]).unwrap_err();
            assert!(e.to_string().contains("tax rate"), "{sql}: {e}");
        }
        tx.commit().unwrap();
    }

    /// Version 5 moves the tax of single-rate lines onto the lines and leaves multi-rate lines
    /// as they were, drops the counters, and keeps the holders of the highest numbers.
    #[test]
    fn version_5_moves_single_rate_line_taxes_and_numbers_from_the_highest_in_use() {
        let conn = Connection::open_in_memory().unwrap();
        // Lines without their staff, shift and catalog rows: only the migration is under test.
        conn.execute_batch("PRAGMA foreign_keys = OFF;").unwrap();
        for (_, sql) in &MIGRATIONS[..4] {
            conn.execute_batch(sql).unwrap();
        }
        // Order 1: line 1 at one rate (partly refunded), line 2 at two rates, line 3 untaxed.
        conn.execute_batch(
            "INSERT INTO counters VALUES ('receipt', 2), ('outbox', 3);
             INSERT INTO orders (id, uuid, receipt_no, shift_id, business_day, staff_id, status, opened_at, currency,
                 subtotal, discount_total, tax_total, total, rounding, change_due)
             VALUES (1, 'o1', 1, 1, '2026-03-10', 1, 'paid', 0, 'EUR', 1000, 0, 120, 1000, 0, 0);
             INSERT INTO order_lines (order_id, line_no, sku_id, sku_code, name, product_id, category_id, tax_class_id,
                 qty, list_price, unit_price, extended, line_discount, order_discount, amount, tax)
             VALUES (1, 1, 1, 'A', 'a', 1, 1, 1, 2000, 200, 200, 400, 0, 0, 400, 64),
                    (1, 2, 2, 'B', 'b', 2, 1, 2, 1000, 500, 500, 500, 0, 0, 500, 56),
                    (1, 3, 3, 'C', 'c', 3, 1, 3, 1000, 100, 100, 100, 0, 0, 100, 0);
             INSERT INTO order_line_taxes (order_id, line_no, rate_id, tax, refunded_tax)
             VALUES (1, 1, 7, 64, 32), (1, 2, 8, 23, 0), (1, 2, 9, 33, 0);
             INSERT INTO outbox (seq, op_id, kind, payload, payload_hash, created_at)
             VALUES (1, 'a', 'sale_recorded', x'00', x'00', 0), (2, 'b', 'sale_recorded', x'00', x'00', 0);",
        )
        .unwrap();
        conn.execute_batch(MIGRATIONS[4].1).unwrap();

        let lines: Vec<(i64, Option<i64>, i64)> = conn
            .prepare("SELECT line_no, tax_rate_id, refunded_tax FROM order_lines ORDER BY line_no")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(lines, vec![(1, Some(7), 32), (2, None, 0), (3, None, 0)]);
        let rows: Vec<(i64, i64)> = conn
            .prepare("SELECT line_no, rate_id FROM order_line_taxes ORDER BY line_no, rate_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, vec![(2, 8), (2, 9)], "only the line taxed at two rates keeps rows");

        let counters: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'counters'", [], |r| r.get(0)).unwrap();
        assert_eq!(counters, 0);
        // The newest outbox record and the newest receipt hold their sequences.
        conn.execute("UPDATE outbox SET acked_at = 1", []).unwrap();
        let newest = conn.execute("DELETE FROM outbox WHERE seq = 2", []).unwrap_err();
        assert!(newest.to_string().contains("never deleted"), "{newest}");
        assert_eq!(conn.execute("DELETE FROM outbox WHERE seq = 1", []).unwrap(), 1);
        let receipt = conn.execute("DELETE FROM orders WHERE id = 1", []).unwrap_err();
        assert!(receipt.to_string().contains("never deleted"), "{receipt}");
        let seq: i64 = conn
            .query_row(
                "INSERT INTO outbox (op_id, kind, payload, payload_hash, created_at)
                 VALUES ('c', 'sale_recorded', x'00', x'00', 0) RETURNING seq",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(seq, 3);
    }

    /// Version 7 rebuilds the outbox without its op_id and pending indexes and sets the mark
    /// below the first record still waiting; shifts learn their first order id and the index of
    /// orders by shift goes.
    #[test]
    fn version_7_sets_the_outbox_mark_and_the_shifts_first_orders() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF;").unwrap();
        for (_, sql) in &MIGRATIONS[..6] {
            conn.execute_batch(sql).unwrap();
        }
        // Shift 1 has orders 1 and 2, shift 2 none, shift 3 order 3. Outbox: 1, 2 and 4
        // acknowledged, 3 quarantined, 5 waiting.
        conn.execute_batch(
            "INSERT INTO shifts (id, uuid, opened_at, opened_by, business_day, float, closed_at)
             VALUES (1, 's1', 0, 1, '2026-03-10', 0, 1), (2, 's2', 2, 1, '2026-03-10', 0, 3),
                    (3, 's3', 4, 1, '2026-03-10', 0, NULL);
             INSERT INTO orders (id, uuid, receipt_no, shift_id, business_day, staff_id, status, opened_at, currency,
                 subtotal, discount_total, tax_total, total, rounding, change_due)
             VALUES (1, 'o1', 1, 1, '2026-03-10', 1, 'paid', 0, 'EUR', 100, 0, 0, 100, 0, 0),
                    (2, 'o2', 2, 1, '2026-03-10', 1, 'paid', 0, 'EUR', 100, 0, 0, 100, 0, 0),
                    (3, 'o3', 3, 3, '2026-03-10', 1, 'paid', 4, 'EUR', 100, 0, 0, 100, 0, 0);
             INSERT INTO outbox (seq, op_id, kind, payload, payload_hash, created_at, acked_at)
             VALUES (1, 'a', 'k', x'00', x'00', 0, 9), (2, 'b', 'k', x'00', x'00', 0, 9),
                    (3, 'c', 'k', x'00', x'00', 0, NULL), (4, 'd', 'k', x'00', x'00', 0, 9),
                    (5, 'e', 'k', x'00', x'00', 0, NULL);
             INSERT INTO sync_quarantine (seq, op_id, code, message, at) VALUES (3, 'c', 'bad', 'refused', 9);",
        )
        .unwrap();
        // As `migrate` runs it: one transaction, foreign keys on.
        conn.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute_batch(MIGRATIONS[6].1).unwrap();
        tx.commit().unwrap();

        let mark: i64 = conn.query_row("SELECT settled_through FROM outbox_mark", [], |r| r.get(0)).unwrap();
        assert_eq!(mark, 4, "1, 2 and 4 acknowledged, 3 quarantined; 5 waits");
        let rows: Vec<(i64, String, Option<i64>)> = conn
            .prepare("SELECT seq, op_id, acked_at FROM outbox ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[2], (3, "c".into(), None));
        let first: Vec<Option<i64>> = conn
            .prepare("SELECT first_order_id FROM shifts ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(first, vec![Some(1), Some(3), Some(3)]);
        let indexes: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox'
                 OR name = 'orders_shift'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexes, 0);
        let fk: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check('sync_quarantine')", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 0);
        // The triggers came back with the table.
        let e = conn.execute("UPDATE outbox SET payload = x'01' WHERE seq = 1", []).unwrap_err();
        assert!(e.to_string().contains("immutable"), "{e}");
        let e = conn.execute("DELETE FROM outbox WHERE seq = 3", []).unwrap_err();
        assert!(e.to_string().contains("not acknowledged"), "{e}");
        let e = conn.execute("UPDATE outbox SET acked_at = 10 WHERE seq = 1", []).unwrap_err();
        assert!(e.to_string().contains("already acknowledged"), "{e}");
        let e = conn.execute("DELETE FROM sync_quarantine WHERE seq = 3", []).map(|_| ());
        assert!(e.is_ok());
        let e = conn
            .execute("INSERT INTO sync_quarantine (seq, op_id, code, message, at) VALUES (42, 'x', 'c', 'm', 0)", [])
            .unwrap_err();
        assert!(e.to_string().contains("FOREIGN KEY"), "{e}");
    }
}
