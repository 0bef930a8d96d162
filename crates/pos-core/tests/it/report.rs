//! Report aggregators: totals that must reconcile, and CSV that parses back and defuses formulas.

use jiff::civil::Date;
use pos_core::money::format_minor;
use pos_core::refund::{RefundRequest, compute_refund};
use pos_core::report::{
    CashSummary, DailySummary, Flow, ItemMixTotals, RefundFigures, SaleFigures, SalesSummary, SalesTotals,
    ShiftCashFacts, ShiftReport, ShiftReportKind, TaxExportTotals, cash_summary, csv_line, reconcile,
};
use pos_core::shift::{CashCount, CashMovementKind};
use pos_core::tax::PriceMode;
use pos_core::tender::{TenderKind, settle};
use pos_core::{Currency, Money, Quantity};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::support::{CartSpec, TenderPlan, build, cart, eur, oracle, refundable, tender_plan, tenders_for};

// ---------------------------------------------------------------------------------------------
// A small CSV reader (RFC 4180, '\n' records) and the defusing rule, written for the tests.
// ---------------------------------------------------------------------------------------------

fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            '"' => panic!("stray quote in an unquoted field: {text:?}"),
            ',' => {
                record.push(std::mem::take(&mut field));
                at_start = true;
            }
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                at_start = true;
            }
            '\r' => panic!("bare carriage return outside quotes: {text:?}"),
            c => {
                field.push(c);
                at_start = false;
            }
        }
    }
    assert!(!quoted, "unterminated quote: {text:?}");
    assert!(field.is_empty() && record.is_empty(), "the last record has no newline: {text:?}");
    records
}

fn numeric(f: &str) -> bool {
    let t = f.strip_prefix('-').unwrap_or(f);
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// What a cell a spreadsheet would run as a formula starts with (OWASP's list).
fn dangerous(f: &str) -> bool {
    f.starts_with(['=', '+', '@', '\t', '\r']) || (f.starts_with('-') && !numeric(f))
}

fn defused(f: &str) -> String {
    if dangerous(f) { format!("'{f}") } else { f.to_owned() }
}

fn assert_safe(records: &[Vec<String>], columns: usize, text: &str) {
    for r in records {
        assert_eq!(r.len(), columns, "record {r:?} in {text:?}");
        for cell in r {
            assert!(!dangerous(cell), "cell {cell:?} would run as a formula: {text:?}");
        }
    }
}

#[test]
fn csv_fields_are_quoted_and_defused() {
    fn check(input: &str, expected: &str) {
        let mut s = String::new();
        csv_line(&mut s, &[input, "x"]);
        assert_eq!(s, format!("{expected},x\n"), "{input:?}");
        assert_eq!(parse_csv(&s), vec![vec![defused(input), "x".to_owned()]], "{input:?}");
    }
    for (input, expected) in [
        ("plain", "plain"),
        ("", ""),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("two\nlines", "\"two\nlines\""),
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""),
        ("+1+1", "'+1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-12.50", "-12.50"),
        ("-3", "-3"),
        ("-x", "'-x"),
        ("-1+1", "'-1+1"),
        ("-", "'-"),
        ("=1,2", "\"'=1,2\""),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "\"'\r=1+1\""),
        ("a=1", "a=1"),
        ("12.50", "12.50"),
        ("Crème brûlée", "Crème brûlée"),
    ] {
        check(input, expected);
    }
}

fn summary(mode: PriceMode) -> SalesSummary {
    let mut t = SalesTotals::new(Currency::EUR, mode);
    t.add_sales(SaleFigures { orders: 2, gross: 2500, discounts: 300, total: 2200, rounding: -2 });
    t.add_refunds(RefundFigures { refunds: 1, amount: 500, total: 500, rounding: 0 });
    t.add_tax(Flow::Sale, "A", 190_000, 1849, 351);
    t.add_tax(Flow::Refund, "A", 190_000, 420, 80);
    t.add_tender(Flow::Sale, TenderKind::Cash, 1198);
    t.add_tender(Flow::Sale, TenderKind::Card, 1000);
    t.add_tender(Flow::Refund, TenderKind::Card, 500);
    t.add_voids(1, 999);
    t.summary()
}

