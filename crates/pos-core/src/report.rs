//! Report aggregators: pure folds over sales facts, shared by the register, `posctl` and (later) the
//! cloud, so every place shows the same numbers.
//!
//! Inputs arrive as figures that may be per order or already summed per group (sums of integers are
//! exact either way), so a store can stream them from SQL without building an object per order line.
//! All amounts are in the venue's price basis (tax included where shelf prices include it).
//! `docs/reports.md` defines every field.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::civil::Date;
use serde::{Serialize, Serializer};

use crate::money::{Currency, Money, format_minor};
use crate::rounding::div_round_half_away;
use crate::shift::{CashCount, CashMovementKind, expected_cash};
use crate::tax::{PriceMode, format_rate};
use crate::tender::TenderKind;

/// Amounts in reports serialise as plain decimal strings ("12.50"); the currency is a report field.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_minor(self.minor(), self.currency()))
    }
}

/// An amount as reports print it: "12.50" (the currency is said elsewhere).
pub fn amount_text(m: Money) -> String {
    format_minor(m.minor(), m.currency())
}

/// A deduction shown with its minus sign ("-12.50"); zero stays "0.00".
pub fn deduction_text(m: Money) -> String {
    if m.is_zero() { amount_text(m) } else { format_minor(m.minor().saturating_neg(), m.currency()) }
}

/// The sum of `values` in `like`'s currency (saturating: a report never wraps around).
pub fn sum_money(values: impl Iterator<Item = Money>, like: Money) -> Money {
    Money::new(values.fold(0i64, |acc, m| acc.saturating_add(m.minor())), like.currency())
}

/// A tender's name as reports and receipts print it.
pub fn tender_label(t: TenderKind) -> &'static str {
    match t {
        TenderKind::Cash => "Cash",
        TenderKind::Card => "Card",
    }
}

/// Sales figures: one paid order, or the sum over several.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SaleFigures {
    pub orders: i64,
    pub gross: i64,
    pub discounts: i64,
    /// Order totals before cash rounding.
    pub total: i64,
    pub rounding: i64,
}

/// Refund figures: one refund, or the sum over several.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefundFigures {
    pub refunds: i64,
    /// Refunded line amounts, in price basis.
    pub amount: i64,
    /// What went back to customers, rounding included.
    pub total: i64,
    pub rounding: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Sale,
    Refund,
}

#[derive(Debug, Clone, Copy, Default)]
struct TaxSums {
    base: i64,
    tax: i64,
}

#[derive(Debug, Clone, Copy, Default)]
struct TenderSums {
    sales: i64,
    refunds: i64,
}

/// The accumulator behind X, Z and daily reports.
#[derive(Debug, Clone)]
pub struct SalesTotals {
    currency: Currency,
    price_mode: PriceMode,
    sales: SaleFigures,
    refunds: RefundFigures,
    void_count: i64,
    voided: i64,
    tax: BTreeMap<(String, i64), TaxSums>,
    tenders: BTreeMap<TenderKind, TenderSums>,
}

impl SalesTotals {
    pub fn new(currency: Currency, price_mode: PriceMode) -> SalesTotals {
        SalesTotals {
            currency,
            price_mode,
            sales: SaleFigures::default(),
            refunds: RefundFigures::default(),
            void_count: 0,
            voided: 0,
            tax: BTreeMap::new(),
            tenders: BTreeMap::new(),
        }
    }

    pub fn add_sales(&mut self, f: SaleFigures) {
        self.sales.orders += f.orders;
        self.sales.gross += f.gross;
        self.sales.discounts += f.discounts;
        self.sales.total += f.total;
        self.sales.rounding += f.rounding;
    }

    pub fn add_refunds(&mut self, f: RefundFigures) {
        self.refunds.refunds += f.refunds;
        self.refunds.amount += f.amount;
        self.refunds.total += f.total;
        self.refunds.rounding += f.rounding;
    }

    /// Voided orders are not sales; they are counted on their own.
    pub fn add_voids(&mut self, count: i64, total: i64) {
        self.void_count += count;
        self.voided += total;
    }

    pub fn add_tax(&mut self, flow: Flow, code: &str, rate_ppm: i64, base: i64, tax: i64) {
        let sign = if flow == Flow::Sale { 1 } else { -1 };
        let e = self.tax.entry((code.to_owned(), rate_ppm)).or_default();
        e.base += sign * base;
        e.tax += sign * tax;
    }

