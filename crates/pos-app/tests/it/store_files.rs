//! The store on disk: encrypted at rest, opened only with its key, foreign files refused with the
//! right code, and the recovery secret restoring access to an empty credential store.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use pos_app::demo::{demo_staff, demo_venue, init_demo};
use pos_app::pos_core::money::Currency;
use pos_app::pos_core::shift::CashMovementKind;
use pos_app::{ErrorCode, ManualClock, MemorySecretStore, RecoverySecret, Register, SecretStore, StaffSetup};

use crate::support::*;

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn store_id(dir: &Path) -> String {
    let meta: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("store.json")).expect("store.json")).expect("json");
    meta["store_id"].as_str().expect("store_id field").to_owned()
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).expect("random");
    b
}

/// A store with a shift and a few sales, closed again; returns the pieces.
fn closed_store() -> (tempfile::TempDir, MemorySecretStore, Arc<ManualClock>, String) {
    let mut f = demo();
    let s = cashier(&mut f.reg);
    f.reg.open_shift(&s, eur(10_000)).expect("shift");
    sell_cash(&mut f.reg, &s, &[("HOT-03-0", 1), ("BAK-00", 2)]);
    let Fixture { reg, secrets, clock, recovery, dir, .. } = f;
    drop(reg);
    (dir, secrets, clock, recovery)
}

/// What a healthy reopened store shows: the one sale of `closed_store`, in the owner's sales export
/// (`authenticator` is the owner's for this store; back-office access moves the clock on by 30 s).
fn assert_intact(reg: &mut Register, clock: &ManualClock, authenticator: &mut Authenticator) {
    let office = back_office(reg, clock, authenticator);
    let day = date("2026-06-15");
    let sales = reg.export_sales(&office, day, day).expect("export");
    assert_eq!(sales.len(), 1);
    assert_eq!(sales[0].total, eur(840));
    assert!(reg.current_shift().expect("shift").is_some());
}

#[test]
fn nothing_readable_is_on_disk() {
    let mut f = demo();
    let s = cashier(&mut f.reg);
    f.reg.open_shift(&s, eur(10_000)).expect("shift");
    sell_cash(&mut f.reg, &s, &[("HOT-03-0", 1), ("BAK-00", 2)]);
    sell_card(&mut f.reg, &s, &[("LUN-07", 1)]);
    f.reg.cash_movement(&s, CashMovementKind::PaidOut, eur(1240), "Milchkauf beim Discounter").expect("paid out");
    let secrets_in_clear = [
        "Cappuccino",
        "Croissant",
        "Greek Salad",
        "Café Lindenblatt",
        "Jonas Weber",
        "Milchkauf",
        "A1B2C3",
        "CREATE TABLE",
    ];

    let db = f.path().join("register.db");
    let wal = f.path().join("register.db-wal");
    let check = |path: &Path| {
        let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!bytes.is_empty());
        assert!(!bytes.starts_with(b"SQLite format 3\0"), "{} has a plain SQLite header", path.display());
        for word in secrets_in_clear {
            assert!(!contains(&bytes, word), "{word:?} is readable in {}", path.display());
        }
    };
    // While the register is open the latest writes sit in the write-ahead log.
    assert!(wal.exists(), "the store runs in WAL mode");
    check(&db);
    check(&wal);

    // store.json holds the store id and wrapped keys, nothing else readable.
    let meta = fs::read(f.path().join("store.json")).expect("store.json");
    for word in secrets_in_clear {
        assert!(!contains(&meta, word));
    }
    assert!(!contains(&meta, &f.recovery));
    assert!(!contains(&meta, &f.recovery.replace('-', "")));

    let Fixture { reg, dir, .. } = f;
    drop(reg);
    check(&dir.path().join("register.db"));
    if dir.path().join("register.db-wal").exists() {
        check(&dir.path().join("register.db-wal"));
    }
}

