//! Plain-text rendering of shift and daily reports for a terminal, laid out like a till slip.

use std::fmt::Write as _;

use pos_app::pos_core::Money;
use pos_app::pos_core::money::format_minor;
use pos_app::pos_core::report::{CashSummary, DailySummary, SalesSummary, ShiftReport, ShiftReportKind};

const WIDTH: usize = 42;

fn amount(m: Money) -> String {
    format_minor(m.minor(), m.currency())
}

fn row(out: &mut String, label: &str, value: &str) {
    let pad = WIDTH.saturating_sub(label.chars().count() + value.chars().count()).max(1);
    let _ = writeln!(out, "{label}{}{value}", " ".repeat(pad));
}

fn rule(out: &mut String) {
    let _ = writeln!(out, "{}", "-".repeat(WIDTH));
}

fn centre(out: &mut String, text: &str) {
    let pad = WIDTH.saturating_sub(text.chars().count()) / 2;
    let _ = writeln!(out, "{}{text}", " ".repeat(pad));
}

fn summary(out: &mut String, s: &SalesSummary) {
    row(out, "Orders", &s.order_count.to_string());
    row(out, "Gross sales", &amount(s.gross));
    row(out, "Discounts", &format!("-{}", amount(s.discounts)));
    row(out, &format!("Refunds ({})", s.refund_count), &format!("-{}", amount(s.refunds)));
    row(out, "Net sales", &amount(s.net));
    row(out, "Average ticket", &amount(s.average_ticket));
    row(out, &format!("Voids ({})", s.void_count), &amount(s.voided));
    rule(out);
    let _ = writeln!(out, "Tax{}", if s.prices_include_tax { " (included in prices)" } else { "" });
    for t in &s.tax {
        row(out, &format!("  {} {:>7}  on {}", t.code, t.rate, amount(t.base)), &amount(t.tax));
    }
    row(out, "  Total tax", &amount(s.tax_total));
    rule(out);
    let _ = writeln!(out, "Tenders");
    for t in &s.tenders {
        row(out, &format!("  {}", t.tender.as_str()), &amount(t.net));
    }
    if !s.rounding.is_zero() {
        row(out, "  Cash rounding", &amount(s.rounding));
    }
    row(out, "  Total collected", &amount(s.total_collected));
}

fn cash(out: &mut String, c: &CashSummary) {
    let _ = writeln!(out, "Cash drawer");
    row(out, "  Opening float", &amount(c.float));
    row(out, "  Cash sales", &amount(c.cash_sales));
    row(out, "  Cash refunds", &format!("-{}", amount(c.cash_refunds)));
    row(out, "  Paid in", &amount(c.paid_in));
    row(out, "  Paid out", &format!("-{}", amount(c.paid_out)));
    row(out, "  Expected in drawer", &amount(c.expected));
    if let (Some(counted), Some(variance)) = (c.counted, c.variance) {
        row(out, "  Counted", &amount(counted));
        row(out, "  Variance", &amount(variance));
    }
}

pub fn shift_report(r: &ShiftReport) -> String {
    let mut out = String::new();
    centre(&mut out, &r.venue);
    centre(
        &mut out,
        match r.report {
            ShiftReportKind::X => "X REPORT (shift still open)",
            ShiftReportKind::Z => "Z REPORT",
        },
    );
    rule(&mut out);
    row(&mut out, "Opened", &r.opened_at);
    row(&mut out, "  by", &r.opened_by);
    if let Some(closed) = &r.closed_at {
        row(&mut out, "Closed", closed);
        row(&mut out, "  by", r.closed_by.as_deref().unwrap_or(""));
    }
    rule(&mut out);
    summary(&mut out, &r.summary);
    rule(&mut out);
    cash(&mut out, &r.cash);
    rule(&mut out);
    let _ = writeln!(out, "Shift {}", r.shift_id);
    out
}

pub fn daily(r: &DailySummary) -> String {
    let mut out = String::new();
    centre(&mut out, &r.venue);
    centre(&mut out, &format!("DAILY SUMMARY {}", r.business_day));
    rule(&mut out);
    row(&mut out, "From", &r.from);
    row(&mut out, "To", &r.to);
    rule(&mut out);
    summary(&mut out, &r.summary);
    out
}