    pub fn add_tender(&mut self, flow: Flow, kind: TenderKind, amount: i64) {
        let e = self.tenders.entry(kind).or_default();
        match flow {
            Flow::Sale => e.sales += amount,
            Flow::Refund => e.refunds += amount,
        }
    }

    /// Net cash taken for sales minus cash paid back for refunds.
    pub fn tender_net(&self, kind: TenderKind) -> i64 {
        self.tenders.get(&kind).map_or(0, |t| t.sales - t.refunds)
    }

    pub fn tender_sales(&self, kind: TenderKind) -> i64 {
        self.tenders.get(&kind).map_or(0, |t| t.sales)
    }

    pub fn tender_refunds(&self, kind: TenderKind) -> i64 {
        self.tenders.get(&kind).map_or(0, |t| t.refunds)
    }

    pub fn summary(&self) -> SalesSummary {
        let m = |v: i64| Money::new(v, self.currency);
        let tax: Vec<TaxRow> = self
            .tax
            .iter()
            .map(|((code, ppm), s)| TaxRow {
                code: code.clone(),
                rate: format_rate(*ppm),
                rate_ppm: *ppm,
                base: m(s.base),
                tax: m(s.tax),
                gross: m(s.base + s.tax),
            })
            .collect();
        let tax_total: i64 = self.tax.values().map(|s| s.tax).sum();
        let tenders: Vec<TenderRow> = self
            .tenders
            .iter()
            .map(|(k, t)| TenderRow {
                tender: *k,
                sales: m(t.sales),
                refunds: m(t.refunds),
                net: m(t.sales - t.refunds),
            })
            .collect();
        let collected: i64 = self.tenders.values().map(|t| t.sales - t.refunds).sum();
        let ticket_sum = self.sales.total + self.sales.rounding;
        let average = if self.sales.orders == 0 {
            0
        } else {
            div_round_half_away(ticket_sum as i128, self.sales.orders as i128) as i64
        };
        SalesSummary {
            currency: self.currency,
            prices_include_tax: self.price_mode == PriceMode::TaxInclusive,
            order_count: self.sales.orders,
            gross: m(self.sales.gross),
            discounts: m(self.sales.discounts),
            refunds: m(self.refunds.amount),
            refund_count: self.refunds.refunds,
            net: m(self.sales.gross - self.sales.discounts - self.refunds.amount),
            tax,
            tax_total: m(tax_total),
            rounding: m(self.sales.rounding - self.refunds.rounding),
            total_collected: m(collected),
            tenders,
            average_ticket: m(average),
            void_count: self.void_count,
            voided: m(self.voided),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxRow {
    pub code: String,
    pub rate: String,
    pub rate_ppm: i64,
    pub base: Money,
    pub tax: Money,
    pub gross: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenderRow {
    pub tender: TenderKind,
    pub sales: Money,
    pub refunds: Money,
    pub net: Money,
}

/// Gross, discounts, refunds, net, tax by rate, tenders by type, order count, average ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SalesSummary {
    pub currency: Currency,
    pub prices_include_tax: bool,
    pub order_count: i64,
    pub gross: Money,
    pub discounts: Money,
    pub refunds: Money,
    pub refund_count: i64,
    /// gross − discounts − refunds.
    pub net: Money,
    pub tax: Vec<TaxRow>,
    pub tax_total: Money,
    pub rounding: Money,
    /// Σ tenders for sales − Σ tenders for refunds.
    pub total_collected: Money,
    pub tenders: Vec<TenderRow>,
    pub average_ticket: Money,
    pub void_count: i64,
    pub voided: Money,
}

impl SalesSummary {
    fn csv_rows(&self, out: &mut String, section: &str) {
        let c = self.currency;
        let mut row = |item: &str, value: String| {
            csv_line(out, &[section, item, &value]);
        };
        row("currency", c.to_string());
        row("prices_include_tax", self.prices_include_tax.to_string());
        row("order_count", self.order_count.to_string());
        row("gross", fmt(self.gross));
        row("discounts", fmt(self.discounts));
        row("refunds", fmt(self.refunds));
        row("refund_count", self.refund_count.to_string());
        row("net", fmt(self.net));
        for t in &self.tax {
            row(&format!("tax {} {} base", t.code, t.rate), fmt(t.base));
            row(&format!("tax {} {} tax", t.code, t.rate), fmt(t.tax));
        }
        row("tax_total", fmt(self.tax_total));
        row("rounding", fmt(self.rounding));
        for t in &self.tenders {
            row(&format!("tender {} sales", t.tender.as_str()), fmt(t.sales));
            row(&format!("tender {} refunds", t.tender.as_str()), fmt(t.refunds));
        }
        row("total_collected", fmt(self.total_collected));
        row("average_ticket", fmt(self.average_ticket));
        row("void_count", self.void_count.to_string());
        row("voided", fmt(self.voided));
    }
}

fn fmt(m: Money) -> String {
    format_minor(m.minor(), m.currency())
}

/// Writes one CSV record. Text that a spreadsheet would run as a formula is prefixed with `'`.
pub fn csv_line(out: &mut String, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let formula = f.starts_with(['=', '+', '@', '\t', '\r']) || (f.starts_with('-') && !looks_numeric(f));
        let f: std::borrow::Cow<str> = if formula { format!("'{f}").into() } else { (*f).into() };
        if f.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&f);
        }
    }
    out.push('\n');
}