#[test]
fn the_store_opens_only_with_its_key() {
    let (dir, secrets, clock, _) = closed_store();
    let id = store_id(dir.path());
    let key_name = format!("{id}/db-key");
    let key = secrets.get(&key_name).expect("get").expect("the key is in the secret store");
    assert_eq!(key.len(), 32);

    // A credential store without this register's entries.
    let empty = MemorySecretStore::default();
    let msg = expect_err(Register::open(dir.path(), &empty, clock.clone()), ErrorCode::KeyMissing);
    assert!(msg.contains("recover"), "the message says how to get back in: {msg}");
    // Only the database key, without the PIN pepper, is not enough either.
    let key_only = MemorySecretStore::default();
    key_only.put(&key_name, &key).expect("put");
    expect_err(Register::open(dir.path(), &key_only, clock.clone()), ErrorCode::KeyMissing);

    // Another 32-byte key: the file does not decrypt.
    secrets.put(&key_name, &random_bytes(32)).expect("put");
    let msg = expect_err(Register::open(dir.path(), &secrets, clock.clone()), ErrorCode::WrongKey);
    assert!(!msg.contains(&hex(&key)), "the message must not carry key material");
    // A key of the wrong length is treated as no key.
    secrets.put(&key_name, &random_bytes(16)).expect("put");
    expect_err(Register::open(dir.path(), &secrets, clock.clone()), ErrorCode::KeyMissing);

    // The right key opens it, with everything still there.
    secrets.put(&key_name, &key).expect("put");
    let mut reg = Register::open(dir.path(), &secrets, clock.clone()).expect("open with the right key");
    assert_intact(&mut reg, &clock, &mut Authenticator::default());
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn foreign_database_files_are_refused() {
    let (dir, secrets, clock, _) = closed_store();
    let db = dir.path().join("register.db");
    assert!(!dir.path().join("register.db-wal").exists(), "a cleanly closed store has no WAL left");
    let original = fs::read(&db).expect("read");
    let replace = |bytes: &[u8]| {
        for side in ["register.db-wal", "register.db-shm"] {
            let _ = fs::remove_file(dir.path().join(side));
        }
        fs::write(&db, bytes).expect("write");
    };

    // Random bytes.
    replace(&random_bytes(8192));
    let msg = expect_err(Register::open(dir.path(), &secrets, clock.clone()), ErrorCode::WrongKey);
    assert!(!msg.contains("unencrypted"), "{msg}");

    // Just a plain SQLite header.
    let mut header_only = b"SQLite format 3\0".to_vec();
    header_only.resize(4096, 0);
    replace(&header_only);
    let msg = expect_err(Register::open(dir.path(), &secrets, clock.clone()), ErrorCode::WrongKey);
    assert!(msg.contains("unencrypted"), "{msg}");

    // A real, unencrypted SQLite database.
    fs::remove_file(&db).expect("remove");
    {
        let conn = rusqlite::Connection::open(&db).expect("plain sqlite");
        conn.execute_batch("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('hello');").expect("write");
    }
    assert!(fs::read(&db).expect("read").starts_with(b"SQLite format 3\0"));
    let msg = expect_err(Register::open(dir.path(), &secrets, clock.clone()), ErrorCode::WrongKey);
    assert!(msg.contains("unencrypted"), "{msg}");

    // A database encrypted with the right key that is not a register database.
    fs::remove_file(&db).expect("remove");
    let key = secrets.get(&format!("{}/db-key", store_id(dir.path()))).expect("get").expect("key");
    {
        let conn = rusqlite::Connection::open(&db).expect("sqlcipher");
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\"; CREATE TABLE notes (text TEXT);", hex(&key)))
            .expect("write");
    }
    expect_err(Register::open(dir.path(), &secrets, clock.clone()), ErrorCode::WrongKey);

    // The register's own file opens again.
    replace(&original);
    let mut reg = Register::open(dir.path(), &secrets, clock.clone()).expect("original file");
    assert_intact(&mut reg, &clock, &mut Authenticator::default());
}

