//! Printing from the register: printers, the durable print queue, receipts (original, copies,
//! refunds, voids), kitchen tickets, drawer pulses, X and Z shift reports and rendering without
//! hardware.
//!
//! The sale commits first; its receipt, kitchen tickets and drawer pulse are queued right after,
//! in their own transaction, and printed by [`Register::run_print_queue`] (or by a worker that
//! uses [`Register::take_print_tasks`] and [`Register::finish_print_task`] so the transport's
//! waiting happens outside the register). A printer that is off never blocks or loses a sale:
//! the job waits in the encrypted store and is retried with back-off.

use std::collections::HashSet;

use jiff::Timestamp;
use pos_audit::Event;
use pos_auth::permissions::Permission;
use pos_core::money::{Currency, Quantity, format_minor};
use pos_core::report::{ShiftReport, ShiftReportKind};
use pos_core::tax::format_rate;
use pos_print::doc::{
    DocLine, DocTax, DocTender, ReceiptDoc, ReceiptKind, TicketDoc, TicketItem, VenueHeader, qr_payload,
};
use pos_print::layout::{self, DrawerPin};
use pos_print::status::PrinterStatus;
use pos_print::transport::{Connection, Delivery, Timeouts, TransportError};
use pos_print::{CodePage, Profile, escpos};
use pos_store::printing::{NewPrintJob, PrintJobRow, PrinterRow, StoredReceipt};
use serde::Serialize;

use crate::error::{AppError, AppResult, ErrorCode};
use crate::register::Register;
use crate::security::Session;

/// Setting: extra header lines under the venue name (address, tax number), one per line.
pub const RECEIPT_HEADER_SETTING: &str = "receipt_header";
/// Setting: footer lines, one per line.
pub const RECEIPT_FOOTER_SETTING: &str = "receipt_footer";

/// A drawer pulse older than this is not sent any more: a drawer must not spring open minutes
/// after the sale because the printer came back.
const DRAWER_JOB_TTL_SECONDS: i64 = 60;
/// Retries back off from 5 s, doubling, to at most 5 minutes; after this many a job waits for a
/// reprint by hand.
const MAX_ATTEMPTS: i64 = 50;

