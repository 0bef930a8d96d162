//! A small flow layout on top of printpdf's page operations: a cursor that moves down the page,
//! text that is measured, cut or wrapped to fit, tables whose rows continue on a new page (with
//! the column titles repeated), and page footers numbered once the page count is known.
//!
//! Everything is recorded as [`Draw`] items first; the fonts are subset to the characters the
//! document really uses and only then turned into printpdf operations.

use std::collections::BTreeSet;

use printpdf::{
    Color, FontId, Line, LinePoint, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt,
    Rect, Rgb, TextItem, TextMatrix,
};

use crate::fonts::{Face, Weight, faces};
use crate::{Paper, PdfError};

/// Page margins and the band kept free for the page footer, in points.
const MARGIN_X: f32 = 48.0;
const MARGIN_TOP: f32 = 46.0;
const CONTENT_BOTTOM: f32 = 62.0;
const FOOTER_BASELINE: f32 = 36.0;

/// Body text size and table row height.
pub(crate) const BODY: f32 = 9.0;
pub(crate) const ROW: f32 = 14.0;
/// Space between the text of two neighbouring table cells.
const CELL_PAD: f32 = 4.0;

/// The height a heading should keep with it for a table of `rows` rows: the whole table when it
/// is short (a short table is not split across pages), else its first rows.
pub(crate) fn keep(rows: usize, header: bool) -> f32 {
    let rows = if rows <= 14 { rows } else { 3 };
    (rows + usize::from(header)) as f32 * ROW
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Colour(f32, f32, f32);

pub(crate) const BLACK: Colour = Colour(0.0, 0.0, 0.0);
pub(crate) const GREY: Colour = Colour(0.38, 0.38, 0.38);
pub(crate) const RED: Colour = Colour(0.72, 0.07, 0.07);
const RULE: Colour = Colour(0.55, 0.55, 0.55);
const HEADER_FILL: Colour = Colour(0.88, 0.89, 0.91);
const ZEBRA_FILL: Colour = Colour(0.955, 0.96, 0.965);

impl Colour {
    fn pdf(self) -> Color {
        Color::Rgb(Rgb::new(self.0, self.1, self.2, None))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
    Centre,
}

/// One recorded drawing item; coordinates in points from the page's lower left corner.
#[derive(Debug, Clone)]
enum Draw {
    Text { x: f32, y: f32, weight: Weight, size: f32, colour: Colour, text: String },
    Rect { x: f32, y: f32, w: f32, h: f32, colour: Colour },
    Line { x1: f32, y1: f32, x2: f32, y2: f32, width: f32, colour: Colour },
}

/// A table column: its title, its width (`None`: takes what the fixed columns leave) and how its
/// cells align. Numeric columns shrink their text rather than cut it.
#[derive(Debug, Clone)]
pub(crate) struct Col {
    pub title: String,
    pub width: Option<f32>,
    pub align: Align,
    pub numeric: bool,
}

impl Col {
    pub(crate) fn text(title: &str, width: Option<f32>) -> Col {
        Col { title: title.to_owned(), width, align: Align::Left, numeric: false }
    }

    pub(crate) fn amount(title: &str, width: f32) -> Col {
        Col { title: title.to_owned(), width: Some(width), align: Align::Right, numeric: true }
    }

    pub(crate) fn centred(title: &str, width: f32) -> Col {
        Col { title: title.to_owned(), width: Some(width), align: Align::Centre, numeric: false }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowStyle {
    Normal,
    /// Bold, with a rule above: totals.
    Total,
    /// Bold and red: a figure that needs attention (a cash variance).
    Alert,
}

#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub cells: Vec<String>,
    pub style: RowStyle,
}

impl Row {
    pub(crate) fn new<const N: usize>(cells: [&str; N]) -> Row {
        Row { cells: cells.iter().map(|c| (*c).to_owned()).collect(), style: RowStyle::Normal }
    }

    pub(crate) fn total<const N: usize>(cells: [&str; N]) -> Row {
        Row { style: RowStyle::Total, ..Row::new(cells) }
    }

    pub(crate) fn styled(mut self, style: RowStyle) -> Row {
        self.style = style;
        self
    }
}

/// Where a table sits and whether it has a title row.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub cols: Vec<Col>,
    pub x: f32,
    pub width: f32,
    pub header: bool,
    pub zebra: bool,
}

pub(crate) struct Canvas {
    faces: &'static [Face; 2],
    paper: Paper,
    width: f32,
    height: f32,
    pages: Vec<Vec<Draw>>,
    /// Top of the free space on the current page (points from the bottom).
    pub y: f32,
    /// Printed at the top of every page after the first.
    continuation: String,
    /// Printed at the bottom left of every page, beside the page number.
    footer: String,
    title: String,
    /// The PDF's creation date, as printpdf writes it.
    date: Option<printpdf::OffsetDateTime>,
    used: [BTreeSet<char>; 2],
}

impl Canvas {
    pub(crate) fn new(paper: Paper, title: &str, footer: &str) -> Result<Canvas, PdfError> {
        let (width, height) = paper.size_pt();
        let mut c = Canvas {
            faces: faces()?,
            paper,
            width,
            height,
            pages: Vec::new(),
            y: 0.0,
            continuation: format!("{title} (continued)"),
            footer: footer.to_owned(),
            title: title.to_owned(),
            date: None,
            used: [BTreeSet::new(), BTreeSet::new()],
        };
        c.new_page();
        Ok(c)
    }

    /// Dates the PDF by the document's own time (RFC 3339, with its offset): this crate does not
    /// read the clock. Left at printpdf's fixed default (the Unix epoch) when `text` has no offset.
    pub(crate) fn set_date(&mut self, text: &str) {
        self.date = pdf_date(text);
    }

    pub(crate) fn face(&self, weight: Weight) -> &'static Face {
        &self.faces[weight.index()]
    }

    pub(crate) fn left(&self) -> f32 {
        MARGIN_X
    }

    pub(crate) fn right(&self) -> f32 {
        self.width - MARGIN_X
    }

    pub(crate) fn content_width(&self) -> f32 {
        self.width - 2.0 * MARGIN_X
    }

    /// Height still free on the current page.
    pub(crate) fn room(&self) -> f32 {
        self.y - CONTENT_BOTTOM
    }

    pub(crate) fn page_count(&self) -> usize {
        self.pages.len()
    }

    pub(crate) fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = self.height - MARGIN_TOP;
        if self.pages.len() > 1 {
            let text = self.continuation.clone();
            let max = self.content_width();
            self.text_fit(self.left(), self.y - 8.0, Weight::Regular, 8.0, GREY, &text, max);
            self.rule(self.y - 12.0, 0.5);
            self.y -= 24.0;
        }
    }

    /// Starts a new page unless `height` points are still free on this one.
    pub(crate) fn need(&mut self, height: f32) -> bool {
        if self.room() < height {
            self.new_page();
            true
        } else {
            false
        }
    }

    pub(crate) fn gap(&mut self, height: f32) {
        self.y -= height;
    }

    fn push(&mut self, d: Draw) {
        if let Some(page) = self.pages.last_mut() {
            page.push(d);
        }
    }

    /// Draws already-clean text with its left end at `x` on the baseline `y`.
    fn put(&mut self, x: f32, y: f32, weight: Weight, size: f32, colour: Colour, text: String) {
        if text.is_empty() {
            return;
        }
        self.used[weight.index()].extend(text.chars());
        self.push(Draw::Text { x, y, weight, size, colour, text });
    }

    /// Text aligned within `[x, x + max]`, cut with "…" if it does not fit.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn text_in(
        &mut self,
        x: f32,
        y: f32,
        max: f32,
        align: Align,
        weight: Weight,
        size: f32,
        colour: Colour,
        text: &str,
    ) {
        let face = self.face(weight);
        let text = face.fit(text, size, max);
        let w = face.width(&text, size);
        let x = match align {
            Align::Left => x,
            Align::Right => x + max - w,
            Align::Centre => x + (max - w) / 2.0,
        };
        self.put(x, y, weight, size, colour, text);
    }

    /// Left-aligned text cut to `max` points.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn text_fit(&mut self, x: f32, y: f32, weight: Weight, size: f32, colour: Colour, text: &str, max: f32) {
        self.text_in(x, y, max, Align::Left, weight, size, colour, text);
    }

    /// Text wrapped into `[x, x + max]`, moving the cursor down one line at a time and onto a new
    /// page when needed. Returns the number of lines.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn paragraph(
        &mut self,
        x: f32,
        max: f32,
        align: Align,
        weight: Weight,
        size: f32,
        colour: Colour,
        text: &str,
    ) -> usize {
        let line_height = size * 1.35;
        let lines = self.face(weight).wrap(text, size, max);
        for line in &lines {
            self.need(line_height);
            let y = self.y - size;
            self.text_in(x, y, max, align, weight, size, colour, line);
            self.y -= line_height;
        }
        lines.len()
    }

    pub(crate) fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, colour: Colour) {
        self.push(Draw::Rect { x, y, w, h, colour });
    }

    pub(crate) fn hline(&mut self, x1: f32, x2: f32, y: f32, width: f32, colour: Colour) {
        self.push(Draw::Line { x1, y1: y, x2, y2: y, width, colour });
    }

    pub(crate) fn outline(&mut self, x: f32, y: f32, w: f32, h: f32, width: f32, colour: Colour) {
        self.hline(x, x + w, y, width, colour);
        self.hline(x, x + w, y + h, width, colour);
        self.push(Draw::Line { x1: x, y1: y, x2: x, y2: y + h, width, colour });
        self.push(Draw::Line { x1: x + w, y1: y, x2: x + w, y2: y + h, width, colour });
    }

    /// A full-width rule at height `y`.
    pub(crate) fn rule(&mut self, y: f32, width: f32) {
        self.hline(self.left(), self.right(), y, width, RULE);
    }

    /// A section title with a rule under it. Kept on one page with at least `keep` points of
    /// what follows, so a title never ends a page alone.
    pub(crate) fn heading(&mut self, title: &str, keep: f32) {
        self.need(28.0 + keep);
        self.gap(6.0);
        let max = self.content_width();
        self.text_fit(self.left(), self.y - 11.0, Weight::Bold, 11.0, BLACK, title, max);
        self.rule(self.y - 15.0, 0.6);
        self.y -= 22.0;
    }

    fn col_positions(&self, t: &Table) -> Vec<(f32, f32)> {
        let fixed: f32 = t.cols.iter().filter_map(|c| c.width).sum();
        let flexible = t.cols.iter().filter(|c| c.width.is_none()).count().max(1) as f32;
        let rest = ((t.width - fixed) / flexible).max(0.0);
        let mut x = t.x;
        t.cols
            .iter()
            .map(|c| {
                let w = c.width.unwrap_or(rest);
                let pos = (x, w);
                x += w;
                pos
            })
            .collect()
    }

    fn table_header(&mut self, t: &Table, cols: &[(f32, f32)]) {
        self.fill(t.x, self.y - ROW, t.width, ROW, HEADER_FILL);
        let baseline = self.y - ROW + 4.5;
        for (col, (x, w)) in t.cols.iter().zip(cols) {
            let title = col.title.clone();
            self.text_in(x + CELL_PAD, baseline, w - 2.0 * CELL_PAD, col.align, Weight::Bold, 8.0, BLACK, &title);
        }
        self.y -= ROW;
    }

    /// Draws the rows; a row that does not fit goes to a new page, under the column titles again.
    pub(crate) fn table(&mut self, t: &Table, rows: &[Row]) {
        let cols = self.col_positions(t);
        // Title row and at least one row together.
        self.need(if t.header { 2.0 * ROW } else { ROW });
        if t.header {
            self.table_header(t, &cols);
        }
        for (i, row) in rows.iter().enumerate() {
            if self.need(ROW) && t.header {
                self.table_header(t, &cols);
            }
            let top = self.y;
            if t.zebra && i % 2 == 1 && row.style == RowStyle::Normal {
                self.fill(t.x, top - ROW, t.width, ROW, ZEBRA_FILL);
            }
            let (weight, colour) = match row.style {
                RowStyle::Normal => (Weight::Regular, BLACK),
                RowStyle::Total => (Weight::Bold, BLACK),
                RowStyle::Alert => (Weight::Bold, RED),
            };
            if row.style == RowStyle::Total {
                self.hline(t.x, t.x + t.width, top, 0.8, BLACK);
            }
            let baseline = top - ROW + 4.0;
            for (col, ((x, w), cell)) in t.cols.iter().zip(cols.iter().zip(&row.cells)) {
                let max = w - 2.0 * CELL_PAD;
                let size = if col.numeric { self.shrink_to(cell, weight, BODY, max) } else { BODY };
                self.text_in(x + CELL_PAD, baseline, max, col.align, weight, size, colour, cell);
            }
            self.y -= ROW;
        }
        self.gap(4.0);
    }

    /// The size (down to 6 pt) at which `text` fits `max`: amounts get smaller rather than cut.
    fn shrink_to(&self, text: &str, weight: Weight, size: f32, max: f32) -> f32 {
        let face = self.face(weight);
        let w = face.width(&face.clean(text), size);
        if w <= max || w <= 0.0 { size } else { (size * max / w).max(6.0) }
    }

    /// Label/value pairs: a two-column table without titles, values right-aligned.
    pub(crate) fn figures(&mut self, x: f32, width: f32, value_width: f32, rows: &[Row]) {
        let t = Table {
            cols: vec![Col::text("", None), Col::amount("", value_width)],
            x,
            width,
            header: false,
            zebra: true,
        };
        self.table(&t, rows);
    }

    /// Filled squares, e.g. a QR code's dark modules: `modules` is row-major, `n` × `n`, drawn
    /// with its top left corner at (`x`, `top`).
    pub(crate) fn squares(&mut self, x: f32, top: f32, module: f32, n: usize, modules: &[bool]) {
        for (row, line) in modules.chunks(n).enumerate() {
            let y = top - (row as f32 + 1.0) * module;
            let mut col = 0;
            while col < line.len() {
                if !line[col] {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < line.len() && line[col] {
                    col += 1;
                }
                // A hair taller than a module so that rows do not show seams when rasterised.
                let w = (col - start) as f32 * module;
                self.fill(x + start as f32 * module, y - 0.02, w, module + 0.04, BLACK);
            }
        }
    }

    /// Adds page footers and writes the PDF.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, PdfError> {
        let total = self.pages.len();
        let footer = self.footer.clone();
        for i in 0..total {
            let number = format!("Page {} of {total}", i + 1);
            let face = self.face(Weight::Regular);
            let number_w = face.width(&number, 8.0);
            let mut items = Vec::new();
            let fitted = face.fit(&footer, 8.0, self.content_width() - number_w - 20.0);
            items.push(Draw::Line {
                x1: self.left(),
                y1: FOOTER_BASELINE + 11.0,
                x2: self.right(),
                y2: FOOTER_BASELINE + 11.0,
                width: 0.5,
                colour: RULE,
            });
            items.push(Draw::Text {
                x: self.left(),
                y: FOOTER_BASELINE,
                weight: Weight::Regular,
                size: 8.0,
                colour: GREY,
                text: fitted,
            });
            items.push(Draw::Text {
                x: self.right() - number_w,
                y: FOOTER_BASELINE,
                weight: Weight::Regular,
                size: 8.0,
                colour: GREY,
                text: number,
            });
            for d in &items {
                if let Draw::Text { weight, text, .. } = d {
                    self.used[weight.index()].extend(text.chars());
                }
            }
            self.pages[i].extend(items);
        }
        self.render()
    }

    fn render(self) -> Result<Vec<u8>, PdfError> {
        let mut doc = PdfDocument::new(&self.title);
        doc.metadata.info.creator = "pos-pdf".to_owned();
        doc.metadata.info.producer = "pos-pdf (printpdf 0.12)".to_owned();
        if let Some(date) = self.date {
            doc.metadata.info.creation_date = date;
            doc.metadata.info.modification_date = date;
            doc.metadata.info.metadata_date = date;
        }
        let mut ids: [Option<FontId>; 2] = [None, None];
        for weight in Weight::ALL {
            let chars = &self.used[weight.index()];
            if !chars.is_empty() {
                let font = self.face(weight).subset(chars)?;
                ids[weight.index()] = Some(doc.add_font(&font));
            }
        }
        let (w, h) = self.paper.size_pt();
        let pages: Vec<PdfPage> = self
            .pages
            .iter()
            .map(|draws| {
                let mut page = PdfPage::new(printpdf::Mm(0.0), printpdf::Mm(0.0), page_ops(draws, &ids));
                let bx = Rect::from_wh(Pt(w), Pt(h));
                page.media_box = bx.clone();
                page.trim_box = bx.clone();
                page.crop_box = bx;
                page
            })
            .collect();
        doc.with_pages(pages);
        let opts = PdfSaveOptions { optimize: true, subset_fonts: false, secure: true, image_optimization: None };
        let mut warnings = Vec::new();
        let bytes = doc.save(&opts, &mut warnings);
        let errors: Vec<String> = warnings
            .iter()
            .filter(|w| w.severity == printpdf::PdfParseErrorSeverity::Error)
            .map(|w| w.msg.clone())
            .collect();
        if !errors.is_empty() {
            return Err(PdfError::Write(errors.join("; ")));
        }
        if !bytes.starts_with(b"%PDF-") {
            return Err(PdfError::Write("the writer produced no PDF".to_owned()));
        }
        Ok(bytes)
    }
}