#[test]
fn the_recovery_secret_restores_access_into_an_empty_credential_store() {
    let (dir, _secrets, clock, recovery) = closed_store();
    let empty = MemorySecretStore::default();

    // Wrong or malformed secrets unlock nothing and write nothing.
    let other = RecoverySecret::random().expect("random").reveal().to_string();
    expect_err(Register::recover(dir.path(), &empty, &other, clock.clone()), ErrorCode::WrongKey);
    expect_err(Register::recover(dir.path(), &empty, "not-a-recovery-secret", clock.clone()), ErrorCode::WrongKey);
    let mut typo = recovery.clone();
    typo.replace_range(0..1, if typo.starts_with('A') { "B" } else { "A" });
    expect_err(Register::recover(dir.path(), &empty, &typo, clock.clone()), ErrorCode::WrongKey);
    expect_err(Register::open(dir.path(), &empty, clock.clone()), ErrorCode::KeyMissing);

    // The real one, typed in lower case with spaces.
    let typed = recovery.to_lowercase().replace('-', " ");
    let mut reg = Register::recover(dir.path(), &empty, &typed, clock.clone()).expect("recover");
    let mut authenticator = Authenticator::default();
    assert_intact(&mut reg, &clock, &mut authenticator);
    // The PIN pepper came back too: the demo PINs still sign in.
    let s = cashier(&mut reg);
    assert_eq!(s.name(), "Jonas Weber");
    drop(reg);

    // From now on the credential store opens it without the recovery secret.
    let mut reg = Register::open(dir.path(), &empty, clock.clone()).expect("open after recovery");
    assert_intact(&mut reg, &clock, &mut authenticator);
    let s = cashier(&mut reg);
    let r = sell_card(&mut reg, &s, &[("HOT-00-0", 1)]);
    assert_eq!(r.receipt_no, 2);
}

#[test]
fn the_recovery_secret_replaces_a_wrong_key() {
    let (dir, secrets, clock, recovery) = closed_store();
    let key_name = format!("{}/db-key", store_id(dir.path()));
    secrets.put(&key_name, &random_bytes(32)).expect("put");
    expect_err(Register::open(dir.path(), &secrets, clock.clone()), ErrorCode::WrongKey);
    drop(Register::recover(dir.path(), &secrets, &recovery, clock.clone()).expect("recover"));
    let mut reg = Register::open(dir.path(), &secrets, clock.clone()).expect("open");
    assert_intact(&mut reg, &clock, &mut Authenticator::default());
}

#[test]
fn init_refuses_bad_setups_and_existing_stores_and_writes_nothing() {
    let clock = Arc::new(ManualClock::new(ts(T0)));
    let secrets = MemorySecretStore::default();
    let dir = tempfile::tempdir().expect("dir");
    let nothing_written = |dir: &Path| {
        assert_eq!(fs::read_dir(dir).expect("list").count(), 0, "files were left in {}", dir.display());
    };

    let mut bad_zone = demo_venue();
    bad_zone.time_zone = "Europe/Atlantis".into();
    let mut bad_currency = demo_venue();
    bad_currency.currency = "EURO".into();
    let mut bad_cutoff = demo_venue();
    bad_cutoff.day_cutoff_hour = 24;
    let mut bad_rounding = demo_venue();
    bad_rounding.cash_rounding = 0;
    for v in [bad_zone, bad_currency, bad_cutoff, bad_rounding] {
        let r = Register::init(dir.path(), &secrets, &v, &demo_staff(), &[], clock.clone());
        expect_err(r.map(|_| ()), ErrorCode::InvalidInput);
        nothing_written(dir.path());
    }
    // A new store needs an owner; with one, a bad PIN is still refused.
    let bad_pin = vec![
        StaffSetup { name: "Olga".into(), role: "owner".into(), pin: "4711".into() },
        StaffSetup { name: "Pat".into(), role: "cashier".into(), pin: "12a4".into() },
    ];
    let r = Register::init(dir.path(), &secrets, &demo_venue(), &bad_pin, &[], clock.clone());
    let msg = expect_err(r.map(|_| ()), ErrorCode::InvalidInput);
    assert!(msg.contains("PIN"), "{msg}");
    nothing_written(dir.path());

    expect_err(Register::open(dir.path(), &secrets, clock.clone()), ErrorCode::NotInitialised);
    let (reg, _) = init_demo(dir.path(), &secrets, clock.clone()).expect("init");
    assert_eq!(reg.currency(), Currency::EUR);
    drop(reg);
    let r = init_demo(dir.path(), &secrets, clock.clone());
    expect_err(r.map(|_| ()), ErrorCode::AlreadyInitialised);
    Register::open(dir.path(), &secrets, clock).expect("the first store is untouched");
}
