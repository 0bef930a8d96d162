//! Receipts, tickets and shift reports laid out for a paper width: a list of [`Block`]s, each line
//! already fitted to the printer's code page and column count, so the encoder and the text
//! renderer only copy it out.

use pos_core::report::{
    CashSummary, SalesSummary, ShiftReport, ShiftReportKind, amount_text as amount, deduction_text as minus,
    sum_money as sum, tender_label as tender_name,
};
use pos_core::shift::CashMovementKind;
use serde::{Deserialize, Serialize};

use crate::codepage::CodePage;
use crate::doc::{ReceiptDoc, ReceiptKind, TicketDoc};

/// How a printer prints: its column count (32 on 58 mm paper, 42 or 48 on 80 mm) and code page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub columns: usize,
    pub code_page: CodePage,
}

impl Profile {
    pub const COLUMNS: [usize; 3] = [32, 42, 48];

    pub fn new(columns: usize, code_page: CodePage) -> Result<Profile, String> {
        if Profile::COLUMNS.contains(&columns) {
            Ok(Profile { columns, code_page })
        } else {
            Err(format!("a receipt printer prints 32, 42 or 48 columns, not {columns}"))
        }
    }
}

impl Default for Profile {
    fn default() -> Self {
        Profile { columns: 42, code_page: CodePage::Pc858 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    Left,
    Center,
    Right,
}

/// Which drawer connector pin the pulse drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DrawerPin {
    Pin2,
    Pin5,
}

impl DrawerPin {
    pub fn from_number(n: u8) -> Option<DrawerPin> {
        match n {
            2 => Some(DrawerPin::Pin2),
            5 => Some(DrawerPin::Pin5),
            _ => None,
        }
    }
    pub fn number(self) -> u8 {
        match self {
            DrawerPin::Pin2 => 2,
            DrawerPin::Pin5 => 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// One printed line. `text` fits the width (half the columns when `large`).
    Line {
        text: String,
        align: Align,
        bold: bool,
        large: bool,
    },
    Feed(u8),
    Qr(String),
    Pulse(DrawerPin),
    Cut,
}

/// Builds lines for one profile.
struct Sheet {
    profile: Profile,
    blocks: Vec<Block>,
}

impl Sheet {
    fn new(profile: Profile) -> Sheet {
        Sheet { profile, blocks: Vec::with_capacity(64) }
    }

    fn fit(&self, text: &str) -> String {
        self.profile.code_page.fit(text)
    }

    fn push(&mut self, text: String, align: Align, bold: bool, large: bool) {
        self.blocks.push(Block::Line { text, align, bold, large });
    }

    /// Centred text, wrapped over as many lines as it needs.
    fn centered(&mut self, text: &str, bold: bool, large: bool) {
        let width = if large { self.profile.columns / 2 } else { self.profile.columns };
        for line in wrap(&self.fit(text), width) {
            self.push(line, Align::Center, bold, large);
        }
    }

    fn left(&mut self, text: &str) {
        for line in wrap(&self.fit(text), self.profile.columns) {
            self.push(line, Align::Left, false, false);
        }
    }

    /// Text under a line item, indented by `indent` spaces on every wrapped line.
    fn indented(&mut self, indent: usize, text: &str) {
        for line in wrap(&self.fit(text), self.profile.columns - indent) {
            self.push(format!("{}{line}", " ".repeat(indent)), Align::Left, false, false);
        }
    }

    /// `left` and `right` on one line; `left` is cut to make room.
    fn pair(&mut self, left: &str, right: &str, bold: bool) {
        let line = two_columns(&self.fit(left), &self.fit(right), self.profile.columns);
        self.push(line, Align::Left, bold, false);
    }

    /// A label and its value, the value flush right. A label too long for the line wraps under
    /// it, indented; a value too long to share a line goes under the label, flush right.
    fn figure(&mut self, label: &str, value: &str, bold: bool) {
        let cols = self.profile.columns;
        let (label, value) = (self.fit(label), self.fit(value));
        if width_of(&label) + 1 + width_of(&value) <= cols {
            self.push(two_columns(&label, &value, cols), Align::Left, bold, false);
        } else if width_of(&value) <= cols / 2 {
            let mut parts = wrap(&label, cols - width_of(&value) - 1).into_iter();
            let first = parts.next().unwrap_or_default();
            self.push(two_columns(&first, &value, cols), Align::Left, bold, false);
            let rest: Vec<String> = parts.collect();
            if !rest.is_empty() {
                for line in wrap(&rest.join(" "), cols - 2) {
                    self.push(format!("  {line}"), Align::Left, bold, false);
                }
            }
        } else {
            for line in wrap(&label, cols) {
                self.push(line, Align::Left, bold, false);
            }
            for piece in break_long(&value, cols) {
                self.push(format!("{piece:>cols$}"), Align::Left, bold, false);
            }
        }
    }

    /// A section title.
    fn heading(&mut self, text: &str) {
        for line in wrap(&self.fit(text), self.profile.columns) {
            self.push(line, Align::Left, true, false);
        }
    }

    /// A table: the first column text, the others figures flush right, each column as wide as
    /// its widest cell and one space apart. Too wide for the paper, each row becomes its label
    /// followed by one indented line per figure.
    fn table(&mut self, head: &[&str], rows: &[TableRow]) {
        let cols = self.profile.columns;
        let head: Vec<String> = head.iter().map(|h| self.fit(h)).collect();
        let rows: Vec<(Vec<String>, bool)> =
            rows.iter().map(|r| (r.cells.iter().map(|c| self.fit(c)).collect(), r.bold)).collect();
        let column = |i: usize| {
            rows.iter().map(|(cells, _)| cells.get(i).map_or(0, |c| width_of(c))).fold(width_of(&head[i]), usize::max)
        };
        let figures: Vec<usize> = (1..head.len()).map(column).collect();
        let label_room = cols.saturating_sub(figures.iter().map(|w| w + 1).sum());
        if column(0) <= label_room {
            let line = |cells: &[String]| {
                let mut out = format!("{:<label_room$}", cells[0]);
                for (cell, w) in cells[1..].iter().zip(&figures) {
                    out.push_str(&format!(" {cell:>w$}"));
                }
                out.trim_end().to_owned()
            };
            self.push(line(&head), Align::Left, false, false);
            for (cells, bold) in &rows {
                self.push(line(cells), Align::Left, *bold, false);
            }
        } else {
            for (cells, bold) in &rows {
                for l in wrap(&cells[0], cols) {
                    self.push(l, Align::Left, *bold, false);
                }
                for (h, cell) in head[1..].iter().zip(&cells[1..]) {
                    if !cell.is_empty() {
                        self.push(two_columns(&format!("  {h}"), cell, cols), Align::Left, *bold, false);
                    }
                }
            }
        }
    }

    fn rule(&mut self) {
        self.push("-".repeat(self.profile.columns), Align::Left, false, false);
    }

    fn blank(&mut self) {
        self.push(String::new(), Align::Left, false, false);
    }
}

fn width_of(s: &str) -> usize {
    s.chars().count()
}

fn truncate(s: &str, width: usize) -> String {
    s.chars().take(width).collect()
}

/// `left` then `right` flush right, at least one space apart; `left` is truncated to fit.
fn two_columns(left: &str, right: &str, width: usize) -> String {
    let right = truncate(right, width);
    let room = width.saturating_sub(width_of(&right) + 1);
    let left = truncate(left, room);
    let gap = width - width_of(&left) - width_of(&right);
    format!("{left}{}{right}", " ".repeat(gap))
}

/// Cuts `text` into pieces of at most `width` characters, after a space or a hyphen where there
/// is one (a shift id is a UUID, longer than a 58 mm line).
fn break_long(text: &str, width: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest: Vec<char> = text.chars().collect();
    while rest.len() > width {
        let cut = rest[..width].iter().rposition(|c| *c == ' ' || *c == '-').map_or(width, |i| i + 1);
        pieces.push(rest.drain(..cut).collect::<String>().trim_end().to_owned());
        while rest.first() == Some(&' ') {
            rest.remove(0);
        }
    }
    pieces.push(rest.into_iter().collect());
    pieces
}

/// Word-wraps `text` into lines of at most `width` characters; words longer than a line are cut.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word = word.to_owned();
        while width_of(&word) > width {
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
        if current.is_empty() {
            current = word;
        } else if width_of(&current) + 1 + width_of(&word) <= width {
            current.push(' ');
            current.push_str(&word);
        } else {
            lines.push(std::mem::replace(&mut current, word));
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// A customer receipt: header, lines, totals, tenders, tax breakdown, QR code, footer, cut.
pub fn receipt(doc: &ReceiptDoc, profile: Profile) -> Vec<Block> {
    let mut s = Sheet::new(profile);
    s.centered(&doc.venue.name, true, true);
    for line in &doc.venue.lines {
        s.centered(line, false, false);
    }
    s.blank();
    if let Some(n) = doc.copy {
        s.centered(&format!("*** COPY {n} ***"), true, true);
    }
    match doc.kind {
        ReceiptKind::Sale => {}
        ReceiptKind::Refund => s.centered("*** REFUND ***", true, true),
        ReceiptKind::Void => s.centered("*** VOID ***", true, true),
    }
    s.pair(&format!("Receipt {}", doc.receipt_no), &doc.issued_at, false);
    if let Some(original) = doc.original_receipt_no {
        s.left(&format!("For receipt {original}"));
    }
    if let Some(reason) = &doc.void_reason {
        s.left(&format!("Reason: {reason}"));
    }
    s.left(&format!("Cashier: {}", doc.cashier));
    s.rule();
    let indent = 4;
    for line in &doc.lines {
        let amount = format!("{} {}", line.amount, line.tax_code);
        let name = s.fit(&format!("{} x {}", line.quantity, line.name));
        // The first line carries the amount; the rest of a long name wraps under it, indented.
        let room = profile.columns.saturating_sub(width_of(&amount) + 1);
        let mut parts = wrap(&name, room).into_iter();
        let first = parts.next().unwrap_or_default();
        s.push(two_columns(&first, &s.fit(&amount), profile.columns), Align::Left, false, false);
        let rest: Vec<String> = parts.collect();
        if !rest.is_empty() {
            s.indented(indent, &rest.join(" "));
        }
        if line.quantity != "1" {
            s.indented(indent, &format!("@ {}", line.unit_price));
        }
        if let Some(d) = &line.discount {
            s.indented(indent, &format!("Discount {d}"));
        }
    }
    s.rule();
    s.pair("Subtotal", &doc.subtotal, false);
    if let Some(d) = &doc.discount_total {
        s.pair("Discounts", d, false);
    }
    let total_width = profile.columns / 2;
    let total = two_columns(&s.fit(&format!("TOTAL {}", doc.currency)), &s.fit(&doc.total), total_width);
    s.push(total, Align::Left, true, true);
    if let Some(r) = &doc.rounding {
        s.pair("Cash rounding", r, false);
    }
    for tender in &doc.tenders {
        s.pair(&tender.label, &tender.amount, false);
        if let Some(detail) = &tender.detail {
            s.indented(2, detail);
        }
    }
    if let Some(change) = &doc.change_due {
        s.pair("Change", change, true);
    }
    s.rule();
    if doc.taxes.is_empty() {
        s.pair("Tax included", &doc.tax_total, false);
    } else {
        tax_table(&mut s, doc);
    }
    s.rule();
    s.blocks.push(Block::Qr(s.fit(&doc.qr_payload)));
    s.centered(&format!("Audit {}", doc.audit_hash), false, false);
    s.blank();
    for line in &doc.footer {
        s.centered(line, false, false);
    }
    s.blocks.push(Block::Feed(3));
    s.blocks.push(Block::Cut);
    s.blocks
}

fn tax_table(s: &mut Sheet, doc: &ReceiptDoc) {
    // Code, rate, net, tax: the amounts right-aligned in equal columns.
    let cols = s.profile.columns;
    let amount_width = (cols - 10) / 3;
    let row = |code: &str, rate: &str, net: &str, tax: &str, gross: &str| {
        format!("{code:<3}{rate:>6} {net:>w$}{tax:>w$}{gross:>w$}", w = amount_width)
    };
    s.push(s.fit(&row("Tax", "Rate", "Net", "Tax", "Gross")), Align::Left, false, false);
    for t in &doc.taxes {
        let gross = add_decimal(&t.base, &t.tax).unwrap_or_default();
        let line = s.fit(&row(&t.code, &t.rate, &t.base, &t.tax, &gross));
        s.push(truncate(&line, cols), Align::Left, false, false);
    }
}

/// Adds two decimal strings with the same number of fraction digits ("10.08" + "1.92").
fn add_decimal(a: &str, b: &str) -> Option<String> {
    let parse = |s: &str| -> Option<(i64, usize)> {
        let (neg, digits) = s.strip_prefix('-').map_or((false, s), |d| (true, d));
        let scale = digits.split_once('.').map_or(0, |(_, f)| f.len());
        let v: i64 = digits.replace('.', "").parse().ok()?;
        Some((if neg { -v } else { v }, scale))
    };
    let (x, sx) = parse(a)?;
    let (y, sy) = parse(b)?;
    if sx != sy {
        return None;
    }
    let sum = x + y;
    let p = 10i64.pow(sx as u32);
    let sign = if sum < 0 { "-" } else { "" };
    Some(if sx == 0 { format!("{sum}") } else { format!("{sign}{}.{:0w$}", sum.abs() / p, sum.abs() % p, w = sx) })
}

/// A kitchen or bar ticket: large quantities and names, no prices.
pub fn ticket(doc: &TicketDoc, profile: Profile) -> Vec<Block> {
    let mut s = Sheet::new(profile);
    s.centered(&doc.station, true, true);
    s.pair(&format!("Receipt {}", doc.receipt_no), &doc.issued_at, false);
    s.left(&format!("Cashier: {}", doc.cashier));
    s.rule();
    for item in &doc.items {
        let text = s.fit(&format!("{} x {}", item.quantity, item.name));
        for line in wrap(&text, profile.columns / 2) {
            s.push(line, Align::Left, true, true);
        }
    }
    s.rule();
    s.blocks.push(Block::Feed(3));
    s.blocks.push(Block::Cut);
    s.blocks
}

/// A test page: the printer's name, its profile, a ruler of its width and the accents it prints.
pub fn test_page(printer: &str, profile: Profile) -> Vec<Block> {
    let mut s = Sheet::new(profile);
    s.centered("TEST PAGE", true, true);
    s.centered(printer, false, false);
    s.left(&format!("{} columns, code page {}", profile.columns, profile.code_page.name()));
    let ruler: String = (1..=profile.columns).map(|i| char::from(b'0' + (i % 10) as u8)).collect();
    s.push(ruler, Align::Left, false, false);
    s.left("Crème brûlée, Weißbier, 5 €");
    s.left("Çay, ığüşöç İĞŞ");
    s.left("Пирожок с капустой");
    s.blocks.push(Block::Qr("pos:test".into()));
    s.blocks.push(Block::Feed(3));
    s.blocks.push(Block::Cut);
    s.blocks
}

/// One row of a [`Sheet::table`].
struct TableRow {
    cells: Vec<String>,
    bold: bool,
}

impl TableRow {
    fn new<const N: usize>(cells: [&str; N]) -> TableRow {
        TableRow { cells: cells.iter().map(|c| (*c).to_owned()).collect(), bold: false }
    }

    fn total<const N: usize>(cells: [&str; N]) -> TableRow {
        TableRow { bold: true, ..TableRow::new(cells) }
    }
}

/// "2026-11-21T16:04:47+01:00" → "2026-11-21 16:04", as receipts show times; anything else as is.
fn short_time(at: &str) -> String {
    match (at.get(..10), at.get(10..11), at.get(11..16)) {
        (Some(day), Some("T"), Some(time)) => format!("{day} {time}"),
        _ => at.to_owned(),
    }
}

/// An X (running) or Z (closing) shift report: the shift and who opened and closed it, the sales
/// figures, tax by rate, tenders by type, and the cash drawer with its count and movements, the
/// same figures as `pos-pdf`'s report, amounts flush right. A Z report ends with lines to sign.
pub fn shift_report(report: &ShiftReport, profile: Profile) -> Vec<Block> {
    let mut s = Sheet::new(profile);
    let (title, subtitle) = match report.report {
        ShiftReportKind::X => ("X REPORT", "Running reading: the shift is still open"),
        ShiftReportKind::Z => ("Z REPORT", "Closing report of the shift"),
    };
    s.centered(title, true, true);
    s.centered(&report.venue, true, false);
    s.centered(subtitle, false, false);
    s.rule();
    s.figure("Shift", &report.shift_id, false);
    s.figure("Opened", &short_time(&report.opened_at), false);
    s.figure("Opened by", &report.opened_by, false);
    match &report.closed_at {
        Some(at) => s.figure("Closed", &short_time(at), false),
        None => s.figure("Closed", "still open", false),
    }
    if let Some(by) = &report.closed_by {
        s.figure("Closed by", by, false);
    }
    let prices = if report.summary.prices_include_tax { "include tax" } else { "exclude tax" };
    s.figure("Prices", prices, false);
    sales_section(&mut s, &report.summary);
    cash_section(&mut s, &report.cash);
    if report.report == ShiftReportKind::Z {
        for label in ["Counted by (name, signature)", "Checked by (name, signature)"] {
            s.blank();
            s.blank();
            s.push("_".repeat(profile.columns), Align::Left, false, false);
            s.left(label);
        }
    }
    s.blocks.push(Block::Feed(3));
    s.blocks.push(Block::Cut);
    s.blocks
}

fn sales_section(s: &mut Sheet, summary: &SalesSummary) {
    let cur = summary.currency;
    s.rule();
    s.heading(&format!("SALES ({cur})"));
    s.figure("Orders", &summary.order_count.to_string(), false);
    s.figure("Gross sales", &amount(summary.gross), false);
    s.figure("Discounts", &minus(summary.discounts), false);
    s.figure(&format!("Refunds ({})", summary.refund_count), &minus(summary.refunds), false);
    s.figure("Net sales", &amount(summary.net), true);
    s.figure("Average ticket", &amount(summary.average_ticket), false);
    s.figure(&format!("Voids ({}, not in sales)", summary.void_count), &amount(summary.voided), false);
    if !summary.rounding.is_zero() {
        s.figure("Cash rounding", &amount(summary.rounding), false);
    }
    s.figure("Total collected", &amount(summary.total_collected), true);

    s.rule();
    s.heading(&format!("TAX BY RATE ({cur})"));
    if summary.tax.is_empty() {
        s.left("No tax recorded.");
    } else {
        let mut rows: Vec<TableRow> = summary
            .tax
            .iter()
            .map(|t| TableRow::new([&t.code, &t.rate, &amount(t.base), &amount(t.tax), &amount(t.gross)]))
            .collect();
        let base = sum(summary.tax.iter().map(|t| t.base), summary.tax_total);
        let gross = sum(summary.tax.iter().map(|t| t.gross), summary.tax_total);
        rows.push(TableRow::total(["Total", "", &amount(base), &amount(summary.tax_total), &amount(gross)]));
        s.table(&["Code", "Rate", "Base", "Tax", "Gross"], &rows);
    }
    if summary.refund_count > 0 {
        s.left("Refunds are deducted from the rate they were sold at.");
    }

    s.rule();
    s.heading(&format!("TENDERS ({cur})"));
    if summary.tenders.is_empty() {
        s.left("No payments taken.");
    } else {
        let mut rows: Vec<TableRow> = summary
            .tenders
            .iter()
            .map(|t| TableRow::new([tender_name(t.tender), &amount(t.sales), &minus(t.refunds), &amount(t.net)]))
            .collect();
        let sales = sum(summary.tenders.iter().map(|t| t.sales), summary.total_collected);
        let refunds = sum(summary.tenders.iter().map(|t| t.refunds), summary.total_collected);
        rows.push(TableRow::total(["Total", &amount(sales), &minus(refunds), &amount(summary.total_collected)]));
        s.table(&["Tender", "Sales", "Refunds", "Net"], &rows);
    }
}

fn cash_section(s: &mut Sheet, k: &CashSummary) {
    let cur = k.float.currency();
    s.rule();
    s.heading(&format!("CASH DRAWER ({cur})"));
    s.figure("Opening float", &amount(k.float), false);
    s.figure("Cash sales", &amount(k.cash_sales), false);
    s.figure("Cash refunds", &minus(k.cash_refunds), false);
    s.figure("Paid in", &amount(k.paid_in), false);
    s.figure("Paid out", &minus(k.paid_out), false);
    s.figure("Expected in drawer", &amount(k.expected), true);
    match k.counted {
        Some(counted) => s.figure("Counted", &amount(counted), false),
        None => s.figure("Counted", "not counted", false),
    }
    if let Some(variance) = k.variance {
        let label = match variance.minor() {
            0 => "Variance",
            v if v < 0 => "Variance (cash short)",
            _ => "Variance (cash over)",
        };
        s.figure(label, &amount(variance), true);
    }

    if !k.count.is_empty() {
        s.rule();
        s.heading(&format!("CASH COUNT ({cur})"));
        for d in &k.count {
            s.figure(&format!("{} x {}", d.count, amount(d.denomination)), &amount(d.amount), false);
        }
        let pieces = k.count.iter().fold(0i64, |acc, d| acc.saturating_add(d.count));
        let counted = k.counted.unwrap_or_else(|| sum(k.count.iter().map(|d| d.amount), k.float));
        s.figure(&format!("Counted ({pieces} pieces)"), &amount(counted), true);
    }

    s.rule();
    s.heading(&format!("CASH MOVEMENTS ({})", k.movements.len()));
    if k.movements.is_empty() {
        s.left("No cash was paid in or out.");
    }
    for m in &k.movements {
        let (kind, value) = match m.kind {
            CashMovementKind::PaidIn => ("Paid in", amount(m.amount)),
            CashMovementKind::PaidOut => ("Paid out", minus(m.amount)),
        };
        s.figure(&format!("{kind}: {}", m.reason), &value, false);
        s.indented(2, &short_time(&m.at));
    }
}

/// The blocks as plain text, the way the paper would show them (QR codes and cuts as markers).
pub fn render_text(blocks: &[Block], profile: Profile) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Line { text, align, large, .. } => {
                let shown = if *large { text.chars().flat_map(|c| [c, ' ']).collect::<String>() } else { text.clone() };
                let shown = shown.trim_end();
                let pad = profile.columns.saturating_sub(width_of(shown));
                let lead = match align {
                    Align::Left => 0,
                    Align::Center => pad / 2,
                    Align::Right => pad,
                };
                out.push_str(&" ".repeat(lead));
                out.push_str(shown);
                out.push('\n');
            }
            Block::Feed(_) => {}
            Block::Qr(payload) => out.push_str(&format!("[QR {payload}]\n")),
            Block::Pulse(pin) => out.push_str(&format!("[DRAWER pin {}]\n", pin.number())),
            Block::Cut => out.push_str(&format!("{}\n", "✂".repeat(profile.columns / 2))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{sample_receipt, sample_shift_report};

    #[test]
    fn every_line_fits_every_width() {
        let doc = sample_receipt();
        let mut x_report = sample_shift_report();
        x_report.report = ShiftReportKind::X;
        x_report.closed_at = None;
        x_report.closed_by = None;
        x_report.shift_id = "a shift id far too long to fit on any line of any paper this register prints on".into();
        for columns in Profile::COLUMNS {
            for page in CodePage::ALL {
                let p = Profile::new(columns, page).unwrap();
                let blocks =
                    [receipt(&doc, p), shift_report(&sample_shift_report(), p), shift_report(&x_report, p)].concat();
                for b in blocks {
                    if let Block::Line { text, large, .. } = b {
                        let max = if large { columns / 2 } else { columns };
                        assert!(width_of(&text) <= max, "{columns} {page:?}: {text:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn an_x_report_says_so_and_has_no_lines_to_sign() {
        let mut r = sample_shift_report();
        r.report = ShiftReportKind::X;
        r.closed_at = None;
        r.closed_by = None;
        r.cash.counted = None;
        r.cash.variance = None;
        r.cash.count.clear();
        let p = Profile::new(32, CodePage::Pc858).unwrap();
        let text = render_text(&shift_report(&r, p), p);
        assert!(text.contains("X   R E P O R T"), "{text}");
        assert!(text.contains("Closed                still open"), "{text}");
        assert!(text.contains("Counted              not counted"), "{text}");
        assert!(!text.contains("Closed by") && !text.contains("signature") && !text.contains("CASH COUNT"), "{text}");
    }

    #[test]
    fn tables_too_wide_for_the_paper_stack_their_figures() {
        let mut s = Sheet::new(Profile::new(32, CodePage::Pc858).unwrap());
        s.table(
            &["Tender", "Sales", "Refunds", "Net"],
            &[TableRow::new(["Card", "1234567.89", "-12345.67", "1222222.22"])],
        );
        let p = s.profile;
        assert_eq!(
            render_text(&s.blocks, p),
            "Card\n  Sales               1234567.89\n  Refunds              -12345.67\n  Net                 1222222.22\n"
        );
        assert_eq!(
            break_long("0193a5c2-7d1e-7f04-9b3a-5c8e2d41f6a7", 32),
            ["0193a5c2-7d1e-7f04-9b3a-", "5c8e2d41f6a7"]
        );
        assert_eq!(short_time("2026-11-21T16:04:47+01:00"), "2026-11-21 16:04");
    }

    #[test]
    fn wrap_and_columns() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(two_columns("Subtotal", "26.30", 16), "Subtotal   26.30");
        assert_eq!(two_columns("A very long name", "9.00", 12), "A very  9.00");
        assert_eq!(add_decimal("10.08", "1.92").as_deref(), Some("12.00"));
        assert_eq!(add_decimal("-1.05", "0.05").as_deref(), Some("-1.00"));
    }
}
