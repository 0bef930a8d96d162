//! X and Z shift reports and the daily summary.

use pos_core::report::{
    CashSummary, DailySummary, SalesSummary, ShiftReport, ShiftReportKind, amount_text as amount,
    deduction_text as minus, sum_money as sum, tender_label as tender_name,
};
use pos_core::shift::CashMovementKind;

use crate::canvas::{Align, BLACK, BODY, Canvas, Col, GREY, ROW, Row, RowStyle, Table, keep};
use crate::fonts::Weight;
use crate::{Paper, PdfError};

/// Width of the label/value blocks and of their value column.
const FIGURES_WIDTH: f32 = 330.0;
const VALUE_WIDTH: f32 = 120.0;
const AMOUNT_COL: f32 = 105.0;

fn prices_note(s: &SalesSummary) -> &'static str {
    if s.prices_include_tax { "include tax" } else { "exclude tax (tax added at checkout)" }
}

pub(crate) fn shift(r: &ShiftReport, paper: Paper) -> Result<Vec<u8>, PdfError> {
    let (title, subtitle, kind) = match r.report {
        ShiftReportKind::X => ("X REPORT", "Running reading: the shift is still open", "X report"),
        ShiftReportKind::Z => ("Z REPORT", "Closing report of the shift", "Z report"),
    };
    let label = format!("{} · {kind} · shift {}", r.venue, r.shift_id);
    let mut c = Canvas::new(paper, &label, &label)?;
    // A Z report is dated by the shift's close; an X report is a reading with no time of its own.
    if let Some(closed) = &r.closed_at {
        c.set_date(closed);
    }
    let facts = [
        ("Shift", r.shift_id.clone()),
        ("Currency", r.summary.currency.to_string()),
        ("Opened", r.opened_at.clone()),
        ("Opened by", r.opened_by.clone()),
        ("Closed", r.closed_at.clone().unwrap_or_else(|| "still open".to_owned())),
        ("Closed by", r.closed_by.clone().unwrap_or_else(|| "-".to_owned())),
        ("Prices", prices_note(&r.summary).to_owned()),
        ("Orders", r.summary.order_count.to_string()),
    ];
    header(&mut c, &r.venue, title, subtitle, &facts);
    sales(&mut c, &r.summary);
    cash(&mut c, &r.cash);
    if r.report == ShiftReportKind::Z {
        signatures(&mut c);
    }
    c.finish()
}

pub(crate) fn daily(d: &DailySummary, paper: Paper) -> Result<Vec<u8>, PdfError> {
    let label = format!("{} · daily summary · {}", d.venue, d.business_day);
    let mut c = Canvas::new(paper, &label, &label)?;
    c.set_date(&d.from);
    let facts = [
        ("Business day", d.business_day.to_string()),
        ("Currency", d.summary.currency.to_string()),
        ("From", d.from.clone()),
        ("Time zone", d.time_zone.clone()),
        ("To", d.to.clone()),
        ("Prices", prices_note(&d.summary).to_owned()),
    ];
    let subtitle = format!("Business day {}", d.business_day);
    header(&mut c, &d.venue, "DAILY SUMMARY", &subtitle, &facts);
    sales(&mut c, &d.summary);
    c.finish()
}

fn header(c: &mut Canvas, venue: &str, title: &str, subtitle: &str, facts: &[(&str, String)]) {
    let top = c.y;
    let title_w = 220.0;
    let (x, w) = (c.left(), c.content_width() - title_w - 16.0);
    let page = c.page_count();
    c.paragraph(x, w, Align::Left, Weight::Bold, 16.0, BLACK, venue);
    c.paragraph(x, w, Align::Left, Weight::Regular, BODY, GREY, subtitle);
    let left_bottom = c.y;
    if c.page_count() == page {
        let rx = c.right() - title_w;
        c.text_in(rx, top - 19.0, title_w, Align::Right, Weight::Bold, 20.0, BLACK, title);
        c.y = left_bottom.min(top - 26.0);
    }
    c.gap(6.0);
    c.rule(c.y, 1.0);
    c.gap(8.0);

    // Facts two by two: label, value, label, value.
    let t = Table {
        cols: vec![Col::text("", Some(78.0)), Col::text("", None), Col::text("", Some(78.0)), Col::text("", None)],
        x: c.left(),
        width: c.content_width(),
        header: false,
        zebra: false,
    };
    let rows: Vec<Row> = facts
        .chunks(2)
        .map(|pair| {
            let (l1, v1) = (&pair[0].0, pair[0].1.as_str());
            let (l2, v2) = pair.get(1).map_or(("", ""), |(l, v)| (*l, v.as_str()));
            Row::new([l1, v1, l2, v2])
        })
        .collect();
    c.table(&t, &rows);
}

