//! The PDFs read back with poppler: text (pdftotext), page count and size (pdfinfo), fonts
//! (pdffonts) and pixels (pdftoppm). Page 1 of each document is also written as a PNG to
//! /tmp/pdf-look/ for a person to look at.
//!
//! Every test skips, saying so, when poppler-utils is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use pos_core::money::format_minor;
use pos_core::report::{
    DailySummary, Flow, RefundFigures, SaleFigures, SalesTotals, ShiftCashFacts, ShiftReport, ShiftReportKind,
    cash_summary,
};
use pos_core::shift::{CashCount, CashMovementKind};
use pos_core::tax::PriceMode;
use pos_core::tender::TenderKind;
use pos_core::{Currency, Money};
use pos_pdf::{Paper, daily_summary_pdf, receipt_pdf, shift_report_pdf};
use pos_print::doc::{DocLine, ReceiptDoc, ReceiptKind, sample_receipt};

// ---------------------------------------------------------------------------------------------
// poppler helpers
// ---------------------------------------------------------------------------------------------

fn have_poppler() -> bool {
    let ok = Command::new("pdftotext").arg("-v").output().is_ok();
    if !ok {
        eprintln!("SKIPPED: pdftotext (poppler-utils) is not installed; the PDFs were not checked");
    }
    ok
}

