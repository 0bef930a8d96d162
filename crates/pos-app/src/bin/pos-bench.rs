//! Benchmarks of the register's hot paths. Prints `bench <name> <value> <unit>` lines.
//!
//! Run with `cargo xtask bench`. Every figure goes through the façade, as the register would.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pos_app::demo::{self, DemoRng};
use pos_app::pos_core::money::{Money, Quantity};
use pos_app::pos_core::tender::Tender;
use pos_app::{CatalogRow, ItemRef, MemorySecretStore, Register, Session, SystemClock};

fn bench(name: &str, value: u128, unit: &str) {
    println!("bench {name} {value} {unit}");
}

fn percentile(samples: &mut [Duration], pct: usize) -> Duration {
    samples.sort_unstable();
    let i = (samples.len() * pct / 100).min(samples.len() - 1);
    samples[i]
}

/// A register ringing up typical three-line cash sales, timing only `pay` (the durable commit).
struct Till {
    reg: Register,
    cashier: Session,
    codes: Vec<String>,
    rng: DemoRng,
}

impl Till {
    fn new(mut reg: Register) -> Till {
        let cashier = demo::sign_in_role(&mut reg, "cashier").expect("demo cashier");
        reg.open_shift(&cashier, Money::new(15_000, reg.currency())).expect("open shift");
        let codes = reg.catalog().skus().iter().filter(|s| !s.weighed).map(|s| s.code.clone()).collect();
        Till { reg, cashier, codes, rng: DemoRng::new(42) }
    }

    fn sale(&mut self) -> Duration {
        let order = self.reg.open_order(&self.cashier).expect("order");
        for _ in 0..3 {
            let code = &self.codes[self.rng.below(self.codes.len() as u64) as usize];
            self.reg.add_item(&self.cashier, &order, ItemRef::Code(code), Quantity::ONE).expect("add");
        }
        let due = self.reg.order_view(&order).expect("view").total;
        let cash = Tender::Cash { tendered: Money::new(due.minor() + 500, due.currency()) };
        let start = Instant::now();
        self.reg.pay(&self.cashier, &order, &[cash]).expect("pay");
        start.elapsed()
    }
}

fn catalog_rows(n: usize) -> Vec<CatalogRow> {
    let words = [
        "Oat", "Milk", "Dark", "Roast", "Vanilla", "Latte", "Bean", "Honey", "Almond", "Berry", "Ginger", "Lemon",
        "Spiced", "Crème", "Brûlée", "Tea", "Mocha", "Salted", "Caramel", "Cocoa", "Maple", "Walnut", "Cherry",
        "Peach", "Mint",
    ];
    let categories = ["Pantry", "Drinks", "Bakery", "Household", "Gifts", "Snacks", "Frozen", "Dairy"];
    let mut rng = DemoRng::new(100);
    (0..n)
        .map(|i| {
            let name = format!(
                "{} {} {} {}",
                rng.pick(&words),
                rng.pick(&words),
                rng.pick(&words),
                i / 4 // four variants per product
            );
            CatalogRow {
                line: i + 2,
                sku: format!("BULK-{i:06}"),
                product: name,
                variant: ["small", "medium", "large", "family"][i % 4].into(),
                category: categories[i % categories.len()].into(),
                price: format!("{}.{:02}", 1 + rng.below(40), rng.below(100)),
                tax_class: if i % 3 == 0 { "standard".into() } else { "reduced".into() },
                barcodes: vec![demo::ean13(200_000_000_000 + i as u64)],
                weighed: false,
                unreadable: None,
            }
        })
        .collect()
}