fn sales(c: &mut Canvas, s: &SalesSummary) {
    let cur = s.currency;
    let mut rows = vec![
        Row::new(["Orders", &s.order_count.to_string()]),
        Row::new(["Gross sales", &amount(s.gross)]),
        Row::new(["Discounts", &minus(s.discounts)]),
        Row::new([&format!("Refunds ({})", s.refund_count), &minus(s.refunds)]),
        Row::total(["Net sales", &amount(s.net)]),
        Row::new(["Average ticket", &amount(s.average_ticket)]),
        Row::new([&format!("Voided orders ({}, not in sales)", s.void_count), &amount(s.voided)]),
    ];
    if !s.rounding.is_zero() {
        rows.push(Row::new(["Cash rounding", &amount(s.rounding)]));
    }
    rows.push(Row::total(["Total collected", &amount(s.total_collected)]));
    c.heading(&format!("Sales ({cur})"), keep(rows.len(), false));
    c.figures(c.left(), FIGURES_WIDTH, VALUE_WIDTH, &rows);

    let t = Table {
        cols: vec![
            Col::text("Code", Some(60.0)),
            Col::amount("Rate", 70.0),
            Col::amount("Base", AMOUNT_COL),
            Col::amount("Tax", AMOUNT_COL),
            Col::amount("Gross", AMOUNT_COL),
        ],
        x: c.left(),
        width: 60.0 + 70.0 + 3.0 * AMOUNT_COL,
        header: true,
        zebra: true,
    };
    let mut rows: Vec<Row> =
        s.tax.iter().map(|t| Row::new([&t.code, &t.rate, &amount(t.base), &amount(t.tax), &amount(t.gross)])).collect();
    if rows.is_empty() {
        rows.push(Row::new(["(none)", "", "", "", ""]));
    }
    let base = sum(s.tax.iter().map(|t| t.base), s.tax_total);
    let gross = sum(s.tax.iter().map(|t| t.gross), s.tax_total);
    rows.push(Row::total(["Total", "", &amount(base), &amount(s.tax_total), &amount(gross)]));
    c.heading(&format!("Tax by rate ({cur})"), keep(rows.len(), true) + ROW);
    c.table(&t, &rows);
    let x = c.left();
    let note = format!("Prices {}. Refunds are deducted from the rate they were sold at.", prices_note(s));
    c.paragraph(x, c.content_width(), Align::Left, Weight::Regular, 8.0, GREY, &note);

    let t = Table {
        cols: vec![
            Col::text("Tender", Some(130.0)),
            Col::amount("Sales", AMOUNT_COL),
            Col::amount("Refunds", AMOUNT_COL),
            Col::amount("Net", AMOUNT_COL),
        ],
        x: c.left(),
        width: 130.0 + 3.0 * AMOUNT_COL,
        header: true,
        zebra: true,
    };
    let mut rows: Vec<Row> = s
        .tenders
        .iter()
        .map(|t| Row::new([tender_name(t.tender), &amount(t.sales), &minus(t.refunds), &amount(t.net)]))
        .collect();
    if rows.is_empty() {
        rows.push(Row::new(["(none)", "", "", ""]));
    }
    let sales = sum(s.tenders.iter().map(|t| t.sales), s.total_collected);
    let refunds = sum(s.tenders.iter().map(|t| t.refunds), s.total_collected);
    rows.push(Row::total(["Total collected", &amount(sales), &minus(refunds), &amount(s.total_collected)]));
    c.heading(&format!("Tenders ({cur})"), keep(rows.len(), true));
    c.table(&t, &rows);
}