fn out_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("pos-pdf-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn save(name: &str, bytes: &[u8]) -> PathBuf {
    assert!(bytes.starts_with(b"%PDF-"), "{name}: not a PDF");
    let path = out_dir().join(format!("{name}.pdf"));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn run(cmd: &str, args: &[&str], path: &Path) -> String {
    let out = Command::new(cmd).args(args).arg(path).args(["-"]).output().unwrap();
    assert!(out.status.success(), "{cmd} {path:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("Syntax Error") && !stderr.contains("Error"), "{cmd} {path:?} complained: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

fn text(path: &Path) -> String {
    run("pdftotext", &["-layout"], path)
}

fn info(path: &Path) -> String {
    let out = Command::new("pdfinfo").env("TZ", "UTC").args(["-f", "1", "-l", "9999"]).arg(path).output().unwrap();
    assert!(out.status.success(), "pdfinfo {path:?}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "pdfinfo {path:?} complained: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn pages(path: &Path) -> usize {
    info(path)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("pdfinfo prints the page count")
}

/// Page 1 as a PNG at 60 dpi, for looking at.
fn look(path: &Path, name: &str) {
    let dir = Path::new("/tmp/pdf-look");
    std::fs::create_dir_all(dir).unwrap();
    let status = Command::new("pdftoppm")
        .args(["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"])
        .arg(path)
        .arg(dir.join(name))
        .status()
        .unwrap();
    assert!(status.success(), "pdftoppm {path:?}");
}

fn assert_contains(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "missing {n:?} in:\n{text}");
    }
}

/// The right edge (in points) of each occurrence of `word` on page 1, from `pdftotext -bbox`.
fn right_edges(path: &Path, word: &str) -> Vec<f32> {
    let html = run("pdftotext", &["-bbox", "-f", "1", "-l", "1"], path);
    let needle = format!(">{word}</word>");
    html.lines()
        .filter(|l| l.contains(&needle))
        .map(|l| {
            let start = l.find("xMax=\"").unwrap() + 6;
            let end = start + l[start..].find('"').unwrap();
            l[start..end].parse().unwrap()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// fixtures
// ---------------------------------------------------------------------------------------------

const EUR: Currency = Currency::EUR;

fn eur(minor: i64) -> String {
    format_minor(minor, EUR)
}

fn totals() -> SalesTotals {
    let mut t = SalesTotals::new(EUR, PriceMode::TaxInclusive);
    t.add_sales(SaleFigures { orders: 87, gross: 248_760, discounts: 3_120, total: 245_640, rounding: -7 });
    t.add_refunds(RefundFigures { refunds: 3, amount: 4_450, total: 4_450, rounding: 0 });
    t.add_voids(2, 1_890);
    t.add_tax(Flow::Sale, "A", 190_000, 101_513, 19_287);
    t.add_tax(Flow::Sale, "B", 70_000, 116_393, 8_147);
    t.add_tax(Flow::Refund, "B", 70_000, 4_159, 291);
    t.add_tender(Flow::Sale, TenderKind::Cash, 98_633);
    t.add_tender(Flow::Sale, TenderKind::Card, 147_000);
    t.add_tender(Flow::Refund, TenderKind::Cash, 4_450);
    t
}

fn z_report(movements: usize) -> ShiftReport {
    let t = totals();
    let mut moves = vec![
        (
            CashMovementKind::PaidIn,
            5_000,
            "Wechselgeld von der Bank".to_owned(),
            "2026-11-21T09:12:00+01:00".to_owned(),
        ),
        (
            CashMovementKind::PaidOut,
            1_250,
            "Milch & Eier (Lieferant Öztürk)".to_owned(),
            "2026-11-21T11:40:00+01:00".into(),
        ),
    ];
    for i in 0..movements {
        let kind = if i % 3 == 0 { CashMovementKind::PaidIn } else { CashMovementKind::PaidOut };
        moves.push((kind, 100 + i as i64, format!("movement {i:03}"), format!("2026-11-21T12:{:02}:00+01:00", i % 60)));
    }
    let count =
        CashCount::new(EUR, &[(5000, 4), (2000, 6), (1000, 5), (500, 3), (200, 11), (100, 9), (50, 7)]).unwrap();
    let facts = ShiftCashFacts { float: 15_000, movements: moves, count: Some(count) };
    ShiftReport {
        report: ShiftReportKind::Z,
        venue: "Café Brandt".into(),
        shift_id: "018f3a2b-shift-7".into(),
        opened_at: "2026-11-21T08:00:00+01:00".into(),
        opened_by: "Jonas Weber".into(),
        closed_at: Some("2026-11-21T18:30:00+01:00".into()),
        closed_by: Some("Ayşe Yılmaz".into()),
        summary: t.summary(),
        cash: cash_summary(EUR, &t, &facts),
    }
}

fn daily() -> DailySummary {
    DailySummary {
        report: "daily",
        venue: "Café Brandt".into(),
        business_day: "2026-11-21".parse().unwrap(),
        time_zone: "Europe/Berlin".into(),
        from: "2026-11-21T05:00:00+01:00".into(),
        to: "2026-11-22T04:59:59+01:00".into(),
        summary: totals().summary(),
    }
}

fn long_receipt(n: usize) -> ReceiptDoc {
    let mut doc = sample_receipt();
    doc.lines = (1..=n)
        .map(|i| DocLine {
            quantity: "1".into(),
            name: format!("Item {i:03} Пирожок"),
            unit_price: "1.00".into(),
            amount: "1.00".into(),
            discount: None,
            tax_code: "B".into(),
        })
        .collect();
    doc
}

// ---------------------------------------------------------------------------------------------
// receipts
// ---------------------------------------------------------------------------------------------

#[test]
fn sample_receipt_shows_everything_an_auditor_needs() {
    if !have_poppler() {
        return;
    }
    let doc = sample_receipt();
    let path = save("receipt-a4", &receipt_pdf(&doc, Paper::A4).unwrap());
    look(&path, "receipt-a4");
    let t = text(&path);
    assert_contains(
        &t,
        &[
            "Café Brandt",
            "Große Straße 12, 10115 Berlin",
            "USt-IdNr. DE123456789",
            "RECEIPT",
            "1042",
            "2026-11-21 14:05",
            "Jonas Weber",
            "Crème brûlée",
            "Çay (Türk çayı) – ığüşöç",
            "Пирожок с капустой",
            "Tasse „Weißbier“ €-Edition",
            "-0.31 (10%)",
            "26.30",
            "25.99",
            "+0.01",
            "19%",
            "10.08",
            "1.92",
            "7%",
            "13.07",
            "0.92",
            "2.84",
            "VISA ****4242 auth 123456",
            "10.00",
            "20.00",
            "Change due",
            "4.00",
            "3fa2c9d1e0b7",
            "Danke für Ihren Besuch!",
            "Page 1 of 1",
        ],
    );
    assert!(!t.contains("COPY"), "an original is not marked as a copy");
    assert!(!t.contains('?'), "a character fell back to '?':\n{t}");
    assert_eq!(pages(&path), 1);
}

#[test]
fn amounts_are_right_aligned() {
    if !have_poppler() {
        return;
    }
    let path = save("receipt-align", &receipt_pdf(&sample_receipt(), Paper::A4).unwrap());
    // The line amounts 9.00, 2.20, 2.79 and 12.00 end at the same x.
    // (9.00 only occurs as a line amount; the others also occur as unit prices.)
    let column = right_edges(&path, "9.00");
    assert_eq!(column.len(), 1, "{column:?}");
    for word in ["2.20", "2.79", "12.00"] {
        let edges = right_edges(&path, word);
        assert!(edges.iter().any(|e| (e - column[0]).abs() < 0.5), "{word} ends at {edges:?}, 9.00 at {column:?}");
    }
    // Unit prices line up with each other too: 4.50, 3.10.
    let (a, b) = (right_edges(&path, "4.50"), right_edges(&path, "3.10"));
    assert!((a[0] - b[0]).abs() < 0.5, "{a:?} {b:?}");
}

#[test]
fn fonts_are_embedded_subsets_with_unicode_maps() {
    if !have_poppler() {
        return;
    }
    let bytes = receipt_pdf(&sample_receipt(), Paper::A4).unwrap();
    let path = save("receipt-fonts", &bytes);
    let out = Command::new("pdffonts").arg(&path).output().unwrap();
    let fonts = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 2, "regular and bold:\n{fonts}");
    for row in rows {
        // name, type, encoding, emb, sub, uni
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert!(cols[0].contains("+DejaVuSans"), "{fonts}");
        assert!(row.contains("CID TrueType") && row.contains("Identity-H"), "{fonts}");
        let flags = &cols[cols.len() - 5..cols.len() - 2];
        assert_eq!(flags, ["yes", "yes", "yes"], "embedded, subset, unicode map:\n{fonts}");
    }
    // A subset, not two 700 KB font files.
    assert!(bytes.len() < 120_000, "{} bytes", bytes.len());
}

#[test]
fn reprint_is_marked_copy() {
    if !have_poppler() {
        return;
    }
    let mut doc = sample_receipt();
    doc.copy = Some(2);
    let path = save("receipt-copy", &receipt_pdf(&doc, Paper::A4).unwrap());
    look(&path, "receipt-copy");
    let t = text(&path);
    assert_contains(&t, &["COPY 2", "Crème brûlée", "25.99"]);
}

#[test]
fn refund_and_void_are_marked() {
    if !have_poppler() {
        return;
    }
    let mut refund = sample_receipt();
    refund.kind = ReceiptKind::Refund;
    refund.receipt_no = 1043;
    refund.original_receipt_no = Some(1042);
    let path = save("receipt-refund", &receipt_pdf(&refund, Paper::A4).unwrap());
    look(&path, "receipt-refund");
    let t = text(&path);
    assert_contains(&t, &["REFUND", "Refund of receipt", "1042", "1043"]);

    let mut void = sample_receipt();
    void.kind = ReceiptKind::Void;
    void.receipt_no = 1044;
    void.original_receipt_no = Some(1042);
    void.void_reason = Some("Gast hat storniert – falscher Tisch".into());
    let path = save("receipt-void", &receipt_pdf(&void, Paper::Letter).unwrap());
    look(&path, "receipt-void");
    let t = text(&path);
    assert_contains(&t, &["VOID", "Voided receipt", "1044", "Gast hat storniert – falscher Tisch"]);
    assert!(!t.contains("REFUND"));
}

#[test]
fn greek_names_print_and_missing_glyphs_show_as_question_marks() {
    if !have_poppler() {
        return;
    }
    let mut doc = sample_receipt();
    doc.cashier = "Γιώργος Παπαδόπουλος".into();
    doc.lines[0].name = "Σουβλάκι με πίτα".into();
    // DejaVu Sans has no CJK or emoji: those become '?', and the rest of the name still prints.
    doc.lines[1].name = "Sushi 寿司 🍣 Set".into();
    let path = save("receipt-greek", &receipt_pdf(&doc, Paper::A4).unwrap());
    let t = text(&path);
    assert_contains(&t, &["Γιώργος Παπαδόπουλος", "Σουβλάκι με πίτα", "Sushi ?? ? Set"]);
}

#[test]
fn reports_are_dated_by_their_own_time_in_utc() {
    if !have_poppler() {
        return;
    }
    let created = |path: &Path| info(path).lines().find(|l| l.starts_with("CreationDate:")).unwrap().to_owned();
    // Closed at 18:30 +01:00 is 17:30 UTC.
    let path = save("z-date", &shift_report_pdf(&z_report(0), Paper::A4).unwrap());
    let z = created(&path);
    assert!(z.contains("Nov 21 17:30:00 2026 UTC"), "{z}");
    // The business day starts at 05:00 +01:00.
    let path = save("daily-date", &daily_summary_pdf(&daily(), Paper::A4).unwrap());
    let d = created(&path);
    assert!(d.contains("Nov 21 04:00:00 2026 UTC"), "{d}");
}

#[test]
fn verification_data_too_long_for_a_qr_code_is_an_error() {
    let mut doc = sample_receipt();
    doc.qr_payload = "x".repeat(8000);
    let err = receipt_pdf(&doc, Paper::A4).unwrap_err();
    assert!(matches!(err, pos_pdf::PdfError::QrCode { len: 8000, .. }), "{err:?}");
    assert!(err.to_string().contains("does not fit in a QR code"), "{err}");
}

#[test]
fn a_long_receipt_continues_on_more_pages() {
    if !have_poppler() {
        return;
    }
    let path = save("receipt-300", &receipt_pdf(&long_receipt(300), Paper::A4).unwrap());
    let n = pages(&path);
    assert!(n > 1, "300 lines on {n} page(s)");
    let t = text(&path);
    for i in 1..=300 {
        let name = format!("Item {i:03} Пирожок");
        assert_eq!(t.matches(&name).count(), 1, "{name} must appear exactly once");
    }
    // Every page that carries lines carries the column titles too.
    let with_lines: Vec<&str> = t.split('\x0c').filter(|p| p.contains(" Пирожок")).collect();
    assert!(with_lines.len() > 1);
    for page in &with_lines {
        assert!(page.contains("Unit price"), "a page of lines without column titles:\n{page}");
    }
    assert!(t.contains(&format!("Page {n} of {n}")));
    assert!(t.contains("(continued)"));
    let last_line = t.find("Item 300").unwrap();
    assert!(t.find("Audit hash").unwrap() > last_line, "verification after the lines");
}

#[test]
fn long_names_are_cut_to_their_column() {
    if !have_poppler() {
        return;
    }
    let mut doc = sample_receipt();
    let long = "Sehr lange Produktbezeichnung mit Überlänge ".repeat(6);
    doc.lines[0].name = long.clone();
    doc.lines[0].amount = "123456.78".into();
    let path = save("receipt-long-name", &receipt_pdf(&doc, Paper::A4).unwrap());
    look(&path, "receipt-long-name");
    let t = text(&path);
    assert!(t.contains('…'), "cut names end with an ellipsis");
    assert!(!t.contains(long.trim()), "the whole name cannot fit the column");
    // The amount beside it is intact, and the cut name ends before the unit price column starts.
    assert!(t.contains("123456.78"));
    let line = t.lines().find(|l| l.contains("Sehr lange")).unwrap();
    assert!(line.contains("4.50"), "name and unit price on one line, apart: {line}");
    let html = run("pdftotext", &["-bbox", "-f", "1", "-l", "1"], &path);
    let x_of = |pred: &dyn Fn(&str) -> bool, attr: &str| -> f32 {
        let l = html.lines().find(|l| pred(l)).unwrap();
        let start = l.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
        let end = start + l[start..].find('"').unwrap();
        l[start..end].parse().unwrap()
    };
    let name_end = x_of(&|l: &str| l.contains('…'), "xMax");
    let price_start = x_of(&|l: &str| l.contains(">4.50<"), "xMin");
    assert!(name_end < price_start, "name ends at {name_end}, unit price starts at {price_start}");
}

/// The QR code on the page, read back pixel by pixel, is the code of `doc.qr_payload`.
#[test]
fn qr_code_matches_the_payload() {
    if !have_poppler() {
        return;
    }
    let doc = sample_receipt();
    let path = save("receipt-qr", &receipt_pdf(&doc, Paper::A4).unwrap());
    let prefix = out_dir().join("receipt-qr-page");
    let status = Command::new("pdftoppm")
        .args(["-gray", "-r", "216", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&path)
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(status.success());
    let pgm = std::fs::read(prefix.with_extension("pgm")).unwrap();
    let (w, h, pixels) = parse_pgm(&pgm);
    let dark = |x: usize, y: usize| pixels[y * w + x] < 128;

    let code = qrcode::QrCode::new(doc.qr_payload.as_bytes()).unwrap();
    let n = code.width();
    let expected: Vec<bool> = code.to_colors().iter().map(|c| *c == qrcode::Color::Dark).collect();

    // The QR code's top left corner is the top left of its finder pattern: a dark run of 7
    // modules both across and down, with light pixels above and to the left. Nothing else on the
    // page (text, thin rules, tables) has that shape.
    let run_right = |x: usize, y: usize| (x..w).take_while(|&x| dark(x, y)).count();
    let run_down = |x: usize, y: usize| (y..h).take_while(|&y| dark(x, y)).count();
    let (ox, oy, finder) = (1..h)
        .flat_map(|y| (1..w).map(move |x| (x, y)))
        .find_map(|(x, y)| {
            if !dark(x, y) || dark(x - 1, y) || dark(x, y - 1) {
                return None;
            }
            let (across, down) = (run_right(x, y), run_down(x, y));
            (across >= 35 && across.abs_diff(down) <= 2).then_some((x, y, across))
        })
        .expect("no QR finder pattern on the page");
    // The module size from the whole code's width: the top right finder ends the top row.
    let rough = finder as f32 / 7.0;
    let row = oy + 1;
    let lo = ox + ((n as f32 - 1.5) * rough) as usize;
    let hi = ox + ((n as f32 + 0.5) * rough) as usize;
    let right = (lo..hi).filter(|&x| dark(x, row)).max().expect("the QR code's right edge");
    let module = (right + 1 - ox) as f32 / n as f32;
    let (ox, oy) = (ox as f32, oy as f32);
    let mut wrong = 0;
    for r in 0..n {
        for c in 0..n {
            let x = (ox + (c as f32 + 0.5) * module) as usize;
            let y = (oy + (r as f32 + 0.5) * module) as usize;
            if dark(x, y) != expected[r * n + c] {
                wrong += 1;
            }
        }
    }
    assert_eq!(wrong, 0, "{wrong} of {} modules differ (module {module} px)", n * n);
}

fn parse_pgm(bytes: &[u8]) -> (usize, usize, &[u8]) {
    // "P5\n<w> <h>\n<max>\n<data>"
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(std::str::from_utf8(&bytes[start..i]).unwrap().to_owned());
    }
    assert_eq!(fields[0], "P5");
    let (w, h) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, &bytes[i + 1..])
}

// ---------------------------------------------------------------------------------------------
// reports
// ---------------------------------------------------------------------------------------------

#[test]
fn z_report_shows_sales_tax_tenders_and_cash() {
    if !have_poppler() {
        return;
    }
    let r = z_report(0);
    let path = save("z-report", &shift_report_pdf(&r, Paper::A4).unwrap());
    look(&path, "z-report");
    let t = text(&path);
    let s = &r.summary;
    let c = &r.cash;
    let m = |v: Money| format_minor(v.minor(), v.currency());
    let mut needles: Vec<String> = vec![
        "Z REPORT".into(),
        "Café Brandt".into(),
        "018f3a2b-shift-7".into(),
        "2026-11-21T08:00:00+01:00".into(),
        "2026-11-21T18:30:00+01:00".into(),
        "Jonas Weber".into(),
        "Ayşe Yılmaz".into(),
        "87".into(),
        m(s.gross),
        format!("-{}", m(s.discounts)),
        format!("-{}", m(s.refunds)),
        m(s.net),
        m(s.average_ticket),
        m(s.voided),
        m(s.rounding),
        m(s.tax_total),
        m(s.total_collected),
        m(c.float),
        m(c.cash_sales),
        format!("-{}", m(c.cash_refunds)),
        m(c.paid_in),
        format!("-{}", m(c.paid_out)),
        m(c.expected),
        m(c.counted.unwrap()),
        m(c.variance.unwrap()),
        "Wechselgeld von der Bank".into(),
        "Milch & Eier (Lieferant Öztürk)".into(),
        "Counted by".into(),
    ];
    for row in &s.tax {
        needles.extend([row.code.clone(), row.rate.clone(), m(row.base), m(row.tax), m(row.gross)]);
    }
    for row in &s.tenders {
        needles.extend([m(row.sales), m(row.net)]);
    }
    for d in &c.count {
        needles.extend([m(d.denomination), m(d.amount)]);
    }
    let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
    assert_contains(&t, &needles);
    // The variance is not zero here, and is flagged.
    assert!(!c.variance.unwrap().is_zero());
    assert!(t.contains("cash short") || t.contains("cash over"));
    assert_eq!(m(s.tax_total), eur(19_287 + 8_147 - 291));
}

#[test]
fn x_report_says_the_shift_is_open() {
    if !have_poppler() {
        return;
    }
    let mut r = z_report(0);
    r.report = ShiftReportKind::X;
    r.closed_at = None;
    r.closed_by = None;
    let t = totals();
    let facts = ShiftCashFacts { float: 15_000, movements: vec![], count: None };
    r.cash = cash_summary(EUR, &t, &facts);
    let path = save("x-report", &shift_report_pdf(&r, Paper::Letter).unwrap());
    look(&path, "x-report");
    let text = text(&path);
    assert_contains(&text, &["X REPORT", "still open", "not counted", "No cash was paid in or out"]);
    assert!(!text.contains("Z REPORT") && !text.contains("Counted by"));
}

#[test]
fn hundreds_of_movements_continue_on_more_pages() {
    if !have_poppler() {
        return;
    }
    let r = z_report(400);
    let path = save("z-report-400", &shift_report_pdf(&r, Paper::A4).unwrap());
    let n = pages(&path);
    assert!(n > 2, "402 movements on {n} page(s)");
    let t = text(&path);
    for i in 0..400 {
        assert_eq!(t.matches(&format!("movement {i:03}")).count(), 1, "movement {i:03}");
    }
    assert!(t.contains(&format!("Page {n} of {n}")));
    // Titles repeat on each continued page of the movements table.
    assert!(t.matches("Reason").count() >= n - 1);
}

#[test]
fn daily_summary_shows_the_day() {
    if !have_poppler() {
        return;
    }
    let d = daily();
    let path = save("daily", &daily_summary_pdf(&d, Paper::A4).unwrap());
    look(&path, "daily");
    let t = text(&path);
    let s = &d.summary;
    let m = |v: Money| format_minor(v.minor(), v.currency());
    let mut needles = vec![
        "DAILY SUMMARY".to_owned(),
        "Café Brandt".into(),
        "2026-11-21".into(),
        "Europe/Berlin".into(),
        "2026-11-21T05:00:00+01:00".into(),
        "2026-11-22T04:59:59+01:00".into(),
        m(s.gross),
        m(s.net),
        m(s.tax_total),
        m(s.total_collected),
        m(s.average_ticket),
    ];
    for row in &s.tax {
        needles.extend([row.rate.clone(), m(row.base), m(row.tax)]);
    }
    let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
    assert_contains(&t, &needles);
    assert!(!t.contains("Cash drawer"), "a day has no single drawer");
}

// ---------------------------------------------------------------------------------------------
// paper
// ---------------------------------------------------------------------------------------------

#[test]
fn a4_and_letter_have_the_right_media_box() {
    if !have_poppler() {
        return;
    }
    type Make = Box<dyn Fn(Paper) -> Vec<u8>>;
    let docs: Vec<(&str, Make)> = vec![
        ("receipt", Box::new(|p| receipt_pdf(&long_receipt(120), p).unwrap())),
        ("z", Box::new(|p| shift_report_pdf(&z_report(150), p).unwrap())),
        ("daily", Box::new(|p| daily_summary_pdf(&daily(), p).unwrap())),
    ];
    for (name, make) in &docs {
        for (paper, size) in [(Paper::A4, "595.276 x 841.89 pts (A4)"), (Paper::Letter, "612 x 792 pts (letter)")] {
            let path = save(&format!("size-{name}-{paper:?}"), &make(paper));
            let info = info(&path);
            let n = pages(&path);
            let sized = info.lines().filter(|l| l.starts_with("Page") && l.contains("size:")).count();
            assert_eq!(sized, n, "{info}");
            for line in info.lines().filter(|l| l.starts_with("Page") && l.contains("size:")) {
                assert!(line.ends_with(size), "{name} {paper:?}: {line}");
            }
            // The MediaBox itself, as pdfinfo -box reports it for page 1.
            let out = Command::new("pdfinfo").arg("-box").arg(&path).output().unwrap();
            let boxes = String::from_utf8(out.stdout).unwrap();
            let media = boxes.lines().find(|l| l.starts_with("MediaBox:")).unwrap();
            let v: Vec<f32> = media["MediaBox:".len()..].split_whitespace().map(|x| x.parse().unwrap()).collect();
            let (w, h) = if paper == Paper::A4 { (595.28, 841.89) } else { (612.0, 792.0) };
            assert!(v[0] == 0.0 && v[1] == 0.0 && (v[2] - w).abs() < 0.01 && (v[3] - h).abs() < 0.01, "{media}");
        }
    }
}