#[test]
fn summary_example() {
    let s = summary(PriceMode::TaxInclusive);
    let m = |v| Money::new(v, Currency::EUR);
    assert_eq!((s.order_count, s.gross, s.discounts, s.refunds, s.net), (2, m(2500), m(300), m(500), m(1700)));
    assert_eq!((s.tax_total, s.rounding, s.total_collected), (m(271), m(-2), m(1698)));
    assert_eq!(s.total_collected.minor(), s.net.minor() + s.rounding.minor());
    // (22.00 − 0.02) / 2 = 10.99.
    assert_eq!((s.average_ticket, s.void_count, s.voided), (m(1099), 1, m(999)));
    assert_eq!(s.tax.len(), 1);
    assert_eq!(
        (s.tax[0].rate.as_str(), s.tax[0].base, s.tax[0].tax, s.tax[0].gross),
        ("19%", m(1429), m(271), m(1700))
    );
    let tenders: Vec<_> =
        s.tenders.iter().map(|t| (t.tender, t.sales.minor(), t.refunds.minor(), t.net.minor())).collect();
    assert_eq!(tenders, vec![(TenderKind::Cash, 1198, 0, 1198), (TenderKind::Card, 1000, 500, 500)]);
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["gross"], "25.00");
    assert_eq!(json["rounding"], "-0.02");
    assert_eq!(json["tenders"][1]["tender"], "card");
    assert_eq!(json["prices_include_tax"], true);
    // No orders: no average, no division by zero.
    assert_eq!(SalesTotals::new(Currency::EUR, PriceMode::TaxExclusive).summary().average_ticket, m(0));
}

fn daily(venue: &str, s: SalesSummary) -> DailySummary {
    DailySummary {
        report: "daily",
        venue: venue.to_owned(),
        business_day: "2026-03-29".parse().unwrap(),
        time_zone: "Europe/Berlin".into(),
        from: "2026-03-29T05:00:00+02:00".into(),
        to: "2026-03-30T04:59:59+02:00".into(),
        summary: s,
    }
}

fn cash(float: i64, reason: &str, count: Option<CashCount>) -> (SalesTotals, CashSummary) {
    let mut t = SalesTotals::new(Currency::EUR, PriceMode::TaxInclusive);
    t.add_tender(Flow::Sale, TenderKind::Cash, 5000);
    t.add_tender(Flow::Refund, TenderKind::Cash, 700);
    t.add_tender(Flow::Sale, TenderKind::Card, 3000);
    let facts = ShiftCashFacts {
        float,
        movements: vec![
            (CashMovementKind::PaidIn, 1000, "change from bank".into(), "2026-03-29T09:00:00+02:00".into()),
            (CashMovementKind::PaidOut, 250, reason.into(), "2026-03-29T10:00:00+02:00".into()),
        ],
        count,
    };
    let c = cash_summary(Currency::EUR, &t, &facts);
    (t, c)
}

#[test]
fn cash_summary_and_reconciliation() {
    // float 100.00 + cash sales 50.00 − cash refunds 7.00 + paid in 10.00 − paid out 2.50 = 150.50.
    let count = CashCount::new(Currency::EUR, &[(5000, 2), (2000, 2), (1000, 1), (50, 1)]).unwrap();
    let (t, c) = cash(10_000, "milk", Some(count));
    assert_eq!((c.expected, c.counted, c.variance), (eur(15_050), Some(eur(15_050)), Some(eur(0))));
    let short = CashCount::new(Currency::EUR, &[(10_000, 1), (5000, 1)]).unwrap();
    let (_, c2) = cash(10_000, "milk", Some(short));
    assert_eq!(c2.variance, Some(eur(-50)));
    let (_, open) = cash(10_000, "milk", None);
    assert_eq!((open.counted, open.variance), (None, None));

    let r = reconcile("Café", "2026-03-29", Currency::EUR, &t, &[c.clone(), c2.clone()]);
    assert_eq!((r.shifts, r.open_shifts), (2, 0));
    assert_eq!(
        (r.rows[0].expected, r.rows[0].counted, r.rows[0].difference),
        (eur(30_100), Some(eur(30_050)), Some(eur(-50)))
    );
    assert_eq!((r.rows[1].tender, r.rows[1].expected), (TenderKind::Card, eur(3000)));
    let with_open = reconcile("Café", "x", Currency::EUR, &t, &[c, open]);
    assert_eq!((with_open.open_shifts, with_open.rows[0].counted), (1, None));
    let text = with_open.to_csv();
    let records = parse_csv(&text);
    assert_safe(&records, 4, &text);
    assert_eq!(records[0], ["tender", "expected", "counted", "difference"]);
    assert_eq!(records[1], ["cash", "301.00", "", ""]);
}