fn main() {
    // `pos-bench [sale] [catalog] [z]` runs only the named groups; no argument runs all.
    let groups: Vec<String> = std::env::args().skip(1).collect();
    let want = |g: &str| groups.is_empty() || groups.iter().any(|a| a == g);
    let secrets = MemorySecretStore::default();
    let clock = Arc::new(SystemClock);
    let tmp = tempfile::tempdir().expect("temp dir");

    if want("sale") {
        sale_group(&tmp, &secrets, &clock);
    }
    if want("catalog") {
        catalog_group(&tmp, &secrets, &clock);
    }
    if want("audit") {
        audit_group(&tmp, &secrets, &clock);
    }
    if want("print") {
        print_group(&tmp, &secrets, &clock);
    }
    if want("z") {
        z_group(&tmp, &secrets, clock);
    }
}

/// Encoding a customer receipt to ESC/POS bytes (layout, code page, QR), and the Z report as a PDF.
fn print_group(tmp: &tempfile::TempDir, secrets: &MemorySecretStore, clock: &Arc<SystemClock>) {
    use pos_app::pos_print::{CodePage, Profile, doc, escpos, layout};
    let receipt = doc::sample_receipt();
    let profile = Profile::new(42, CodePage::Pc858).expect("profile");
    let mut encodes = Vec::with_capacity(2000);
    let mut bytes = 0;
    for _ in 0..2000 {
        let start = Instant::now();
        bytes += escpos::encode(&layout::receipt(&receipt, profile), profile).len();
        encodes.push(start.elapsed());
    }
    assert!(bytes > 0);
    bench("receipt_encode_us", percentile(&mut encodes, 50).as_micros(), "us");

    // A Z report of a real shift: 200 sales, then the close.
    let (reg, _) = demo::init_demo(&tmp.path().join("print"), secrets, clock.clone()).expect("init");
    let mut till = Till::new(reg);
    for _ in 0..200 {
        till.sale();
    }
    let manager = demo::sign_in_role(&mut till.reg, "manager").expect("demo manager");
    let expected = till.reg.x_report(&manager).expect("x report").cash.expected.minor();
    let counts = demo::exact_count(till.reg.currency(), expected);
    let z = till.reg.close_shift(&till.cashier, &counts).expect("close shift");
    let mut pdfs = Vec::new();
    for _ in 0..10 {
        let start = Instant::now();
        let pdf = pos_pdf::shift_report_pdf(&z, pos_pdf::Paper::A4).expect("pdf");
        pdfs.push(start.elapsed());
        assert!(pdf.starts_with(b"%PDF"));
    }
    bench("pdf_z_report_ms", percentile(&mut pdfs, 50).as_millis(), "ms");
}

/// PIN sign-in (Argon2id, deliberately slow), a durable audit append, and verifying 100,000 entries.
fn audit_group(tmp: &tempfile::TempDir, secrets: &MemorySecretStore, clock: &Arc<SystemClock>) {
    let (mut reg, _) = demo::init_demo(&tmp.path().join("audit"), secrets, clock.clone()).expect("init");
    let manager = reg.staff().into_iter().find(|s| s.role == "manager").expect("demo manager");
    let pin = demo::demo_pin(&manager.name).expect("demo PIN");
    let mut signs = Vec::new();
    let mut session = None;
    for _ in 0..10 {
        let start = Instant::now();
        session = Some(reg.sign_in(manager.id, &pin).expect("sign in"));
        signs.push(start.elapsed());
    }
    bench("pin_verify_ms", percentile(&mut signs, 50).as_millis(), "ms");
    let manager = session.expect("signed in");
    reg.open_shift(&manager, Money::new(15_000, reg.currency())).expect("shift");
    // A no-sale drawer open by a manager writes exactly one audit entry and commits it.
    let mut appends = Vec::with_capacity(2000);
    for _ in 0..2000 {
        let start = Instant::now();
        reg.no_sale(&manager, "change for the float").expect("no sale");
        appends.push(start.elapsed());
    }
    bench("audit_append_p50_us", percentile(&mut appends, 50).as_micros(), "us");
    bench("audit_append_p99_us", percentile(&mut appends, 99).as_micros(), "us");
    let have = reg.verify_audit().expect("verify").entries;
    reg.seed_audit_for_benchmark(100_000 - have).expect("seed audit");
    let mut verifies = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let v = reg.verify_audit().expect("verify");
        verifies.push(start.elapsed());
        assert!(v.ok && v.entries == 100_000, "{v:?}");
    }
    bench("audit_verify_100k_ms", percentile(&mut verifies, 50).as_millis(), "ms");
}