fn cash(c: &mut Canvas, k: &CashSummary) {
    let cur = k.float.currency();
    let mut rows = vec![
        Row::new(["Opening float", &amount(k.float)]),
        Row::new(["Cash sales", &amount(k.cash_sales)]),
        Row::new(["Cash refunds", &minus(k.cash_refunds)]),
        Row::new(["Paid in", &amount(k.paid_in)]),
        Row::new(["Paid out", &minus(k.paid_out)]),
        Row::total(["Expected in drawer", &amount(k.expected)]),
    ];
    match (k.counted, k.variance) {
        (Some(counted), Some(variance)) => {
            rows.push(Row::new(["Counted", &amount(counted)]));
            let (label, style) = match variance.minor() {
                0 => ("Variance", RowStyle::Total),
                v if v < 0 => ("Variance (cash short)", RowStyle::Alert),
                _ => ("Variance (cash over)", RowStyle::Alert),
            };
            rows.push(Row::new([label, &amount(variance)]).styled(style));
        }
        (Some(counted), None) => rows.push(Row::new(["Counted", &amount(counted)])),
        _ => rows.push(Row::new(["Counted", "not counted"])),
    }
    c.heading(&format!("Cash drawer ({cur})"), keep(rows.len(), false));
    c.figures(c.left(), FIGURES_WIDTH, VALUE_WIDTH, &rows);

    if k.count.is_empty() {
        c.heading(&format!("Cash count ({cur})"), ROW);
        let x = c.left();
        c.paragraph(x, c.content_width(), Align::Left, Weight::Regular, BODY, GREY, "No cash count recorded.");
    } else {
        let t = Table {
            cols: vec![Col::amount("Denomination", 110.0), Col::amount("Count", 80.0), Col::amount("Amount", 110.0)],
            x: c.left(),
            width: 300.0,
            header: true,
            zebra: true,
        };
        let mut rows: Vec<Row> = k
            .count
            .iter()
            .map(|d| Row::new([&amount(d.denomination), &d.count.to_string(), &amount(d.amount)]))
            .collect();
        let pieces = k.count.iter().fold(0i64, |acc, d| acc.saturating_add(d.count));
        let counted = k.counted.unwrap_or_else(|| sum(k.count.iter().map(|d| d.amount), k.float));
        rows.push(Row::total(["Counted", &pieces.to_string(), &amount(counted)]));
        c.heading(&format!("Cash count ({cur})"), keep(rows.len(), true));
        c.table(&t, &rows);
    }

    let title = format!("Cash movements ({})", k.movements.len());
    if k.movements.is_empty() {
        c.heading(&title, ROW);
        let x = c.left();
        c.paragraph(x, c.content_width(), Align::Left, Weight::Regular, BODY, GREY, "No cash was paid in or out.");
    } else {
        let t = Table {
            cols: vec![
                Col::text("Time", Some(150.0)),
                Col::text("Type", Some(62.0)),
                Col::text("Reason", None),
                Col::amount(&format!("Amount {cur}"), AMOUNT_COL),
            ],
            x: c.left(),
            width: c.content_width(),
            header: true,
            zebra: true,
        };
        let rows: Vec<Row> = k
            .movements
            .iter()
            .map(|m| {
                let (kind, value) = match m.kind {
                    CashMovementKind::PaidIn => ("Paid in", amount(m.amount)),
                    CashMovementKind::PaidOut => ("Paid out", minus(m.amount)),
                };
                Row::new([&m.at, kind, &m.reason, &value])
            })
            .collect();
        c.heading(&title, keep(rows.len(), true));
        c.table(&t, &rows);
    }
}

fn signatures(c: &mut Canvas) {
    c.need(70.0);
    c.gap(30.0);
    let w = (c.content_width() - 40.0) / 2.0;
    for (i, label) in ["Counted by (name, signature)", "Checked by (name, signature)"].iter().enumerate() {
        let x = c.left() + i as f32 * (w + 40.0);
        c.hline(x, x + w, c.y, 0.8, BLACK);
        c.text_in(x, c.y - 11.0, w, Align::Left, Weight::Regular, 8.0, GREY, label);
    }
    c.gap(20.0);
}