#[derive(Debug, Default)]
pub(crate) struct PrintState {
    in_flight: HashSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrinterView {
    pub name: String,
    pub connection: String,
    pub columns: usize,
    pub code_page: String,
    pub role: String,
    pub categories: Vec<String>,
    pub drawer_pin: Option<u8>,
}

/// A printer to add: `connection` is an address such as `tcp://10.0.0.7:9100`,
/// `serial:/dev/ttyUSB0?baud=38400`, `usb:/dev/usb/lp0`, `file:/path` or `cups:queue`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPrinter {
    pub name: String,
    pub connection: String,
    pub columns: usize,
    pub code_page: String,
    /// `receipt`, `kitchen` or `office`.
    pub role: String,
    /// Kitchen printers: the categories whose items they print.
    pub categories: Vec<String>,
    /// Receipt printers with a drawer behind them: connector pin 2 or 5.
    pub drawer_pin: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrintJobView {
    pub id: String,
    pub printer: String,
    pub kind: String,
    pub receipt_no: Option<i64>,
    pub copy: Option<i64>,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    /// True when the register stopped retrying (a drawer pulse that went stale, or too many
    /// failures); a receipt can still be reprinted by hand.
    pub given_up: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrinterStatusView {
    pub name: String,
    pub connection: String,
    pub reachable: bool,
    /// The printer's own report, where its attachment can answer.
    pub status: Option<PrinterStatus>,
    /// What stops printing, in words: "paper out", "cover open", "not reachable: …".
    pub problem: Option<String>,
    pub queued_jobs: i64,
}

/// A job about to be queued.
struct Job {
    printer: String,
    kind: &'static str,
    /// The order (or refund) id and its receipt number.
    order: Option<(String, i64)>,
    reason: Option<String>,
    payload: Vec<u8>,
}

impl Job {
    fn new(
        printer: &str,
        kind: &'static str,
        order: Option<(String, i64)>,
        reason: Option<&str>,
        payload: Vec<u8>,
    ) -> Job {
        Job { printer: printer.to_owned(), kind, order, reason: reason.map(str::to_owned), payload }
    }
}

/// One job handed to a print worker.
#[derive(Debug, Clone)]
pub struct PrintTask {
    pub job_id: String,
    pub printer: String,
    pub kind: String,
    pub connection: Connection,
    pub payload: Vec<u8>,
}

impl PrintTask {
    /// Sends the job. Runs outside the register, so a slow printer holds up nobody.
    pub fn deliver(&self, timeouts: &Timeouts) -> Result<Delivery, TransportError> {
        pos_print::transport::deliver(&self.connection, &self.payload, timeouts)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderFormat {
    Escpos,
    Pdf,
    Text,
}

impl RenderFormat {
    pub fn parse(s: &str) -> AppResult<RenderFormat> {
        match s {
            "escpos" => Ok(RenderFormat::Escpos),
            "pdf" => Ok(RenderFormat::Pdf),
            "text" => Ok(RenderFormat::Text),
            _ => Err(AppError::invalid(format!("unknown format {s:?}: escpos, pdf or text"))),
        }
    }
}

fn printer_view(p: &PrinterRow) -> PrinterView {
    PrinterView {
        name: p.name.clone(),
        connection: p.connection.clone(),
        columns: p.columns as usize,
        code_page: p.code_page.clone(),
        role: p.role.clone(),
        categories: serde_json::from_str(&p.categories).unwrap_or_default(),
        drawer_pin: p.drawer_pin.map(|n| n as u8),
    }
}

fn profile_of(p: &PrinterRow) -> Profile {
    let page = CodePage::parse(&p.code_page).unwrap_or(CodePage::Pc858);
    Profile::new(p.columns as usize, page).unwrap_or_default()
}

fn connection_of(p: &PrinterRow) -> AppResult<Connection> {
    Connection::parse(&p.connection)
        .map_err(|e| AppError::new(ErrorCode::StoreDamaged, format!("printer {}: {e}", p.name)))
}

fn backoff_seconds(attempts: i64) -> i64 {
    (5i64 << attempts.clamp(0, 6)).min(300)
}

impl Register {
    fn printer_rows(&self) -> AppResult<Vec<PrinterRow>> {
        Ok(pos_store::printing::printers(self.store.conn())?)
    }

    fn printer_row(&self, name: &str) -> AppResult<PrinterRow> {
        self.printer_rows()?
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| AppError::not_found(format!("no printer named {name:?}")))
    }

    /// The printer receipts go to: the named one, or the first receipt printer.
    fn receipt_printer(&self, name: Option<&str>) -> AppResult<Option<PrinterRow>> {
        match name {
            Some(n) => self.printer_row(n).map(Some),
            None => Ok(self.printer_rows()?.into_iter().find(|p| p.role == "receipt")),
        }
    }

    pub fn printers(&mut self, session: &Session) -> AppResult<Vec<PrinterView>> {
        self.authorize(session, None, "printers")?;
        Ok(self.printer_rows()?.iter().map(printer_view).collect())
    }

    /// Adds (or replaces) a printer. A settings change: back office, audited.
    pub fn add_printer(&mut self, session: &Session, p: &NewPrinter) -> AppResult<PrinterView> {
        let actor = self.authorize(session, Some(Permission::ManageSettings), "printer_added")?;
        let name = p.name.trim();
        if name.is_empty() || name.chars().count() > 40 || name.chars().any(char::is_control) {
            return Err(AppError::invalid("a printer name is 1 to 40 printable characters"));
        }
        let connection = Connection::parse(&p.connection).map_err(AppError::invalid)?;
        let page = CodePage::parse(&p.code_page).ok_or_else(|| {
            let names: Vec<&str> = CodePage::ALL.iter().map(|c| c.name()).collect();
            AppError::invalid(format!("unknown code page {:?}: one of {}", p.code_page, names.join(", ")))
        })?;
        Profile::new(p.columns, page).map_err(AppError::invalid)?;
        if !["receipt", "kitchen", "office"].contains(&p.role.as_str()) {
            return Err(AppError::invalid(format!("unknown printer role {:?}: receipt, kitchen or office", p.role)));
        }
        if p.role == "office" && !connection.prints_pdf() || p.role != "office" && connection.prints_pdf() {
            return Err(AppError::invalid(
                "office printers print PDF through CUPS (cups:QUEUE); receipt and kitchen printers speak ESC/POS",
            ));
        }
        if p.role == "kitchen" && p.categories.is_empty() {
            return Err(AppError::invalid("a kitchen printer needs the categories it prints"));
        }
        if let Some(pin) = p.drawer_pin
            && (DrawerPin::from_number(pin).is_none() || p.role != "receipt")
        {
            return Err(AppError::invalid("a drawer hangs on a receipt printer, on connector pin 2 or 5"));
        }
        let row = PrinterRow {
            name: name.to_owned(),
            connection: connection.to_uri(),
            columns: p.columns as i64,
            code_page: page.name().to_owned(),
            role: p.role.clone(),
            categories: serde_json::to_string(&p.categories).unwrap_or_else(|_| "[]".into()),
            drawer_pin: p.drawer_pin.map(i64::from),
            created_at: self.clock.now().as_microsecond(),
        };
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        pos_store::printing::put_printer(&tx, &row)?;
        let ev = Event::new("printer_added", "ok")
            .actor(actor.id, &actor.name)
            .subject("printer", row.name.clone())
            .detail("connection", row.connection.clone())
            .detail("role", row.role.clone());
        self.auditor.commit(tx, now, &offset, ev, None)?;
        Ok(printer_view(&row))
    }

    pub fn remove_printer(&mut self, session: &Session, name: &str) -> AppResult<()> {
        let actor = self.authorize(session, Some(Permission::ManageSettings), "printer_removed")?;
        self.printer_row(name)?;
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        pos_store::printing::remove_printer(&tx, name)?;
        let ev = Event::new("printer_removed", "ok").actor(actor.id, &actor.name).subject("printer", name);
        self.auditor.commit(tx, now, &offset, ev, None)?;
        Ok(())
    }

    /// Asks the printer how it is, over its own attachment (bounded by short timeouts).
    pub fn printer_status(&mut self, session: &Session, name: &str) -> AppResult<PrinterStatusView> {
        self.authorize(session, None, "printer_status")?;
        let row = self.printer_row(name)?;
        let conn = connection_of(&row)?;
        let queued = pos_store::printing::unsent_jobs_for_printer(self.store.conn(), name)?;
        let (reachable, status, problem) = match pos_print::transport::query_status(&conn, &Timeouts::default()) {
            Ok(Some(s)) => (true, Some(s), s.fault()),
            Ok(None) => (true, None, None),
            Err(e) => (false, None, Some(e.to_string())),
        };
        Ok(PrinterStatusView {
            name: row.name,
            connection: row.connection,
            reachable,
            status,
            problem,
            queued_jobs: queued,
        })
    }

    /// Queues a test page for a printer.
    pub fn print_test_page(&mut self, session: &Session, name: &str) -> AppResult<PrintJobView> {
        self.authorize(session, Some(Permission::ManageSettings), "printer_test")?;
        let row = self.printer_row(name)?;
        let payload = if connection_of(&row)?.prints_pdf() {
            pos_pdf::receipt_pdf(&pos_print::doc::sample_receipt(), pos_pdf::Paper::A4).map_err(pdf_error)?
        } else {
            let profile = profile_of(&row);
            escpos::encode(&layout::test_page(&row.name, profile), profile)
        };
        let id = self.queue_job(Job::new(&row.name, "test", None, None, payload))?;
        self.print_job_view(&id)
    }

    // ---- receipts ----------------------------------------------------------------------------

    fn stored_receipt(&self, order: &str) -> AppResult<StoredReceipt> {
        pos_store::printing::stored_receipt(self.store.conn(), order)?
            .ok_or_else(|| AppError::not_found(format!("no order or receipt {order:?}")))
    }

    fn setting_lines(&self, name: &str) -> AppResult<Vec<String>> {
        Ok(pos_store::security::setting(self.store.conn(), name)?
            .map(|s| s.lines().map(str::to_owned).filter(|l| !l.trim().is_empty()).collect())
            .unwrap_or_default())
    }

    /// What the receipt of a stored order says.
    fn receipt_doc(&self, r: &StoredReceipt, copy: Option<u32>) -> AppResult<ReceiptDoc> {
        let currency = Currency::from_code(&r.currency).unwrap_or(self.venue.currency);
        let fmt = |v: i64| format_minor(v, currency);
        let signed = |v: i64| if v > 0 { format!("+{}", fmt(v)) } else { fmt(v) };
        let at = r
            .paid_at
            .or(r.voided_at)
            .map_or_else(|| self.clock.now(), |t| Timestamp::from_microsecond(t).unwrap_or_default());
        let local = self.venue.day.local(at);
        let issued_at = local.strftime("%Y-%m-%d %H:%M").to_string();
        let receipt_no = r.receipt_no.unwrap_or(0);
        let audit_hash = r.audit_hash.clone().unwrap_or_default();
        let mut footer = self.setting_lines(RECEIPT_FOOTER_SETTING)?;
        if footer.is_empty() {
            footer.push("Thank you for your visit".into());
        }
        Ok(ReceiptDoc {
            kind: if r.status == "voided" { ReceiptKind::Void } else { ReceiptKind::Sale },
            venue: VenueHeader { name: self.venue.name.clone(), lines: self.setting_lines(RECEIPT_HEADER_SETTING)? },
            receipt_no,
            original_receipt_no: None,
            issued_at,
            cashier: r.cashier.clone(),
            currency: r.currency.clone(),
            lines: r
                .lines
                .iter()
                .map(|l| DocLine {
                    quantity: Quantity::from_milli(l.qty).to_string(),
                    name: l.name.clone(),
                    unit_price: fmt(l.unit_price),
                    amount: fmt(l.amount),
                    discount: (l.discount != 0).then(|| format!("-{}", fmt(l.discount))),
                    tax_code: l.tax_codes.clone(),
                })
                .collect(),
            subtotal: fmt(r.subtotal),
            discount_total: (r.discount_total != 0).then(|| format!("-{}", fmt(r.discount_total))),
            taxes: r
                .taxes
                .iter()
                .map(|t| DocTax {
                    code: t.code.clone(),
                    rate: format_rate(t.rate_ppm),
                    base: fmt(t.base),
                    tax: fmt(t.tax),
                })
                .collect(),
            tax_total: fmt(r.tax_total),
            total: fmt(r.total),
            rounding: (r.rounding != 0).then(|| signed(r.rounding)),
            tenders: r
                .payments
                .iter()
                .map(|p| match p.kind.as_str() {
                    "card" => DocTender {
                        label: "Card".into(),
                        amount: fmt(p.amount),
                        detail: Some(format!(
                            "{} ****{} auth {}",
                            p.card_scheme.as_deref().unwrap_or("CARD"),
                            p.card_last4.as_deref().unwrap_or("????"),
                            p.auth_code.as_deref().unwrap_or("-")
                        )),
                    },
                    _ => DocTender { label: "Cash".into(), amount: fmt(p.tendered), detail: None },
                })
                .collect(),
            change_due: (r.change_due != 0).then(|| fmt(r.change_due)),
            void_reason: r.void_reason.clone(),
            copy,
            qr_payload: qr_payload(
                receipt_no,
                &fmt(r.total),
                &r.currency,
                &local.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
                &audit_hash,
            ),
            audit_hash,
            footer,
        })
    }

    fn encode_for(&self, doc: &ReceiptDoc, printer: &PrinterRow) -> AppResult<Vec<u8>> {
        if connection_of(printer)?.prints_pdf() {
            pos_pdf::receipt_pdf(doc, pos_pdf::Paper::A4).map_err(pdf_error)
        } else {
            let profile = profile_of(printer);
            Ok(escpos::encode(&layout::receipt(doc, profile), profile))
        }
    }

    /// Writes jobs to the queue, all in one transaction. Returns their ids.
    fn insert_jobs(&mut self, jobs: &[Job]) -> AppResult<Vec<String>> {
        if jobs.is_empty() {
            return Ok(vec![]);
        }
        let at = self.clock.now().as_microsecond();
        let ids: Vec<String> = jobs.iter().map(|_| uuid::Uuid::now_v7().to_string()).collect();
        let tx = self.store.write()?;
        for (id, j) in ids.iter().zip(jobs) {
            pos_store::printing::insert_print_job(
                &tx,
                &NewPrintJob {
                    id,
                    printer: &j.printer,
                    kind: j.kind,
                    order_uuid: j.order.as_ref().map(|o| o.0.as_str()),
                    receipt_no: j.order.as_ref().map(|o| o.1),
                    copy: None,
                    reason: j.reason.as_deref(),
                    payload: &j.payload,
                    at,
                },
            )?;
        }
        tx.commit().map_err(pos_store::StoreError::from)?;
        Ok(ids)
    }

    fn queue_job(&mut self, job: Job) -> AppResult<String> {
        Ok(self.insert_jobs(std::slice::from_ref(&job))?.remove(0))
    }

    /// After a sale has committed: the drawer pulse (cash taken), the receipt, and a ticket for
    /// each kitchen printer whose categories the order has, queued together. Returns the job ids.
    pub(crate) fn queue_sale_prints(&mut self, order_id: &str, cash: bool) -> AppResult<Vec<String>> {
        let printers = self.printer_rows()?;
        if printers.is_empty() {
            return Ok(vec![]);
        }
        let stored = self.stored_receipt(order_id)?;
        let receipt_no = stored.receipt_no.unwrap_or(0);
        let doc = self.receipt_doc(&stored, None)?;
        let order = Some((order_id.to_owned(), receipt_no));
        let mut jobs = Vec::new();
        if cash && let Some(job) = self.drawer_job(&format!("cash sale, receipt {receipt_no}"))? {
            jobs.push(job);
        }
        if let Some(printer) = printers.iter().find(|p| p.role == "receipt") {
            let payload = self.encode_for(&doc, printer)?;
            jobs.push(Job::new(&printer.name, "receipt", order.clone(), None, payload));
        }
        for printer in printers.iter().filter(|p| p.role == "kitchen") {
            let wanted: Vec<String> = serde_json::from_str(&printer.categories).unwrap_or_default();
            let items: Vec<TicketItem> = stored
                .lines
                .iter()
                .filter(|l| wanted.iter().any(|c| c.eq_ignore_ascii_case(&l.category)))
                .map(|l| TicketItem { quantity: Quantity::from_milli(l.qty).to_string(), name: l.name.clone() })
                .collect();
            if items.is_empty() {
                continue;
            }
            let ticket = TicketDoc {
                station: printer.name.clone(),
                receipt_no,
                issued_at: doc.issued_at.clone(),
                cashier: stored.cashier.clone(),
                items,
            };
            let profile = profile_of(printer);
            let payload = escpos::encode(&layout::ticket(&ticket, profile), profile);
            jobs.push(Job::new(&printer.name, "ticket", order.clone(), None, payload));
        }
        self.insert_jobs(&jobs)
    }

    /// After a paid order was voided: a receipt marked VOID with the reason.
    pub(crate) fn queue_void_receipt(&mut self, order_id: &str, audit_hash: &str) -> AppResult<Option<String>> {
        let Some(printer) = self.receipt_printer(None)? else { return Ok(None) };
        let stored = self.stored_receipt(order_id)?;
        let mut doc = self.receipt_doc(&stored, None)?;
        // The void's own audit entry, not the sale's, is what this receipt proves.
        doc.audit_hash = audit_hash.to_owned();
        let voided_at = self.venue.day.local(
            stored.voided_at.and_then(|t| Timestamp::from_microsecond(t).ok()).unwrap_or_else(|| self.clock.now()),
        );
        doc.issued_at = voided_at.strftime("%Y-%m-%d %H:%M").to_string();
        doc.qr_payload = qr_payload(
            doc.receipt_no,
            &doc.total,
            &doc.currency,
            &voided_at.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            audit_hash,
        );
        let payload = self.encode_for(&doc, &printer)?;
        let order = Some((order_id.to_owned(), stored.receipt_no.unwrap_or(0)));
        self.queue_job(Job::new(&printer.name, "receipt", order, Some("void"), payload)).map(Some)
    }

    /// After a refund: a receipt marked REFUND, with the lines and tenders paid back.
    pub(crate) fn queue_refund_receipt(&mut self, refund: &crate::views::RefundReceipt) -> AppResult<Option<String>> {
        let Some(printer) = self.receipt_printer(None)? else { return Ok(None) };
        let stored = self.stored_receipt(&refund.order_id)?;
        let mut doc = self.receipt_doc(&stored, None)?;
        let currency = self.venue.currency;
        let neg = |m: pos_core::money::Money| format_minor(-m.minor(), currency);
        doc.kind = ReceiptKind::Refund;
        doc.receipt_no = refund.receipt_no;
        doc.original_receipt_no = refund.original_receipt_no;
        doc.issued_at = refund.at.get(..16).unwrap_or(&refund.at).replace('T', " ");
        doc.lines = refund
            .lines
            .iter()
            .map(|l| {
                let original = stored.lines.get(l.line_no as usize - 1);
                DocLine {
                    quantity: l.quantity.to_string(),
                    name: original.map_or_else(|| format!("line {}", l.line_no), |o| o.name.clone()),
                    unit_price: original.map_or_else(String::new, |o| format_minor(o.unit_price, currency)),
                    amount: neg(l.amount),
                    discount: None,
                    tax_code: original.map_or_else(String::new, |o| o.tax_codes.clone()),
                }
            })
            .collect();
        doc.subtotal = neg(refund.total);
        doc.discount_total = None;
        doc.taxes = vec![];
        doc.tax_total = neg(refund.tax_total);
        doc.total = neg(refund.total);
        doc.rounding = (refund.rounding.minor() != 0).then(|| neg(refund.rounding));
        doc.tenders = refund
            .payouts
            .iter()
            .map(|p| DocTender {
                label: if p.kind == "card" { "Card".into() } else { "Cash".into() },
                amount: neg(p.amount),
                detail: None,
            })
            .collect();
        doc.change_due = None;
        doc.audit_hash = refund.audit_hash.clone();
        doc.qr_payload = qr_payload(refund.receipt_no, &doc.total, &doc.currency, &refund.at, &refund.audit_hash);
        let payload = self.encode_for(&doc, &printer)?;
        let mut jobs = Vec::new();
        if refund.payouts.iter().any(|p| p.kind == "cash")
            && let Some(job) = self.drawer_job(&format!("cash refund, receipt {}", refund.receipt_no))?
        {
            jobs.push(job);
        }
        let order = Some((refund.refund_id.clone(), refund.receipt_no));
        jobs.push(Job::new(&printer.name, "receipt", order, Some("refund"), payload));
        Ok(self.insert_jobs(&jobs)?.pop())
    }

    /// A drawer pulse on the receipt printer that has the drawer, if there is one.
    fn drawer_job(&self, reason: &str) -> AppResult<Option<Job>> {
        let Some(printer) = self.printer_rows()?.into_iter().find(|p| p.role == "receipt" && p.drawer_pin.is_some())
        else {
            return Ok(None);
        };
        let pin = printer.drawer_pin.and_then(|n| DrawerPin::from_number(n as u8)).unwrap_or(DrawerPin::Pin2);
        Ok(Some(Job::new(&printer.name, "drawer", None, Some(reason), escpos::drawer_kick(pin))))
    }

    /// Queues a drawer pulse (no-sale, paid-in/out), if a printer has the drawer.
    pub(crate) fn queue_drawer(&mut self, reason: &str) -> AppResult<Option<String>> {
        match self.drawer_job(reason)? {
            Some(job) => self.queue_job(job).map(Some),
            None => Ok(None),
        }
    }

    /// Prints a receipt again (or for the first time, if it never was): a reprint is marked
    /// COPY n and audited.
    pub fn print_receipt(&mut self, session: &Session, order: &str, printer: Option<&str>) -> AppResult<PrintJobView> {
        let actor = self.authorize(session, Some(Permission::Sell), "receipt_printed")?;
        let stored = self.stored_receipt(order)?;
        let printer = self
            .receipt_printer(printer)?
            .ok_or_else(|| AppError::new(ErrorCode::NotFound, "no receipt printer is set up: posctl printer add"))?;
        let earlier = pos_store::printing::receipt_jobs_for_order(self.store.conn(), &stored.uuid)?;
        let copy = (earlier > 0).then_some(earlier);
        let doc = self.receipt_doc(&stored, copy.map(|c| c as u32))?;
        let payload = self.encode_for(&doc, &printer)?;
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.clock.now();
        let offset = self.offset(now);
        let receipt_no = stored.receipt_no.unwrap_or(0);
        let tx = self.store.write()?;
        pos_store::printing::insert_print_job(
            &tx,
            &NewPrintJob {
                id: &id,
                printer: &printer.name,
                kind: "receipt",
                order_uuid: Some(&stored.uuid),
                receipt_no: stored.receipt_no,
                copy,
                reason: None,
                payload: &payload,
                at: now.as_microsecond(),
            },
        )?;
        let ev = Event::new(if copy.is_some() { "receipt_reprinted" } else { "receipt_printed" }, "ok")
            .actor(actor.id, &actor.name)
            .subject("order", stored.uuid.clone())
            .subject("receipt", receipt_no)
            .detail("printer", printer.name.clone())
            .detail("copy", copy.unwrap_or(0));
        self.auditor.commit(tx, now, &offset, ev, None)?;
        self.print_job_view(&id)
    }

    /// A receipt as it would print, without printing it: ESC/POS bytes (for the printer's
    /// profile, or 42 columns in PC858), a PDF, or the text the paper would show.
    pub fn render_receipt(
        &mut self,
        session: &Session,
        order: &str,
        format: RenderFormat,
        printer: Option<&str>,
    ) -> AppResult<Vec<u8>> {
        self.authorize(session, Some(Permission::Sell), "receipt_render")?;
        let stored = self.stored_receipt(order)?;
        let doc = self.receipt_doc(&stored, None)?;
        let profile = match printer {
            Some(n) => profile_of(&self.printer_row(n)?),
            None => self.receipt_printer(None)?.as_ref().map_or_else(Profile::default, profile_of),
        };
        Ok(match format {
            RenderFormat::Escpos => escpos::encode(&layout::receipt(&doc, profile), profile),
            RenderFormat::Text => layout::render_text(&layout::receipt(&doc, profile), profile).into_bytes(),
            RenderFormat::Pdf => pos_pdf::receipt_pdf(&doc, pos_pdf::Paper::A4).map_err(pdf_error)?,
        })
    }

    // ---- shift reports -----------------------------------------------------------------------

    /// The X report of the open shift (`shift_id` `None`) or the Z report of the closed shift
    /// `shift_id`, through [`Register::x_report`] and [`Register::z_report`] and their checks.
    fn x_or_z_report(&mut self, session: &Session, shift_id: Option<&str>) -> AppResult<ShiftReport> {
        match shift_id {
            None => self.x_report(session),
            Some(id) => self.z_report(session, Some(id)),
        }
    }

    /// Prints the X report of the open shift (`shift_id` `None`) or the Z report of the closed
    /// shift `shift_id` on the receipt printer: queued as a `report` job, and audited as
    /// `report_printed` in the same transaction.
    pub fn print_shift_report(&mut self, session: &Session, shift_id: Option<&str>) -> AppResult<PrintJobView> {
        let report = self.x_or_z_report(session, shift_id)?;
        // The report's own method checked the permission; this only names who prints it.
        let actor = self.authorize(session, None, "report_printed")?;
        let printer = self
            .receipt_printer(None)?
            .ok_or_else(|| AppError::new(ErrorCode::NotFound, "no receipt printer is set up: posctl printer add"))?;
        let payload = if connection_of(&printer)?.prints_pdf() {
            pos_pdf::shift_report_pdf(&report, pos_pdf::Paper::A4).map_err(pdf_error)?
        } else {
            let profile = profile_of(&printer);
            escpos::encode(&layout::shift_report(&report, profile), profile)
        };
        let (kind, reason) = match report.report {
            ShiftReportKind::X => ("x", "X report"),
            ShiftReportKind::Z => ("z", "Z report"),
        };
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        pos_store::printing::insert_print_job(
            &tx,
            &NewPrintJob {
                id: &id,
                printer: &printer.name,
                kind: "report",
                order_uuid: None,
                receipt_no: None,
                copy: None,
                reason: Some(reason),
                payload: &payload,
                at: now.as_microsecond(),
            },
        )?;
        let ev = Event::new("report_printed", "ok")
            .actor(actor.id, &actor.name)
            .subject("shift", report.shift_id.clone())
            .detail("report", kind)
            .detail("printer", printer.name.clone());
        self.auditor.commit(tx, now, &offset, ev, None)?;
        self.print_job_view(&id)
    }

    /// The X report of the open shift (`shift_id` `None`) or the Z report of the closed shift
    /// `shift_id`, as a PDF on `paper`.
    pub fn shift_report_pdf(
        &mut self,
        session: &Session,
        shift_id: Option<&str>,
        paper: pos_pdf::Paper,
    ) -> AppResult<Vec<u8>> {
        let report = self.x_or_z_report(session, shift_id)?;
        pos_pdf::shift_report_pdf(&report, paper).map_err(pdf_error)
    }

    // ---- the queue ---------------------------------------------------------------------------

    fn job_view(&self, j: &PrintJobRow) -> PrintJobView {
        let t = |us: i64| self.local(Timestamp::from_microsecond(us).unwrap_or_default());
        PrintJobView {
            id: j.id.clone(),
            printer: j.printer.clone(),
            kind: j.kind.clone(),
            receipt_no: j.receipt_no,
            copy: j.copy,
            status: j.status.clone(),
            attempts: j.attempts,
            last_error: j.last_error.clone(),
            created_at: t(j.created_at),
            sent_at: j.sent_at.map(t),
            given_up: j.give_up,
        }
    }

    fn print_job_view(&self, id: &str) -> AppResult<PrintJobView> {
        let j = pos_store::printing::print_job(self.store.conn(), id)?
            .ok_or_else(|| AppError::not_found(format!("no print job {id}")))?;
        Ok(self.job_view(&j))
    }

    /// The most recent print jobs, newest first.
    pub fn print_jobs(&self, limit: i64) -> AppResult<Vec<PrintJobView>> {
        Ok(pos_store::printing::recent_print_jobs(self.store.conn(), limit)?.iter().map(|j| self.job_view(j)).collect())
    }

    /// Hands out the jobs that are due, oldest first, and not already with a worker. Drawer
    /// pulses that went stale are given up here (audited) instead of opening the drawer late.
    pub fn take_print_tasks(&mut self, limit: i64) -> AppResult<Vec<PrintTask>> {
        let now = self.clock.now().as_microsecond();
        let printers = self.printer_rows()?;
        let mut tasks = Vec::new();
        for job in pos_store::printing::due_print_jobs(self.store.conn(), now, limit)? {
            if self.printing.in_flight.contains(&job.id) {
                continue;
            }
            if job.kind == "drawer" && now - job.created_at > DRAWER_JOB_TTL_SECONDS * 1_000_000 {
                self.drawer_gave_up(&job, "expired before the printer could take it; the drawer was not opened")?;
                continue;
            }
            let Some(printer) = printers.iter().find(|p| p.name == job.printer) else {
                self.fail_job(&job, "the printer was removed", true)?;
                continue;
            };
            let connection = connection_of(printer)?;
            if job.kind == "drawer" {
                // A drawer pulse is claimed on disk before it is sent: no other process takes it,
                // and a crash mid-send leaves it claimed rather than firing it again.
                let tx = self.store.write()?;
                let claimed = pos_store::printing::claim_print_job(&tx, &job.id)?;
                tx.commit().map_err(pos_store::StoreError::from)?;
                if !claimed {
                    continue;
                }
            }
            self.printing.in_flight.insert(job.id.clone());
            tasks.push(PrintTask {
                job_id: job.id,
                printer: job.printer,
                kind: job.kind,
                connection,
                payload: job.payload,
            });
        }
        Ok(tasks)
    }

    fn fail_job(&mut self, job: &PrintJobRow, error: &str, give_up: bool) -> AppResult<()> {
        let now = self.clock.now();
        let next = now.as_microsecond() + backoff_seconds(job.attempts) * 1_000_000;
        let give_up = give_up || job.attempts + 1 >= MAX_ATTEMPTS;
        let tx = self.store.write()?;
        pos_store::printing::mark_print_job_failed(&tx, &job.id, error, next, give_up)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        Ok(())
    }

    fn drawer_gave_up(&mut self, job: &PrintJobRow, error: &str) -> AppResult<()> {
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        pos_store::printing::mark_print_job_failed(&tx, &job.id, error, now.as_microsecond(), true)?;
        let ev = Event::new("drawer_pulse", "failed")
            .subject("printer", job.printer.clone())
            .subject("print_job", job.id.clone())
            .reason(job.reason.as_deref().unwrap_or(""))
            .detail("error", error);
        self.auditor.commit(tx, now, &offset, ev, None)?;
        Ok(())
    }

    /// Records what became of a task. A job is marked sent only when the printer took it and
    /// reported no fault; a drawer pulse is audited when sent, and never retried once it may
    /// have reached the drawer.
    pub fn finish_print_task(
        &mut self,
        task: &PrintTask,
        result: &Result<Delivery, TransportError>,
    ) -> AppResult<PrintJobView> {
        self.printing.in_flight.remove(&task.job_id);
        let job = pos_store::printing::print_job(self.store.conn(), &task.job_id)?
            .ok_or_else(|| AppError::not_found(format!("no print job {}", task.job_id)))?;
        match (result, job.kind.as_str()) {
            (Ok(_), "drawer") => {
                let now = self.clock.now();
                let offset = self.offset(now);
                let tx = self.store.write()?;
                pos_store::printing::mark_print_job_sent(&tx, &job.id, now.as_microsecond())?;
                let ev = Event::new("drawer_pulse", "ok")
                    .subject("printer", job.printer.clone())
                    .subject("print_job", job.id.clone())
                    .reason(job.reason.as_deref().unwrap_or(""));
                self.auditor.commit(tx, now, &offset, ev, None)?;
            }
            (Ok(_), _) => {
                let tx = self.store.write()?;
                pos_store::printing::mark_print_job_sent(&tx, &job.id, self.clock.now().as_microsecond())?;
                tx.commit().map_err(pos_store::StoreError::from)?;
            }
            (Err(e), "drawer") if e.maybe_delivered() => {
                self.drawer_gave_up(&job, &format!("{e}; not retried so the drawer cannot open twice"))?;
            }
            (Err(e), _) => self.fail_job(&job, &e.to_string(), false)?,
        }
        self.print_job_view(&job.id)
    }

    /// Sends every due job now, one after the other (posctl and tests; the app runs a worker).
    pub fn run_print_queue(&mut self, timeouts: &Timeouts) -> AppResult<Vec<PrintJobView>> {
        let tasks = self.take_print_tasks(100)?;
        let mut done = Vec::with_capacity(tasks.len());
        for task in tasks {
            let result = task.deliver(timeouts);
            done.push(self.finish_print_task(&task, &result)?);
        }
        Ok(done)
    }
}

fn pdf_error(e: pos_pdf::PdfError) -> AppError {
    AppError::new(ErrorCode::Internal, format!("PDF: {e}"))
}
