//! What a receipt says, independent of the paper it is printed on. Amounts arrive as formatted
//! decimal strings (the façade owns money formatting), names as the catalog has them; layout and
//! encoding clean and fit them.

use pos_core::money::Currency;
use pos_core::report::{Flow, RefundFigures, SaleFigures, SalesTotals, ShiftCashFacts, ShiftReport, ShiftReportKind};
use pos_core::shift::{CashCount, CashMovementKind};
use pos_core::tax::PriceMode;
use pos_core::tender::TenderKind;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    Sale,
    Refund,
    Void,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueHeader {
    pub name: String,
    /// Address, tax number and similar lines under the name.
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocLine {
    /// "2" or "0.350" (weighed goods).
    pub quantity: String,
    pub name: String,
    pub unit_price: String,
    /// Line amount after its discount.
    pub amount: String,
    /// The discount given on this line, e.g. "-1.00 (10%)".
    pub discount: Option<String>,
    /// The tax code printed next to the amount, matching a [`DocTax::code`].
    pub tax_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocTax {
    pub code: String,
    /// "19%".
    pub rate: String,
    pub base: String,
    pub tax: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocTender {
    /// "Cash", "Card".
    pub label: String,
    pub amount: String,
    /// Card details as the terminal reported them: "VISA ****4242 auth 123456". Never a card number.
    pub detail: Option<String>,
}

/// One receipt: sale, refund or void.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptDoc {
    pub kind: ReceiptKind,
    pub venue: VenueHeader,
    pub receipt_no: i64,
    /// The sale a refund or void refers to.
    pub original_receipt_no: Option<i64>,
    /// Venue-local date and time, e.g. "2026-11-21 14:05".
    pub issued_at: String,
    pub cashier: String,
    pub currency: String,
    pub lines: Vec<DocLine>,
    pub subtotal: String,
    /// Discounts in total, when any ("-3.00").
    pub discount_total: Option<String>,
    pub taxes: Vec<DocTax>,
    pub tax_total: String,
    pub total: String,
    /// Cash rounding when any ("-0.02").
    pub rounding: Option<String>,
    pub tenders: Vec<DocTender>,
    pub change_due: Option<String>,
    /// Why an order was voided.
    pub void_reason: Option<String>,
    /// `Some(n)` on the n-th reprint: printed as "COPY n".
    pub copy: Option<u32>,
    /// The short hash of the audit entry that recorded this receipt.
    pub audit_hash: String,
    /// The verification data carried by the QR code.
    pub qr_payload: String,
    pub footer: Vec<String>,
}

/// A kitchen or bar ticket: what to make, no prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketDoc {
    pub station: String,
    pub receipt_no: i64,
    pub issued_at: String,
    pub cashier: String,
    pub items: Vec<TicketItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketItem {
    pub quantity: String,
    pub name: String,
}

/// The verification data in a receipt's QR code: receipt number, total with currency, time and the
/// short audit hash, as `pos:r=<no>&t=<total><CUR>&d=<time>&h=<hash>` (documented in
/// docs/hardware.md). Every part is URL-safe by construction except the time, whose spaces and
/// colons are kept as they are: scanners read the payload as text.
pub fn qr_payload(receipt_no: i64, total: &str, currency: &str, issued_at_rfc3339: &str, audit_hash: &str) -> String {
    format!("pos:r={receipt_no}&t={total}{currency}&d={issued_at_rfc3339}&h={audit_hash}")
}

/// A sample sale with the names that test code pages: accents, €, ß, Turkish and Cyrillic.
pub fn sample_receipt() -> ReceiptDoc {
    let line = |q: &str, n: &str, u: &str, a: &str, d: Option<&str>, t: &str| DocLine {
        quantity: q.into(),
        name: n.into(),
        unit_price: u.into(),
        amount: a.into(),
        discount: d.map(Into::into),
        tax_code: t.into(),
    };
    ReceiptDoc {
        kind: ReceiptKind::Sale,
        venue: VenueHeader {
            name: "Café Brandt".into(),
            lines: vec!["Große Straße 12, 10115 Berlin".into(), "USt-IdNr. DE123456789".into()],
        },
        receipt_no: 1042,
        original_receipt_no: None,
        issued_at: "2026-11-21 14:05".into(),
        cashier: "Jonas Weber".into(),
        currency: "EUR".into(),
        lines: vec![
            line("2", "Crème brûlée", "4.50", "9.00", None, "B"),
            line("1", "Çay (Türk çayı) – ığüşöç", "2.20", "2.20", None, "B"),
            line("1", "Пирожок с капустой", "3.10", "2.79", Some("-0.31 (10%)"), "B"),
            line("1", "Tasse „Weißbier“ €-Edition", "12.00", "12.00", None, "A"),
        ],
        subtotal: "26.30".into(),
        discount_total: Some("-0.31".into()),
        taxes: vec![
            DocTax { code: "A".into(), rate: "19%".into(), base: "10.08".into(), tax: "1.92".into() },
            DocTax { code: "B".into(), rate: "7%".into(), base: "13.07".into(), tax: "0.92".into() },
        ],
        tax_total: "2.84".into(),
        total: "25.99".into(),
        rounding: Some("+0.01".into()),
        tenders: vec![
            DocTender {
                label: "Card".into(),
                amount: "10.00".into(),
                detail: Some("VISA ****4242 auth 123456".into()),
            },
            DocTender { label: "Cash".into(), amount: "20.00".into(), detail: None },
        ],
        change_due: Some("4.00".into()),
        void_reason: None,
        copy: None,
        audit_hash: "3fa2c9d1e0b7".into(),
        qr_payload: qr_payload(1042, "25.99", "EUR", "2026-11-21T14:05:00+01:00", "3fa2c9d1e0b7"),
        footer: vec!["Danke für Ihren Besuch!".into()],
    }
}

/// A sample Z report of a day at the sample café, its figures summed by `pos-core` so they add
/// up: two tax rates, cash and card, a refund, a void, cash paid in and out, a drawer counted
/// 0.20 short, and names that test code pages.
pub fn sample_shift_report() -> ShiftReport {
    let eur = Currency::from_code("EUR").expect("EUR is known");
    let mut t = SalesTotals::new(eur, PriceMode::TaxInclusive);
    t.add_sales(SaleFigures { orders: 42, gross: 61_230, discounts: 1_250, total: 59_980, rounding: 0 });
    t.add_refunds(RefundFigures { refunds: 1, amount: 890, total: 890, rounding: 0 });
    t.add_voids(1, 450);
    t.add_tax(Flow::Sale, "A", 190_000, 21_000, 3_990);
    t.add_tax(Flow::Sale, "B", 70_000, 32_701, 2_289);
    t.add_tax(Flow::Refund, "B", 70_000, 832, 58);
    t.add_tender(Flow::Sale, TenderKind::Cash, 21_480);
    t.add_tender(Flow::Sale, TenderKind::Card, 38_500);
    t.add_tender(Flow::Refund, TenderKind::Cash, 890);
    let movements = vec![
        (
            CashMovementKind::PaidIn,
            2_000,
            "Wechselgeld von der Bank".to_owned(),
            "2026-11-21T09:12:00+01:00".to_owned(),
        ),
        (
            CashMovementKind::PaidOut,
            1_550,
            "Milch & Eier (Lieferant Öztürk)".to_owned(),
            "2026-11-21T11:40:00+01:00".to_owned(),
        ),
    ];
    let count =
        CashCount::new(eur, &[(10_000, 1), (5_000, 3), (2_000, 4), (1_000, 2), (500, 1), (200, 2), (100, 1), (10, 2)])
            .expect("euro denominations");
    let facts = ShiftCashFacts { float: 15_000, movements, count: Some(count) };
    ShiftReport {
        report: ShiftReportKind::Z,
        venue: "Café Brandt".into(),
        shift_id: "0193a5c2-7d1e-7f04-9b3a-5c8e2d41f6a7".into(),
        opened_at: "2026-11-21T07:58:12+01:00".into(),
        opened_by: "Jonas Weber".into(),
        closed_at: Some("2026-11-21T16:04:47+01:00".into()),
        closed_by: Some("Ayşe Yılmaz".into()),
        summary: t.summary(),
        cash: pos_core::report::cash_summary(eur, &t, &facts),
    }
}
