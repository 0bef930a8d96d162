//! The receipt copy: header, lines, totals, tax, payment, verification (QR + audit hash), footer.

use pos_print::doc::{ReceiptDoc, ReceiptKind};
use qrcode::QrCode;

use crate::canvas::{Align, BLACK, BODY, Canvas, Col, GREY, RED, Row, Table, keep};
use crate::fonts::Weight;
use crate::{Paper, PdfError};

/// Width of the header's right-hand block (title, copy mark, receipt facts).
const META_WIDTH: f32 = 215.0;
/// Side of the QR code, quiet zone not included.
const QR_SIZE: f32 = 92.0;

pub(crate) fn render(doc: &ReceiptDoc, paper: Paper) -> Result<Vec<u8>, PdfError> {
    let (title, name) = match doc.kind {
        ReceiptKind::Sale => ("RECEIPT", format!("Receipt {}", doc.receipt_no)),
        ReceiptKind::Refund => ("REFUND", format!("Refund {}", doc.receipt_no)),
        ReceiptKind::Void => ("VOID", format!("Void {}", doc.receipt_no)),
    };
    let copy = doc.copy.map(|n| format!("COPY {n}"));
    let mut label = format!("{} · {name}", doc.venue.name);
    if let Some(copy) = &copy {
        label = format!("{label} · {copy}");
    }
    let footer = format!("{label} · {} · audit {}", doc.issued_at, doc.audit_hash);
    let qr = QrCode::new(doc.qr_payload.as_bytes())
        .map_err(|e| PdfError::QrCode { len: doc.qr_payload.len(), reason: e.to_string() })?;

    let mut c = Canvas::new(paper, &label, &footer)?;
    // `issued_at` is venue-local without an offset, so it cannot date the PDF (see `set_date`).
    c.set_date(&doc.issued_at);
    header(&mut c, doc, title, copy.as_deref());
    kind_notice(&mut c, doc);
    lines(&mut c, doc);
    totals(&mut c, doc);
    taxes(&mut c, doc);
    payment(&mut c, doc);
    verification(&mut c, doc, &qr);
    if !doc.footer.is_empty() {
        c.gap(10.0);
        let (x, w) = (c.left(), c.content_width());
        for line in &doc.footer {
            c.paragraph(x, w, Align::Centre, Weight::Regular, BODY, GREY, line);
        }
    }
    c.finish()
}

fn header(c: &mut Canvas, doc: &ReceiptDoc, title: &str, copy: Option<&str>) {
    let top = c.y;
    let page = c.page_count();
    let (x, left_w) = (c.left(), c.content_width() - META_WIDTH - 20.0);
    c.paragraph(x, left_w, Align::Left, Weight::Bold, 16.0, BLACK, &doc.venue.name);
    c.gap(2.0);
    for line in &doc.venue.lines {
        c.paragraph(x, left_w, Align::Left, Weight::Regular, BODY, GREY, line);
    }
    let left_bottom = c.y;
    if c.page_count() != page {
        // A venue header longer than a page: carry on below it.
        c.gap(10.0);
    } else {
        c.y = top;
    }

    let rx = c.right() - META_WIDTH;
    let colour = if doc.kind == ReceiptKind::Sale { BLACK } else { RED };
    c.text_in(rx, c.y - 19.0, META_WIDTH, Align::Right, Weight::Bold, 20.0, colour, title);
    c.gap(27.0);
    if let Some(copy) = copy {
        let face = c.face(Weight::Bold);
        let text = face.fit(copy, 12.0, META_WIDTH - 12.0);
        let w = face.width(&text, 12.0) + 12.0;
        c.outline(c.right() - w, c.y - 18.0, w, 18.0, 1.2, RED);
        c.text_in(c.right() - w, c.y - 13.5, w, Align::Centre, Weight::Bold, 12.0, RED, &text);
        c.gap(24.0);
    }
    let mut facts: Vec<(&str, String)> = vec![
        ("Receipt no.", doc.receipt_no.to_string()),
        ("Date", doc.issued_at.clone()),
        ("Cashier", doc.cashier.clone()),
        ("Currency", doc.currency.clone()),
    ];
    match (doc.kind, doc.original_receipt_no) {
        (ReceiptKind::Refund, Some(n)) => facts.push(("Refund of receipt", n.to_string())),
        (ReceiptKind::Void, Some(n)) => facts.push(("Voided receipt", n.to_string())),
        _ => {}
    }
    let label_w = 88.0;
    for (label, value) in &facts {
        c.text_in(rx, c.y - BODY, label_w, Align::Left, Weight::Regular, BODY, GREY, label);
        c.text_in(rx + label_w, c.y - BODY, META_WIDTH - label_w, Align::Right, Weight::Bold, BODY, BLACK, value);
        c.gap(13.0);
    }
    c.y = c.y.min(left_bottom) - 8.0;
    c.rule(c.y, 1.0);
    c.gap(12.0);
}

