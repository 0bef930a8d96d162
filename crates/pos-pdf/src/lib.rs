// Floats are used only for page geometry (positions, widths and font sizes in points), never for
// money: amounts arrive as formatted strings or integer minor units and are only ever printed.
#![allow(clippy::float_arithmetic)]

//! PDF documents for the register, drawn with `printpdf`: an A4 or Letter copy of a receipt (sale,
//! refund or void, marked "COPY n" when it is a reprint), the X and Z shift reports and the
//! venue's daily summary.
//!
//! Text is set in DejaVu Sans (shipped in `fonts/`, embedded as a per-document subset with a
//! Unicode map), so accented, Turkish, Greek and Cyrillic names print as written and can be
//! searched and copied out of the PDF. Amounts are right-aligned in their columns; names too long
//! for their column are cut with "…", never drawn over the next column; tables that reach the
//! bottom of a page continue on the next one under their column titles, and every page carries
//! the document's name and "Page i of n".
//!
//! The crate does not read the clock. A Z report's PDF is dated by the shift's close and a daily
//! summary's by the start of its business day (converted to UTC); receipts (whose time is
//! venue-local, without an offset) and X reports keep printpdf's fixed default date.

mod canvas;
mod fonts;
mod receipt;
mod report;

/// Paper size of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    /// ISO A4, 210 × 297 mm (595.28 × 841.89 pt).
    A4,
    /// US Letter, 8.5 × 11 in (612 × 792 pt).
    Letter,
}

impl Paper {
    /// Width and height in PDF points (1/72 in).
    fn size_pt(self) -> (f32, f32) {
        match self {
            Paper::A4 => (595.2756, 841.8898),
            Paper::Letter => (612.0, 792.0),
        }
    }
}

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// One of the fonts compiled into this crate could not be read or subset.
    #[error("the embedded font {font} cannot be used: {reason}")]
    Font { font: &'static str, reason: String },
    /// The receipt's verification data is too long for a QR code.
    #[error("the receipt's verification data ({len} bytes) does not fit in a QR code: {reason}")]
    QrCode { len: usize, reason: String },
    /// printpdf reported an error while writing the file.
    #[error("the PDF could not be written: {0}")]
    Write(String),
}

/// An A4/Letter invoice or receipt copy of one receipt (sale, refund or void); a reprint
/// (`doc.copy = Some(n)`) is marked "COPY n".
///
/// The document shows the venue's header lines, what kind of receipt it is (a sale, a REFUND of
/// receipt N, or a VOID with its reason), the receipt number, date and time, cashier and currency,
/// a table of lines (quantity, name, unit price, discount, amount, tax code), the subtotal,
/// discounts, total and cash rounding, the tax breakdown by rate (base and tax), the tenders with
/// their card details and the change due, the audit hash with a QR code of `doc.qr_payload`, and
/// the venue's footer lines.
pub fn receipt_pdf(doc: &pos_print::doc::ReceiptDoc, paper: Paper) -> Result<Vec<u8>, PdfError> {
    receipt::render(doc, paper)
}

/// X (running) or Z (closing) shift report.
///
/// Shows the venue, shift id, when and by whom the shift was opened and closed, the sales figures
/// (orders, gross, discounts, refunds, net, average ticket, voids, rounding, total collected), tax
/// by rate, tenders by type, and the cash drawer: float, cash sales and refunds, paid in and out,
/// expected, counted and variance, the denomination count and every cash movement. A Z report
/// ends with signature lines.
pub fn shift_report_pdf(report: &pos_core::report::ShiftReport, paper: Paper) -> Result<Vec<u8>, PdfError> {
    report::shift(report, paper)
}

/// The venue's daily summary: business day, its time window, and the same sales, tax and tender
/// figures as a shift report, for the whole day.
pub fn daily_summary_pdf(summary: &pos_core::report::DailySummary, paper: Paper) -> Result<Vec<u8>, PdfError> {
    report::daily(summary, paper)
}
