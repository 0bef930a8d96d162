//! Our SQLCipher crypto provider (`codec.rs`) and SQLCipher's OpenSSL provider read each other's
//! stores: the page format is SQLCipher's, and a provider only computes the primitives.
//!
//! The provider is process-wide, so this test has a binary of its own. Each connection uses the
//! provider that was SQLCipher's default when it opened; `PRAGMA cipher_provider` says which.
//! The tests take turns (`ONE_AT_A_TIME`), since each switches the provider.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use pos_store::codec::{PROVIDER_NAME, Which, select_for_test};
use pos_store::keys::MemorySecretStore;
use pos_store::{DB_FILE, Store};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn provider_name(which: Which) -> &'static str {
    match which {
        Which::Ours => PROVIDER_NAME.to_str().unwrap(),
        Which::OpenSsl => "openssl",
    }
}

/// Rows of a scratch table, big enough that they span many pages (and new pages get written).
fn add_rows(store: &mut Store, from: i64, to: i64) {
    let tx = store.write().unwrap();
    tx.execute_batch("CREATE TABLE IF NOT EXISTS scratch (n INTEGER PRIMARY KEY, body TEXT NOT NULL)").unwrap();
    for n in from..to {
        tx.execute("INSERT INTO scratch (n, body) VALUES (?1, ?2)", rusqlite::params![n, body(n)]).unwrap();
    }
    // Rewrite some of the earlier rows too, so pages written by the other provider change.
    tx.execute("UPDATE scratch SET body = body || '+' WHERE n % 7 = 0 AND n < ?1", [from]).unwrap();
    tx.commit().unwrap();
}

fn body(n: i64) -> String {
    format!("{n:08}-").repeat(60)
}

fn expected_rows(to: i64, updates: &[i64]) -> Vec<(i64, String)> {
    (0..to)
        .map(|n| {
            let plus = updates.iter().filter(|&&u| n % 7 == 0 && n < u).count();
            (n, body(n) + &"+".repeat(plus))
        })
        .collect()
}

fn rows(store: &Store) -> Vec<(i64, String)> {
    let mut stmt = store.conn().prepare("SELECT n, body FROM scratch ORDER BY n").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

fn open_with(which: Which, dir: &Path, secrets: &MemorySecretStore) -> Store {
    select_for_test(which);
    let store = Store::open(dir, secrets).unwrap();
    assert_eq!(store.cipher_provider().unwrap(), provider_name(which));
    assert_eq!(store.integrity_problems().unwrap(), Vec::<String>::new(), "read through {which:?}");
    store
}

/// A store created through `first` is extended through `second` and read again through `first`,
/// after a checkpoint each time (the store checkpoints when it closes), so every page in the file
/// was written by one provider and checked, HMAC by HMAC, by the other.
fn round_trip(first: Which, second: Which) {
    let dir = tempfile::tempdir().unwrap();
    let secrets = MemorySecretStore::default();
    select_for_test(first);
    let (mut store, _recovery) = Store::create(dir.path(), &secrets).unwrap();
    assert_eq!(store.cipher_provider().unwrap(), provider_name(first));
    add_rows(&mut store, 0, 300);
    drop(store);

    let mut store = open_with(second, dir.path(), &secrets);
    assert_eq!(rows(&store), expected_rows(300, &[]));
    add_rows(&mut store, 300, 600);
    drop(store);

    let mut store = open_with(first, dir.path(), &secrets);
    assert_eq!(rows(&store), expected_rows(600, &[300]));
    add_rows(&mut store, 600, 700);
    drop(store);

    let store = open_with(second, dir.path(), &secrets);
    assert_eq!(rows(&store), expected_rows(700, &[300, 600]));
    drop(store);

    // Still encrypted: no header, no row text in the file.
    let bytes = std::fs::read(dir.path().join(DB_FILE)).unwrap();
    assert!(!bytes.starts_with(b"SQLite format 3"));
    assert!(!bytes.windows(9).any(|w| w == b"00000001-"));
}

#[test]
fn each_provider_reads_and_extends_the_others_store() {
    let _turn = one_at_a_time();
    round_trip(Which::OpenSsl, Which::Ours);
    round_trip(Which::Ours, Which::OpenSsl);
}

/// A page changed on disk fails our provider's HMAC check, as it fails OpenSSL's.
#[test]
fn a_tampered_page_is_caught_through_our_provider() {
    let _turn = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let secrets = MemorySecretStore::default();
    select_for_test(Which::Ours);
    let (mut store, _recovery) = Store::create(dir.path(), &secrets).unwrap();
    add_rows(&mut store, 0, 300);
    drop(store);

    let path = dir.path().join(DB_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 2048;
    let at = bytes.len() - page + 100; // inside the last page's encrypted bytes
    bytes[at] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();

    select_for_test(Which::Ours);
    let store = Store::open(dir.path(), &secrets).unwrap();
    let problems = store.integrity_problems().unwrap();
    assert!(!problems.is_empty(), "a flipped bit went unnoticed");
}