fn shift_report(venue: &str, staff: &str, reason: &str) -> ShiftReport {
    let count = CashCount::new(Currency::EUR, &[(5000, 2), (5, 3)]).unwrap();
    let (t, c) = cash(10_000, reason, Some(count));
    ShiftReport {
        report: ShiftReportKind::Z,
        venue: venue.to_owned(),
        shift_id: "018f-shift".into(),
        opened_at: "2026-03-29T08:00:00+02:00".into(),
        opened_by: staff.to_owned(),
        closed_at: Some("2026-03-29T18:00:00+02:00".into()),
        closed_by: None,
        summary: t.summary(),
        cash: c,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever names a venue, staff member or product has, every CSV parses back into the
    /// columns it promises and no cell can run as a formula.
    #[test]
    fn csv_parses_back_and_defuses_formulas(
        venue in "[ -~\t\r\néü]{0,16}",
        staff in "[=+@\t\r -~]{0,10}",
        reason in "[ -~\n]{1,12}",
        product in "[=+@\t\r\n -~]{0,12}",
        category in "[=+@\t\r\n -~]{0,12}",
        code in "[=+@ -~]{1,6}",
    ) {
        let d = daily(&venue, summary(PriceMode::TaxExclusive));
        let text = d.to_csv();
        let records = parse_csv(&text);
        assert_safe(&records, 3, &text);
        prop_assert_eq!(&records[1], &vec!["day".to_owned(), "venue".to_owned(), defused(&venue)]);
        // header, 4 day rows, 14 summary rows, 2 per tax rate (1) and per tender (2).
        prop_assert_eq!(records.len(), 1 + 4 + 14 + 2 + 4);

        let s = shift_report(&venue, &staff, &reason);
        let text = s.to_csv();
        let records = parse_csv(&text);
        assert_safe(&records, 3, &text);
        prop_assert!(records.contains(&vec!["shift".to_owned(), "opened_by".to_owned(), defused(&staff)]));
        let movement = format!("paid_out {reason}");
        prop_assert!(records.iter().any(|r| r[0] == "movement" && r[1] == movement && r[2] == "2.50"));

        let mut mix = ItemMixTotals::default();
        mix.add(&category, 1, &product, 1500, 1234);
        mix.add(&category, 2, "Tea", 1000, -250);
        let m = mix.finish(Currency::EUR, &venue, "2026-03-01".parse().unwrap(), "2026-03-31".parse().unwrap());
        let text = m.to_csv();
        let records = parse_csv(&text);
        assert_safe(&records, 4, &text);
        prop_assert_eq!(records.len(), 1 + 2 + 1);
        prop_assert!(records.contains(&vec![defused(&category), defused(&product), "1.500".to_owned(), "12.34".to_owned()]));
        prop_assert!(records.contains(&vec![defused(&category), "(all)".to_owned(), "2.500".to_owned(), "9.84".to_owned()]));

        let mut tax = TaxExportTotals::default();
        let day: Date = "2026-03-29".parse().unwrap();
        tax.add(day, Flow::Sale, &code, 190_000, 1000, 190);
        tax.add(day, Flow::Refund, &code, 190_000, 100, 19);
        let e = tax.finish(Currency::EUR, &venue, day, day);
        let text = e.to_csv();
        let records = parse_csv(&text);
        assert_safe(&records, 6, &text);
        prop_assert_eq!(&records[1], &vec![
            "2026-03-29".to_owned(), defused(&code), "19%".to_owned(), "9.00".to_owned(), "1.71".to_owned(), "10.71".to_owned()
        ]);
    }
}

// ---------------------------------------------------------------------------------------------
// Totals fed from random paid orders and refunds reconcile.
// ---------------------------------------------------------------------------------------------

/// A cart, how it is paid, and which of its lines come back.
type OrderCase = (CartSpec, TenderPlan, Vec<(Index, u32)>);

#[derive(Debug, Clone)]
struct Day {
    mode: PriceMode,
    inc: i64,
    orders: Vec<OrderCase>,
}

fn day() -> impl Strategy<Value = Day> {
    (
        crate::support::mode(),
        prop_oneof![Just(1i64), Just(5i64)],
        prop::collection::vec(
            (cart(), tender_plan(), prop::collection::vec((any::<Index>(), any::<u32>()), 0..=3)),
            1..=4,
        ),
    )
        .prop_map(|(mode, inc, orders)| Day { mode, inc, orders })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sales_totals_reconcile(day in day()) {
        let mut totals = SalesTotals::new(Currency::EUR, day.mode);
        let mut summed_sales = SaleFigures::default();
        let mut summed_refunds = RefundFigures::default();
        let mut mix = ItemMixTotals::default();
        let (mut gross, mut discounts, mut refunded, mut tax, mut rounding, mut tickets) = (0, 0, 0, 0, 0, 0);
        for (spec, plan, picks) in &day.orders {
            let mut spec = spec.clone();
            spec.mode = day.mode;
            let p = build(&spec, day.inc).price();
            let s = settle(eur(p.total), &tenders_for(p.total, plan, day.inc), day.inc).unwrap();
            let sale = SaleFigures { orders: 1, gross: p.subtotal, discounts: p.discount_total, total: p.total, rounding: s.rounding };
            totals.add_sales(sale);
            summed_sales = SaleFigures {
                orders: summed_sales.orders + 1,
                gross: summed_sales.gross + sale.gross,
                discounts: summed_sales.discounts + sale.discounts,
                total: summed_sales.total + sale.total,
                rounding: summed_sales.rounding + sale.rounding,
            };
            for t in &p.taxes {
                totals.add_tax(Flow::Sale, &t.code, t.rate_ppm, t.base, t.tax);
            }
            for pay in &s.payments {
                totals.add_tender(Flow::Sale, pay.kind, pay.amount);
            }
            for l in &p.lines {
                mix.add(&format!("category {}", l.item.category_id.0), l.item.product_id.0, &l.item.name, l.qty.milli(), l.amount);
            }
            gross += p.subtotal;
            discounts += p.discount_total;
            tax += p.tax_total;
            rounding += s.rounding;
            tickets += p.total + s.rounding;

            // Refund some lines in full, as a customer bringing items back would.
            let o = refundable(&p, &s);
            let mut asked: Vec<(u32, Quantity)> = Vec::new();
            for (idx, _) in picks {
                let l = &p.lines[idx.index(p.lines.len())];
                if !asked.iter().any(|a| a.0 == l.line_no) {
                    asked.push((l.line_no, l.qty));
                }
            }
            if asked.is_empty() {
                continue;
            }
            let r = compute_refund(&o, &RefundRequest::Lines(asked));
            prop_assert!(r.is_ok(), "refund refused: {:?}", r);
            let r = r.unwrap();
            let figures = RefundFigures { refunds: 1, amount: r.amount, total: r.total, rounding: r.rounding };
            totals.add_refunds(figures);
            summed_refunds = RefundFigures {
                refunds: summed_refunds.refunds + 1,
                amount: summed_refunds.amount + figures.amount,
                total: summed_refunds.total + figures.total,
                rounding: summed_refunds.rounding + figures.rounding,
            };
            for t in &r.taxes {
                totals.add_tax(Flow::Refund, &t.code, t.rate_ppm, t.base, t.tax);
            }
            for po in &r.payouts {
                totals.add_tender(Flow::Refund, po.kind, po.amount);
            }
            for rl in &r.lines {
                let l = p.lines.iter().find(|l| l.line_no == rl.line_no).unwrap();
                mix.add(&format!("category {}", l.item.category_id.0), l.item.product_id.0, &l.item.name, -rl.qty.milli(), -rl.amount);
            }
            refunded += r.amount;
            tax -= r.tax_total;
            rounding -= r.rounding;
        }

        let s = totals.summary();
        let net = gross - discounts - refunded;
        prop_assert_eq!(s.order_count, day.orders.len() as i64);
        prop_assert_eq!((s.gross.minor(), s.discounts.minor(), s.refunds.minor()), (gross, discounts, refunded));
        prop_assert_eq!(s.net.minor(), net);
        prop_assert_eq!(s.tax_total.minor(), tax);
        prop_assert_eq!(s.rounding.minor(), rounding);
        let expected_collected = match day.mode {
            PriceMode::TaxInclusive => net + rounding,
            PriceMode::TaxExclusive => net + tax + rounding,
        };
        prop_assert_eq!(s.total_collected.minor(), expected_collected, "collected = net (+ tax) + rounding");
        prop_assert_eq!(s.total_collected.minor(), s.net.minor() + s.rounding.minor()
            + if day.mode == PriceMode::TaxExclusive { s.tax_total.minor() } else { 0 });
        prop_assert_eq!(s.tenders.iter().map(|t| t.net.minor()).sum::<i64>(), s.total_collected.minor());
        prop_assert_eq!(s.tax.iter().map(|t| t.tax.minor()).sum::<i64>(), s.tax_total.minor());
        for row in &s.tax {
            prop_assert_eq!(row.gross.minor(), row.base.minor() + row.tax.minor());
        }
        prop_assert_eq!(s.average_ticket.minor(), oracle::round_div(tickets as i128, day.orders.len() as i128) as i64);

        // The same figures summed up front give the same summary.
        let mut summed = SalesTotals::new(Currency::EUR, day.mode);
        summed.add_sales(summed_sales);
        summed.add_refunds(summed_refunds);
        let s2 = summed.summary();
        prop_assert_eq!((s2.gross, s2.discounts, s2.refunds, s2.net, s2.average_ticket), (s.gross, s.discounts, s.refunds, s.net, s.average_ticket));

        // Item mix: products and categories both add up to the net.
        let m = mix.finish(Currency::EUR, "venue", "2026-01-01".parse().unwrap(), "2026-01-31".parse().unwrap());
        prop_assert_eq!(m.products.iter().map(|p| p.net.minor()).sum::<i64>(), net);
        prop_assert_eq!(m.categories.iter().map(|c| c.net.minor()).sum::<i64>(), net);
        for c in &m.categories {
            let in_cat = m.products.iter().filter(|p| p.category == c.category);
            let (q, n) = in_cat.fold((0, 0), |acc, p| (acc.0 + p.quantity.milli(), acc.1 + p.net.minor()));
            prop_assert_eq!((c.quantity.milli(), c.net.minor()), (q, n));
        }
        let text = m.to_csv();
        let records = parse_csv(&text);
        assert_safe(&records, 4, &text);
        prop_assert_eq!(records.len(), 1 + m.products.len() + m.categories.len());
        for (p, r) in m.products.iter().zip(&records[1..]) {
            prop_assert_eq!(&r[3], &format_minor(p.net.minor(), Currency::EUR));
        }
    }
}

#[test]
fn item_mix_orders_products_by_net_within_category() {
    let mut mix = ItemMixTotals::default();
    mix.add("Drinks", 1, "Tea", 2000, 500);
    mix.add("Drinks", 2, "Latte", 1000, 450);
    mix.add("Drinks", 2, "Latte", 1000, 450);
    mix.add("Bakery", 3, "Croissant", 3000, 600);
    mix.add("Drinks", 1, "Tea", -1000, -250);
    let m = mix.finish(Currency::EUR, "Café", "2026-03-01".parse().unwrap(), "2026-03-31".parse().unwrap());
    let rows: Vec<_> = m
        .products
        .iter()
        .map(|p| (p.category.as_str(), p.product.as_str(), p.quantity.to_string(), p.net.minor()))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("Bakery", "Croissant", "3".to_owned(), 600),
            ("Drinks", "Latte", "2".to_owned(), 900),
            ("Drinks", "Tea", "1".to_owned(), 250),
        ]
    );
    let cats: Vec<_> = m.categories.iter().map(|c| (c.category.as_str(), c.quantity.milli(), c.net.minor())).collect();
    assert_eq!(cats, vec![("Bakery", 3000, 600), ("Drinks", 3000, 1150)]);
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["products"][0]["net"], "6.00");
    assert_eq!(json["products"][0]["quantity"], 3000);
}