/// What makes a refund or a void different from a sale, spelt out above the lines.
fn kind_notice(c: &mut Canvas, doc: &ReceiptDoc) {
    let original = doc.original_receipt_no.map(|n| format!(" of receipt {n}")).unwrap_or_default();
    let text = match doc.kind {
        ReceiptKind::Sale => match &doc.void_reason {
            Some(reason) => format!("Void reason: {reason}"),
            None => return,
        },
        ReceiptKind::Refund => format!("REFUND{original}: the amounts below are paid back to the customer."),
        ReceiptKind::Void => {
            let reason = doc.void_reason.as_deref().unwrap_or("not given");
            format!("VOID{original}: this sale was cancelled. Reason: {reason}")
        }
    };
    let (x, w) = (c.left(), c.content_width());
    c.paragraph(x, w, Align::Left, Weight::Bold, 10.0, RED, &text);
    c.gap(8.0);
}

fn lines(c: &mut Canvas, doc: &ReceiptDoc) {
    let t = Table {
        cols: vec![
            Col { title: "Qty".into(), width: Some(42.0), align: Align::Right, numeric: true },
            Col::text("Item", None),
            Col::amount("Unit price", 70.0),
            Col::amount("Discount", 86.0),
            Col::amount(&format!("Amount {}", doc.currency), 78.0),
            Col::centred("Tax", 34.0),
        ],
        x: c.left(),
        width: c.content_width(),
        header: true,
        zebra: true,
    };
    let mut rows: Vec<Row> = doc
        .lines
        .iter()
        .map(|l| {
            let discount = l.discount.as_deref().unwrap_or("");
            Row::new([&l.quantity, &l.name, &l.unit_price, discount, &l.amount, &l.tax_code])
        })
        .collect();
    if rows.is_empty() {
        rows.push(Row::new(["", "(no lines)", "", "", "", ""]));
    }
    c.table(&t, &rows);
}

fn totals(c: &mut Canvas, doc: &ReceiptDoc) {
    let mut rows = vec![Row::new(["Subtotal", &doc.subtotal])];
    if let Some(d) = &doc.discount_total {
        rows.push(Row::new(["Discounts", d]));
    }
    rows.push(Row::total([&format!("Total {}", doc.currency), &doc.total]));
    if let Some(r) = &doc.rounding {
        rows.push(Row::new(["Cash rounding", r]));
    }
    let width = 260.0;
    c.need(rows.len() as f32 * 14.0 + 8.0);
    c.gap(4.0);
    c.figures(c.right() - width, width, 100.0, &rows);
}

fn taxes(c: &mut Canvas, doc: &ReceiptDoc) {
    let t = Table {
        cols: vec![
            Col::text("Code", Some(60.0)),
            Col::amount("Rate", 70.0),
            Col::amount("Base", 110.0),
            Col::amount("Tax", 110.0),
        ],
        x: c.left(),
        width: 350.0,
        header: true,
        zebra: true,
    };
    let mut rows: Vec<Row> = doc.taxes.iter().map(|t| Row::new([&t.code, &t.rate, &t.base, &t.tax])).collect();
    rows.push(Row::total(["Total tax", "", "", &doc.tax_total]));
    c.heading("Tax", keep(rows.len(), true));
    c.table(&t, &rows);
}

fn payment(c: &mut Canvas, doc: &ReceiptDoc) {
    let t = Table {
        cols: vec![Col::text("Tender", Some(110.0)), Col::text("Details", None), Col::amount("Amount", 100.0)],
        x: c.left(),
        width: c.content_width(),
        header: true,
        zebra: true,
    };
    let mut rows: Vec<Row> =
        doc.tenders.iter().map(|t| Row::new([&t.label, t.detail.as_deref().unwrap_or(""), &t.amount])).collect();
    if rows.is_empty() {
        rows.push(Row::new(["(none)", "", ""]));
    }
    if let Some(change) = &doc.change_due {
        rows.push(Row::total(["Change due", "", change]));
    }
    c.heading("Payment", keep(rows.len(), true));
    c.table(&t, &rows);
}

fn verification(c: &mut Canvas, doc: &ReceiptDoc, qr: &QrCode) {
    c.heading("Verification", QR_SIZE + 8.0);
    let n = qr.width();
    let modules: Vec<bool> = qr.to_colors().iter().map(|m| *m == qrcode::Color::Dark).collect();
    let module = QR_SIZE / n as f32;
    let top = c.y - 4.0;
    let page = c.page_count();
    c.squares(c.left(), top, module, n, &modules);

    let tx = c.left() + QR_SIZE + 18.0;
    let tw = c.right() - tx;
    c.y = top;
    c.text_in(tx, c.y - 8.0, tw, Align::Left, Weight::Regular, 8.0, GREY, "Audit hash");
    c.gap(12.0);
    c.text_in(tx, c.y - 12.0, tw, Align::Left, Weight::Bold, 12.0, BLACK, &doc.audit_hash);
    c.gap(20.0);
    c.text_in(tx, c.y - 8.0, tw, Align::Left, Weight::Regular, 8.0, GREY, "Verification data (in the QR code)");
    c.gap(11.0);
    c.paragraph(tx, tw, Align::Left, Weight::Regular, 8.0, BLACK, &doc.qr_payload);
    c.gap(4.0);
    c.paragraph(
        tx,
        tw,
        Align::Left,
        Weight::Regular,
        8.0,
        GREY,
        "Scan the code to check this receipt against the register's audit log.",
    );
    if c.page_count() == page {
        c.y = c.y.min(top - QR_SIZE);
    }
    c.gap(8.0);
}