/// The venue's daily summary for one business day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailySummary {
    pub report: &'static str,
    pub venue: String,
    pub business_day: Date,
    pub time_zone: String,
    /// First and last instant of the business day, venue-local.
    pub from: String,
    pub to: String,
    pub summary: SalesSummary,
}

impl DailySummary {
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        csv_line(&mut out, &["section", "item", "value"]);
        csv_line(&mut out, &["day", "venue", &self.venue]);
        csv_line(&mut out, &["day", "business_day", &self.business_day.to_string()]);
        csv_line(&mut out, &["day", "from", &self.from]);
        csv_line(&mut out, &["day", "to", &self.to]);
        self.summary.csv_rows(&mut out, "summary");
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShiftReportKind {
    /// Mid-shift reading; changes nothing.
    X,
    /// The closing report of a closed shift.
    Z,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MovementRow {
    pub kind: CashMovementKind,
    pub amount: Money,
    pub reason: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DenominationRow {
    pub denomination: Money,
    pub count: i64,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CashSummary {
    pub float: Money,
    pub cash_sales: Money,
    pub cash_refunds: Money,
    pub paid_in: Money,
    pub paid_out: Money,
    pub expected: Money,
    pub counted: Option<Money>,
    /// counted − expected: negative means cash is missing.
    pub variance: Option<Money>,
    pub count: Vec<DenominationRow>,
    pub movements: Vec<MovementRow>,
}

/// What the shift's store row says about its cash.
#[derive(Debug, Clone)]
pub struct ShiftCashFacts {
    pub float: i64,
    pub movements: Vec<(CashMovementKind, i64, String, String)>,
    pub count: Option<CashCount>,
}

pub fn cash_summary(currency: Currency, totals: &SalesTotals, facts: &ShiftCashFacts) -> CashSummary {
    let m = |v: i64| Money::new(v, currency);
    let paid_in: i64 = facts.movements.iter().filter(|mv| mv.0 == CashMovementKind::PaidIn).map(|mv| mv.1).sum();
    let paid_out: i64 = facts.movements.iter().filter(|mv| mv.0 == CashMovementKind::PaidOut).map(|mv| mv.1).sum();
    let sales = totals.tender_sales(TenderKind::Cash);
    let refunds = totals.tender_refunds(TenderKind::Cash);
    let expected = expected_cash(facts.float, sales, refunds, paid_in, paid_out);
    let counted = facts.count.as_ref().map(CashCount::total);
    CashSummary {
        float: m(facts.float),
        cash_sales: m(sales),
        cash_refunds: m(refunds),
        paid_in: m(paid_in),
        paid_out: m(paid_out),
        expected: m(expected),
        counted: counted.map(m),
        variance: counted.map(|c| m(c - expected)),
        count: facts
            .count
            .iter()
            .flat_map(|c| c.counts.iter())
            .map(|(d, n)| DenominationRow { denomination: m(*d), count: *n, amount: m(d * n) })
            .collect(),
        movements: facts
            .movements
            .iter()
            .map(|(k, a, reason, at)| MovementRow { kind: *k, amount: m(*a), reason: reason.clone(), at: at.clone() })
            .collect(),
    }
}

/// X (running) or Z (closing) report of one shift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShiftReport {
    pub report: ShiftReportKind,
    pub venue: String,
    pub shift_id: String,
    pub opened_at: String,
    pub opened_by: String,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    pub summary: SalesSummary,
    pub cash: CashSummary,
}

impl ShiftReport {
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let kind = match self.report {
            ShiftReportKind::X => "X",
            ShiftReportKind::Z => "Z",
        };
        csv_line(&mut out, &["section", "item", "value"]);
        csv_line(&mut out, &["shift", "report", kind]);
        csv_line(&mut out, &["shift", "venue", &self.venue]);
        csv_line(&mut out, &["shift", "shift_id", &self.shift_id]);
        csv_line(&mut out, &["shift", "opened_at", &self.opened_at]);
        csv_line(&mut out, &["shift", "opened_by", &self.opened_by]);
        csv_line(&mut out, &["shift", "closed_at", self.closed_at.as_deref().unwrap_or("")]);
        csv_line(&mut out, &["shift", "closed_by", self.closed_by.as_deref().unwrap_or("")]);
        self.summary.csv_rows(&mut out, "summary");
        let c = &self.cash;
        for (k, v) in [
            ("float", c.float),
            ("cash_sales", c.cash_sales),
            ("cash_refunds", c.cash_refunds),
            ("paid_in", c.paid_in),
            ("paid_out", c.paid_out),
            ("expected", c.expected),
        ] {
            csv_line(&mut out, &["cash", k, &fmt(v)]);
        }
        csv_line(&mut out, &["cash", "counted", &c.counted.map(fmt).unwrap_or_default()]);
        csv_line(&mut out, &["cash", "variance", &c.variance.map(fmt).unwrap_or_default()]);
        for d in &c.count {
            csv_line(&mut out, &["count", &fmt(d.denomination), &d.count.to_string()]);
        }
        for mv in &c.movements {
            csv_line(&mut out, &["movement", &format!("{} {}", mv.kind.as_str(), mv.reason), &fmt(mv.amount)]);
        }
        out
    }
}

/// Quantity and net by product and by category.
#[derive(Debug, Clone, Default)]
pub struct ItemMixTotals {
    products: BTreeMap<(String, i64), (String, i64, i64)>,
}

impl ItemMixTotals {
    /// Adds sold (positive) or refunded (negative) quantity and net amount of a product.
    pub fn add(&mut self, category: &str, product_id: i64, product: &str, qty_milli: i64, net: i64) {
        let e = self.products.entry((category.to_owned(), product_id)).or_insert_with(|| (product.to_owned(), 0, 0));
        e.1 += qty_milli;
        e.2 += net;
    }

    pub fn finish(&self, currency: Currency, venue: &str, from: Date, to: Date) -> ItemMix {
        let m = |v: i64| Money::new(v, currency);
        let mut products: Vec<ItemMixRow> = self
            .products
            .iter()
            .map(|((cat, _), (name, q, n))| ItemMixRow {
                category: cat.clone(),
                product: name.clone(),
                quantity: crate::money::Quantity::from_milli(*q),
                net: m(*n),
            })
            .collect();
        products.sort_by(|a, b| {
            a.category.cmp(&b.category).then(b.net.minor().cmp(&a.net.minor())).then(a.product.cmp(&b.product))
        });
        let mut categories: Vec<ItemMixCategory> = Vec::new();
        for p in &products {
            match categories.last_mut() {
                Some(c) if c.category == p.category => {
                    c.quantity = crate::money::Quantity::from_milli(c.quantity.milli() + p.quantity.milli());
                    c.net = m(c.net.minor() + p.net.minor());
                }
                _ => {
                    categories.push(ItemMixCategory { category: p.category.clone(), quantity: p.quantity, net: p.net })
                }
            }
        }
        ItemMix { report: "item_mix", venue: venue.to_owned(), currency, from, to, categories, products }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemMixRow {
    pub category: String,
    pub product: String,
    pub quantity: crate::money::Quantity,
    pub net: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemMixCategory {
    pub category: String,
    pub quantity: crate::money::Quantity,
    pub net: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemMix {
    pub report: &'static str,
    pub venue: String,
    pub currency: Currency,
    pub from: Date,
    pub to: Date,
    pub categories: Vec<ItemMixCategory>,
    pub products: Vec<ItemMixRow>,
}

impl ItemMix {
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        csv_line(&mut out, &["category", "product", "quantity", "net"]);
        for p in &self.products {
            csv_line(&mut out, &[&p.category, &p.product, &p.quantity.to_string(), &fmt(p.net)]);
        }
        for c in &self.categories {
            csv_line(&mut out, &[&c.category, "(all)", &c.quantity.to_string(), &fmt(c.net)]);
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReconciliationRow {
    pub tender: TenderKind,
    pub expected: Money,
    /// Counted cash for cash; `None` where nothing was counted (card totals come from the terminal).
    pub counted: Option<Money>,
    pub difference: Option<Money>,
}

/// Expected against counted, per tender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentReconciliation {
    pub report: &'static str,
    pub venue: String,
    pub currency: Currency,
    pub scope: String,
    pub shifts: usize,
    pub open_shifts: usize,
    pub rows: Vec<ReconciliationRow>,
}

/// `cash` is one summary per shift in scope; card expectations come from the sales totals.
pub fn reconcile(
    venue: &str,
    scope: &str,
    currency: Currency,
    totals: &SalesTotals,
    cash: &[CashSummary],
) -> PaymentReconciliation {
    let m = |v: i64| Money::new(v, currency);
    let expected_cash: i64 = cash.iter().map(|c| c.expected.minor()).sum();
    let all_counted = !cash.is_empty() && cash.iter().all(|c| c.counted.is_some());
    let counted_cash: Option<i64> = all_counted.then(|| cash.iter().filter_map(|c| c.counted).map(|c| c.minor()).sum());
    let mut rows = vec![ReconciliationRow {
        tender: TenderKind::Cash,
        expected: m(expected_cash),
        counted: counted_cash.map(m),
        difference: counted_cash.map(|c| m(c - expected_cash)),
    }];
    rows.push(ReconciliationRow {
        tender: TenderKind::Card,
        expected: m(totals.tender_net(TenderKind::Card)),
        counted: None,
        difference: None,
    });
    PaymentReconciliation {
        report: "payments",
        venue: venue.to_owned(),
        currency,
        scope: scope.to_owned(),
        shifts: cash.len(),
        open_shifts: cash.iter().filter(|c| c.counted.is_none()).count(),
        rows,
    }
}

impl PaymentReconciliation {
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        csv_line(&mut out, &["tender", "expected", "counted", "difference"]);
        for r in &self.rows {
            csv_line(
                &mut out,
                &[
                    r.tender.as_str(),
                    &fmt(r.expected),
                    &r.counted.map(fmt).unwrap_or_default(),
                    &r.difference.map(fmt).unwrap_or_default(),
                ],
            );
        }
        out
    }
}

/// Tax per business day and rate, sales net of refunds: the figures a tax return needs.
#[derive(Debug, Clone, Default)]
pub struct TaxExportTotals {
    rows: BTreeMap<(Date, String, i64), TaxSums>,
}

impl TaxExportTotals {
    pub fn add(&mut self, day: Date, flow: Flow, code: &str, rate_ppm: i64, base: i64, tax: i64) {
        let sign = if flow == Flow::Sale { 1 } else { -1 };
        let e = self.rows.entry((day, code.to_owned(), rate_ppm)).or_default();
        e.base += sign * base;
        e.tax += sign * tax;
    }

    pub fn finish(&self, currency: Currency, venue: &str, from: Date, to: Date) -> TaxExport {
        let m = |v: i64| Money::new(v, currency);
        TaxExport {
            report: "tax",
            venue: venue.to_owned(),
            currency,
            from,
            to,
            rows: self
                .rows
                .iter()
                .map(|((day, code, ppm), s)| TaxExportRow {
                    business_day: *day,
                    code: code.clone(),
                    rate: format_rate(*ppm),
                    rate_ppm: *ppm,
                    base: m(s.base),
                    tax: m(s.tax),
                    gross: m(s.base + s.tax),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxExportRow {
    pub business_day: Date,
    pub code: String,
    pub rate: String,
    pub rate_ppm: i64,
    pub base: Money,
    pub tax: Money,
    pub gross: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxExport {
    pub report: &'static str,
    pub venue: String,
    pub currency: Currency,
    pub from: Date,
    pub to: Date,
    pub rows: Vec<TaxExportRow>,
}

impl TaxExport {
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        csv_line(&mut out, &["business_day", "code", "rate", "base", "tax", "gross"]);
        for r in &self.rows {
            csv_line(
                &mut out,
                &[&r.business_day.to_string(), &r.code, &r.rate, &fmt(r.base), &fmt(r.tax), &fmt(r.gross)],
            );
        }
        let _ = write!(out, "");
        out
    }
}

fn looks_numeric(f: &str) -> bool {
    let t = f.strip_prefix('-').unwrap_or(f);
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut s = String::new();
        csv_line(&mut s, &["a,b", "say \"hi\"", "=SUM(A1)", "-12.50", "-x"]);
        assert_eq!(s, "\"a,b\",\"say \"\"hi\"\"\",'=SUM(A1),-12.50,'-x\n");
    }
}