/// An RFC 3339 time as a PDF date. printpdf writes dates as UTC, so the time is converted to UTC
/// first; a time without an offset (a venue-local "2026-11-21 14:05") cannot be, and gives `None`.
fn pdf_date(text: &str) -> Option<printpdf::OffsetDateTime> {
    let utc = text.trim().parse::<jiff::Timestamp>().ok()?.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    let stamp = format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}",
        utc.year(),
        utc.month(),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    );
    printpdf::parse_pdf_date(&stamp).ok()
}

/// Graphics first (backgrounds, rules, QR modules), then all text in one text object.
fn page_ops(draws: &[Draw], fonts: &[Option<FontId>; 2]) -> Vec<Op> {
    let mut ops = Vec::new();
    for d in draws {
        match d {
            Draw::Rect { x, y, w, h, colour } => {
                ops.push(Op::SetFillColor { col: colour.pdf() });
                ops.push(Op::DrawRectangle {
                    rectangle: Rect {
                        x: Pt(*x),
                        y: Pt(*y),
                        width: Pt(*w),
                        height: Pt(*h),
                        mode: Some(PaintMode::Fill),
                        winding_order: None,
                    },
                });
            }
            Draw::Line { x1, y1, x2, y2, width, colour } => {
                ops.push(Op::SetOutlineColor { col: colour.pdf() });
                ops.push(Op::SetOutlineThickness { pt: Pt(*width) });
                let point = |x: f32, y: f32| LinePoint { p: Point { x: Pt(x), y: Pt(y) }, bezier: false };
                ops.push(Op::DrawLine {
                    line: Line { points: vec![point(*x1, *y1), point(*x2, *y2)], is_closed: false },
                });
            }
            Draw::Text { .. } => {}
        }
    }
    ops.push(Op::StartTextSection);
    let mut font: Option<(Weight, f32)> = None;
    let mut fill: Option<Colour> = None;
    for d in draws {
        let Draw::Text { x, y, weight, size, colour, text } = d else { continue };
        let Some(id) = &fonts[weight.index()] else { continue };
        if font != Some((*weight, *size)) {
            ops.push(Op::SetFont { font: PdfFontHandle::External(id.clone()), size: Pt(*size) });
            font = Some((*weight, *size));
        }
        if fill != Some(*colour) {
            ops.push(Op::SetFillColor { col: colour.pdf() });
            fill = Some(*colour);
        }
        ops.push(Op::SetTextMatrix { matrix: TextMatrix::Translate(Pt(*x), Pt(*y)) });
        ops.push(Op::ShowText { items: vec![TextItem::Text(text.clone())] });
    }
    ops.push(Op::EndTextSection);
    ops
}