/// Sale commits, encrypted and plain, same schema and durability (synchronous = FULL).
fn sale_group(tmp: &tempfile::TempDir, secrets: &MemorySecretStore, clock: &Arc<SystemClock>) {
    let sales: usize = std::env::var("POS_BENCH_SALES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let (reg, _) = demo::init_demo(&tmp.path().join("encrypted"), secrets, clock.clone()).expect("init");
    let mut encrypted = Till::new(reg);
    let reg = Register::init_unencrypted_for_benchmark(
        &tmp.path().join("plain"),
        secrets,
        &demo::demo_venue(),
        &demo::demo_staff(),
        &demo::demo_catalog(),
        clock.clone(),
    )
    .expect("plain init");
    let mut plain_till = Till::new(reg);
    let mut floor = DiskFlush::new(&tmp.path().join("flush-probe"));
    // Alternate the two stores and the bare disk flush sale by sale, so all three see the same
    // disk and machine noise.
    let (mut enc, mut plain, mut flush) =
        (Vec::with_capacity(sales), Vec::with_capacity(sales), Vec::with_capacity(sales));
    for i in 0..sales + 200 {
        let (e, p, f) = (encrypted.sale(), plain_till.sale(), floor.flush());
        if i >= 200 {
            enc.push(e);
            plain.push(p);
            flush.push(f);
        }
    }
    let enc_p99 = percentile(&mut enc, 99);
    let plain_p99 = percentile(&mut plain, 99);
    bench("sale_commit_p50_us", percentile(&mut enc, 50).as_micros(), "us");
    bench("sale_commit_p99_us", enc_p99.as_micros(), "us");
    bench("sale_commit_plain_p50_us", percentile(&mut plain, 50).as_micros(), "us");
    bench("sale_commit_plain_p99_us", plain_p99.as_micros(), "us");
    bench("sale_commit_p99_encrypted_vs_plain_pct", enc_p99.as_nanos() * 100 / plain_p99.as_nanos().max(1), "pct");
    // The floor under any durable commit on this disk: one 4 KiB write made durable, no database.
    bench("disk_flush_4k_p50_us", percentile(&mut flush, 50).as_micros(), "us");
    bench("disk_flush_4k_p99_us", percentile(&mut flush, 99).as_micros(), "us");
}

/// A bare durable write, for comparison with the sale commit: 4 KiB written in place in a
/// preallocated file (as SQLite rewrites its WAL), then `fdatasync`.
struct DiskFlush {
    file: std::fs::File,
    block: Vec<u8>,
    slot: u64,
}

impl DiskFlush {
    const SLOTS: u64 = 256;

    fn new(path: &std::path::Path) -> DiskFlush {
        let file =
            std::fs::OpenOptions::new().create(true).truncate(true).read(true).write(true).open(path).expect("probe");
        file.set_len(4096 * Self::SLOTS).expect("preallocate probe");
        file.sync_all().expect("sync probe");
        DiskFlush { file, block: vec![0x5a; 4096], slot: 0 }
    }

    fn flush(&mut self) -> Duration {
        use std::io::{Seek, SeekFrom, Write};
        self.block[..8].copy_from_slice(&self.slot.to_le_bytes());
        let start = Instant::now();
        self.file.seek(SeekFrom::Start(4096 * (self.slot % Self::SLOTS))).expect("probe seek");
        self.file.write_all(&self.block).expect("probe write");
        self.file.sync_data().expect("probe flush");
        self.slot += 1;
        start.elapsed()
    }
}

/// A store with 100,000 SKUs: open, search, barcode lookup.
fn catalog_group(tmp: &tempfile::TempDir, secrets: &MemorySecretStore, clock: &Arc<SystemClock>) {
    let big_dir = tmp.path().join("catalog-100k");
    let (mut reg, _) = demo::init_demo(&big_dir, secrets, clock.clone()).expect("init");
    let rows = catalog_rows(100_000 - reg.catalog().len());
    let owner = demo::sign_in_role(&mut reg, "owner").expect("demo owner");
    reg.import_catalog(&owner, &rows).expect("import");
    drop(reg);
    let mut opens = Vec::new();
    let mut reg = None;
    for _ in 0..5 {
        drop(reg.take());
        let start = Instant::now();
        let r = Register::open(&big_dir, secrets, clock.clone()).expect("open");
        opens.push(start.elapsed());
        reg = Some(r);
    }
    let reg = reg.expect("opened");
    assert!(reg.catalog().len() >= 100_000);
    bench("catalog_open_100k_ms", percentile(&mut opens, 50).as_millis(), "ms");

    let mut rng = DemoRng::new(9);
    let names: Vec<String> = reg.catalog().skus().iter().map(|s| s.product_name.clone()).collect();
    let mut searches = Vec::new();
    for _ in 0..2000 {
        let name = &names[rng.below(names.len() as u64) as usize];
        let chars: Vec<char> = name.chars().collect();
        let len = 3 + rng.below(3) as usize;
        let at = rng.below(chars.len().saturating_sub(len).max(1) as u64) as usize;
        let fragment: String = chars[at..(at + len).min(chars.len())].iter().collect();
        let start = Instant::now();
        let hits = reg.search(&fragment, 20);
        searches.push(start.elapsed());
        std::hint::black_box(hits);
    }
    bench("catalog_search_100k_p99_us", percentile(&mut searches, 99).as_micros(), "us");

    let barcodes: Vec<String> = reg.catalog().skus().iter().filter_map(|s| s.barcodes.first().cloned()).collect();
    let mut lookups = Vec::new();
    for _ in 0..20_000 {
        let b = &barcodes[rng.below(barcodes.len() as u64) as usize];
        let start = Instant::now();
        let hit = reg.lookup_barcode(b).expect("known barcode");
        lookups.push(start.elapsed());
        std::hint::black_box(hit);
    }
    bench("barcode_lookup_100k_p99_us", percentile(&mut lookups, 99).as_micros(), "us");
    drop(reg);
}

/// A Z report over a shift with 1,000,000 order lines (250,000 four-line sales).
fn z_group(tmp: &tempfile::TempDir, secrets: &MemorySecretStore, clock: Arc<SystemClock>) {
    let z_dir = tmp.path().join("z-1m");
    let (mut reg, _) = demo::init_demo(&z_dir, secrets, clock.clone()).expect("init");
    let cashier = demo::sign_in_role(&mut reg, "cashier").expect("demo cashier");
    reg.open_shift(&cashier, Money::new(15_000, reg.currency())).expect("shift");
    let seed_start = Instant::now();
    for _ in 0..10 {
        reg.seed_sales_for_benchmark(&cashier, 25_000, 4).expect("seed");
    }
    eprintln!("seeded 1,000,000 lines in {} s", seed_start.elapsed().as_secs());
    let manager = demo::sign_in_role(&mut reg, "manager").expect("demo manager");
    let x = reg.x_report(&manager).expect("x report");
    let count = demo::exact_count(reg.currency(), x.cash.expected.minor());
    reg.close_shift(&cashier, &count).expect("close");
    drop(reg);
    let mut reg = Register::open(&z_dir, secrets, clock).expect("open");
    let manager = demo::sign_in_role(&mut reg, "manager").expect("demo manager");
    let mut zs = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let z = reg.z_report(&manager, None).expect("z report");
        zs.push(start.elapsed());
        assert_eq!(z.summary.order_count, 250_000);
    }
    bench("z_report_1m_lines_ms", percentile(&mut zs, 50).as_millis(), "ms");
}
