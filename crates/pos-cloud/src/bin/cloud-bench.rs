//! `bench cloud_ingest_orders_per_s`: 10,000 sales pushed by one register in batches of 500 to
//! the service on loopback, on a throw-away PostgreSQL; orders stored per second of wall time.

use std::time::Instant;

use pos_cloud::testing::TestCloud;
use pos_sync_protocol::api::{PushRecord, PushRequest, RecordStatus};
use pos_sync_protocol::{LineTax, Operation, RateTotal, SaleLine, SalePayment, SaleRecorded};
use uuid::Uuid;

const ORDERS: i64 = 10_000;
const BATCH: usize = 500;

/// A three-line café sale, as a register's outbox record.
fn record(seq: i64) -> PushRecord {
    let lines: Vec<SaleLine> = (1..=3)
        .map(|n| SaleLine {
            line_no: n,
            sku_id: i64::from(n),
            sku_code: format!("SKU-{n}"),
            name: format!("Item {n}"),
            product_id: i64::from(n),
            category_id: 1,
            category: "Coffee".into(),
            product: "Coffee".into(),
            qty_milli: 1000,
            list_price: 350,
            unit_price: 350,
            extended: 350,
            line_discount: 0,
            order_discount: 0,
            amount: 350,
            taxes: vec![LineTax { rate_id: 1, tax: 56 }],
        })
        .collect();
    let op = Operation::SaleRecorded(SaleRecorded {
        order_id: Uuid::now_v7().to_string(),
        receipt_no: seq,
        shift_id: "bench-shift".into(),
        business_day: "2026-11-21".into(),
        staff_id: 3,
        opened_at: "2026-11-21T09:00:00Z".into(),
        paid_at: "2026-11-21T09:01:00Z".into(),
        currency: "EUR".into(),
        subtotal: 1050,
        discount_total: 0,
        tax_total: 168,
        total: 1050,
        rounding: 0,
        change_due: 0,
        lines,
        taxes: vec![RateTotal { rate_id: 1, code: "A".into(), rate_ppm: 190_000, base: 882, tax: 168 }],
        payments: vec![SalePayment {
            seq: 1,
            kind: "cash".into(),
            amount: 1050,
            tendered: 2000,
            change: 950,
            card: None,
        }],
    });
    pos_cloud::testing::push_record(seq, &op)
}

fn main() {
    let cloud = TestCloud::start("bench_ingest");
    let tenant = cloud.create_tenant("Bench");
    let device = cloud.enroll_device(tenant, [42; 32]);
    let records: Vec<PushRecord> = (1..=ORDERS).map(record).collect();
    let started = Instant::now();
    for batch in records.chunks(BATCH) {
        let resp = device.push(&PushRequest { records: batch.to_vec(), audit: vec![] });
        assert!(resp.results.iter().all(|r| r.status == RecordStatus::Stored), "every order is stored");
    }
    let elapsed = started.elapsed();
    let stored: i64 = cloud.query_text(tenant.tenant, "SELECT count(*) FROM orders")[0].parse().expect("a count");
    assert_eq!(stored, ORDERS);
    let per_s = u128::from(ORDERS.unsigned_abs()) * 1_000_000 / elapsed.as_micros().max(1);
    println!("bench cloud_ingest_orders_per_s {per_s} orders/s");
}
