//! Printing from the register through virtual printers on 127.0.0.1: the sale commits first and
//! is never blocked or lost by a printer; jobs wait in the store and print when the printer is
//! back; drawer pulses are audited and never sent late or twice; reprints are marked COPY.

use std::time::Duration;

use jiff::SignedDuration;
use pos_app::demo::with_manager_approval;
use pos_app::pos_core::refund::RefundRequest;
use pos_app::pos_print::layout::DrawerPin;
use pos_app::pos_print::status::PrinterStatus;
use pos_app::pos_print::testing::{Behaviour, TcpPrinter, dead_port};
use pos_app::pos_print::transport::Timeouts;
use pos_app::{ErrorCode, NewPrinter, OrderRef, RenderFormat, Session};

use crate::support::*;

fn quick() -> Timeouts {
    Timeouts { connect: Duration::from_millis(500), io: Duration::from_secs(2), status: Duration::from_millis(500) }
}

fn receipt_printer(uri: &str) -> NewPrinter {
    NewPrinter {
        name: "Counter".into(),
        connection: uri.into(),
        columns: 42,
        code_page: "pc858".into(),
        role: "receipt".into(),
        categories: vec![],
        drawer_pin: Some(2),
    }
}

fn bar_printer(uri: &str) -> NewPrinter {
    NewPrinter {
        name: "Bar".into(),
        connection: uri.into(),
        columns: 32,
        code_page: "pc858".into(),
        role: "kitchen".into(),
        categories: vec!["Hot drinks".into()],
        drawer_pin: None,
    }
}

/// The demo café with a receipt printer (drawer on pin 2) at `uri`, and a cashier on shift.
fn till(uri: &str) -> (Fixture, Session) {
    let (mut f, office) = demo_with_back_office();
    f.reg.add_printer(&office, &receipt_printer(uri)).expect("add printer");
    let jonas = cashier(&mut f.reg);
    f.reg.open_shift(&jonas, eur(10_000)).expect("open shift");
    (f, jonas)
}

fn audit_actions(f: &mut Fixture) -> Vec<String> {
    let office = f.back_office();
    let export = f.reg.export_audit(&office).expect("export audit");
    export.entries.iter().map(|e| e.body.clone()).collect()
}

#[test]
fn a_cash_sale_opens_the_drawer_prints_the_receipt_and_the_bar_ticket() {
    let counter = TcpPrinter::start();
    let bar = TcpPrinter::start();
    let (mut f, jonas) = till(&counter.uri());
    let office = f.back_office();
    f.reg.add_printer(&office, &bar_printer(&bar.uri())).expect("add bar printer");
    awake(&mut f.reg, &jonas);

    let sale = sell_cash(&mut f.reg, &jonas, &[("HOT-03-0", 2), ("BAK-00", 1)]);
    assert_eq!(sale.print_jobs.len(), 3, "drawer, receipt and bar ticket: {:?}", sale.print_error);
    let done = f.reg.run_print_queue(&quick()).expect("run the queue");
    assert!(done.iter().all(|j| j.status == "sent"), "{done:?}");

    let jobs = counter.wait_for_jobs(2, Duration::from_secs(3));
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].pulses(), vec![DrawerPin::Pin2], "the drawer opens first");
    let receipt = &jobs[1];
    assert!(receipt.pulses().is_empty());
    assert!(receipt.unknown().is_empty());
    assert_eq!(receipt.code_pages(), vec![19]);
    assert_eq!(receipt.cuts(), 1);
    let text = receipt.text();
    assert!(text.contains(&format!("Receipt {}", sale.receipt_no)), "{text}");
    assert!(text.contains("2 x Cappuccino small"), "{text}");
    assert!(text.contains("Croissant"), "{text}");
    assert!(text.contains("Cashier: Jonas Weber"), "{text}");
    assert!(text.contains(&format!("Audit {}", sale.audit_hash)), "{text}");
    let qr = receipt.qr_payloads()[0].to_owned();
    assert!(qr.starts_with(&format!("pos:r={}&t=", sale.receipt_no)), "{qr}");
    assert!(qr.ends_with(&format!("&h={}", sale.audit_hash)), "{qr}");
    assert!(qr.contains(&format!("t={}EUR", sale.order.total.to_string().trim_end_matches(" EUR"))), "{qr}");

    let tickets = bar.wait_for_jobs(1, Duration::from_secs(3));
    let ticket = tickets[0].text();
    assert!(ticket.contains("2 x Cappuccino"), "{ticket}");
    assert!(!ticket.contains("Croissant"), "the bar only gets hot drinks: {ticket}");
    assert!(!ticket.contains("EUR") && !ticket.contains("Total"), "no prices on a ticket: {ticket}");

    let audit = audit_actions(&mut f);
    assert_eq!(
        audit.iter().filter(|b| b.contains(r#""action":"drawer_pulse""#) && b.contains(r#""outcome":"ok""#)).count(),
        1
    );
    let v = f.reg.verify_audit().expect("verify");
    assert!(v.ok, "{v:?}");
}

#[test]
fn a_printer_that_is_off_never_blocks_or_loses_the_sale_and_prints_when_back() {
    let port = dead_port();
    let (mut f, jonas) = till(&format!("tcp://127.0.0.1:{port}"));
    let sale = sell_cash(&mut f.reg, &jonas, &[("HOT-00-0", 1)]);
    assert!(sale.print_error.is_none());
    let done = f.reg.run_print_queue(&quick()).expect("run the queue");
    assert_eq!(done.len(), 2);
    for job in &done {
        assert_eq!(job.status, "failed");
        assert_eq!(job.attempts, 1);
        assert!(job.last_error.as_deref().unwrap_or("").contains("not reachable"), "{job:?}");
    }
    // The sale is on disk whatever the printer does.
    let day = f.reg.today();
    assert_eq!(f.reg.orders(&jonas, day, day).expect("orders").len(), 1);

    // Not retried before its back-off; then, a few minutes later, the printer is back.
    assert!(f.reg.run_print_queue(&quick()).expect("queue").is_empty());
    f.clock.advance(SignedDuration::from_mins(3));
    let printer = TcpPrinter::start_on(port);
    let done = f.reg.run_print_queue(&quick()).expect("queue");
    let receipt = done.iter().find(|j| j.kind == "receipt").expect("the receipt was retried");
    assert_eq!(receipt.status, "sent");
    assert_eq!(receipt.attempts, 2);
    // The drawer pulse went stale: the drawer must not spring open minutes after the sale.
    let drawer = f.reg.print_jobs(10).expect("jobs").into_iter().find(|j| j.kind == "drawer").expect("drawer job");
    assert!(drawer.given_up && drawer.status == "failed", "{drawer:?}");
    let jobs = printer.wait_for_jobs(1, Duration::from_secs(3));
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0].pulses().is_empty());
    assert!(jobs[0].text().contains(&format!("Receipt {}", sale.receipt_no)));
    let audit = audit_actions(&mut f);
    assert!(audit.iter().any(|b| b.contains(r#""action":"drawer_pulse""#) && b.contains(r#""outcome":"failed""#)));
}

#[test]
fn a_printer_out_of_paper_is_sent_nothing_and_the_job_waits() {
    let printer = TcpPrinter::start();
    let (mut f, jonas) = till(&printer.uri());
    printer.set_status(PrinterStatus { online: false, paper_out: true, ..PrinterStatus::default() });
    sell_card(&mut f.reg, &jonas, &[("HOT-01-0", 1)]);
    let done = f.reg.run_print_queue(&quick()).expect("queue");
    assert_eq!(done.len(), 1, "a card sale does not open the drawer");
    assert_eq!(done[0].status, "failed");
    assert_eq!(done[0].last_error.as_deref(), Some("printer reports paper out"));
    std::thread::sleep(Duration::from_millis(100));
    assert!(printer.jobs().is_empty());
    let office = f.back_office();
    let status = f.reg.printer_status(&office, "Counter").expect("status");
    assert!(status.reachable);
    assert_eq!(status.problem.as_deref(), Some("paper out"));
    assert_eq!(status.queued_jobs, 1);
    // The status bar sees the same without asking the printer.
    let bar = f.reg.status().expect("status bar");
    let counter = bar.printers.iter().find(|p| p.name == "Counter").expect("the counter printer");
    assert_eq!((counter.unsent, counter.last_error.as_deref()), (1, Some("printer reports paper out")));

    printer.set_status(PrinterStatus::ready());
    f.clock.advance(SignedDuration::from_secs(10));
    let done = f.reg.run_print_queue(&quick()).expect("queue");
    assert_eq!(done[0].status, "sent");
    let text = printer.wait_for_jobs(1, Duration::from_secs(3))[0].text();
    assert!(text.contains("VISA ****4242 auth A1B2C3"), "{text}");
    let bar = f.reg.status().expect("status bar");
    assert!(bar.printers.iter().all(|p| p.unsent == 0 && p.last_error.is_none()), "{:?}", bar.printers);
}

#[test]
fn reprints_are_marked_copy_and_audited() {
    let printer = TcpPrinter::start();
    let (mut f, jonas) = till(&printer.uri());
    let sale = sell_card(&mut f.reg, &jonas, &[("HOT-02-1", 1)]);
    f.reg.run_print_queue(&quick()).expect("queue");
    let by_number = sale.receipt_no.to_string();
    let first = f.reg.print_receipt(&jonas, &by_number, None).expect("reprint");
    assert_eq!(first.copy, Some(1));
    let second = f.reg.print_receipt(&jonas, &sale.order_id, None).expect("reprint again");
    assert_eq!(second.copy, Some(2));
    f.reg.run_print_queue(&quick()).expect("queue");
    let jobs = printer.wait_for_jobs(3, Duration::from_secs(3));
    assert!(!jobs[0].text().contains("COPY"));
    assert!(jobs[1].text().contains("*** COPY 1 ***"), "{}", jobs[1].text());
    assert!(jobs[2].text().contains("*** COPY 2 ***"));
    let audit = audit_actions(&mut f);
    assert_eq!(audit.iter().filter(|b| b.contains(r#""action":"receipt_reprinted""#)).count(), 2);
    expect_err(f.reg.print_receipt(&jonas, "999999", None), ErrorCode::NotFound);
}

#[test]
fn refund_and_void_receipts_say_so() {
    let printer = TcpPrinter::start();
    let (mut f, jonas) = till(&printer.uri());
    let sale = sell_cash(&mut f.reg, &jonas, &[("HOT-00-0", 1), ("BAK-00", 1)]);
    let request = RefundRequest::Lines(vec![(2, qty(1))]);
    let refund = with_manager_approval(&mut f.reg, &jonas, "damaged", |r| {
        r.refund(&jonas, &OrderRef::Receipt(sale.receipt_no), &request, "stale")
    })
    .expect("refund a croissant");
    let other = sell_card(&mut f.reg, &jonas, &[("HOT-01-0", 1)]);
    let target = OrderRef::Id(other.order_id.clone());
    with_manager_approval(&mut f.reg, &jonas, "entry_mistake", |r| r.void_paid_order(&jonas, &target, "wrong order"))
        .expect("void");
    f.reg.run_print_queue(&quick()).expect("queue");
    let texts: Vec<String> = printer.wait_for_jobs(6, Duration::from_secs(3)).iter().map(|d| d.text()).collect();
    let refund_text = texts.iter().find(|t| t.contains("*** REFUND ***")).expect("a refund receipt");
    assert!(refund_text.contains(&format!("Receipt {}", refund.receipt_no)), "{refund_text}");
    assert!(refund_text.contains(&format!("For receipt {}", sale.receipt_no)));
    assert!(refund_text.contains("1 x Croissant"));
    assert!(refund_text.contains(&format!("-{}", refund.total.to_string().trim_end_matches(" EUR"))), "{refund_text}");
    let void_text = texts.iter().find(|t| t.contains("*** VOID ***")).expect("a void receipt");
    assert!(void_text.contains("Reason: wrong order"), "{void_text}");
}

#[test]
fn a_slow_printer_holds_up_nobody() {
    let printer = TcpPrinter::start();
    let (mut f, jonas) = till(&printer.uri());
    sell_card(&mut f.reg, &jonas, &[("HOT-00-0", 1)]);
    printer.set_behaviour(Behaviour::Slow(Duration::from_millis(1500)));
    let tasks = f.reg.take_print_tasks(10).expect("tasks");
    assert_eq!(tasks.len(), 1);
    // A second worker pass does not hand out the job being printed.
    assert!(f.reg.take_print_tasks(10).expect("tasks").is_empty());
    let task = tasks[0].clone();
    let worker = std::thread::spawn(move || {
        let t = Timeouts { status: Duration::from_secs(5), ..quick() };
        let r = task.deliver(&t);
        (task, r)
    });
    // Meanwhile the cashier goes on selling.
    let next = sell_cash(&mut f.reg, &jonas, &[("HOT-01-0", 1)]);
    assert!(!worker.is_finished(), "the sale had to wait for the printer");
    assert_eq!(next.print_jobs.len(), 2);
    let (task, result) = worker.join().expect("worker");
    let view = f.reg.finish_print_task(&task, &result).expect("finish");
    assert_eq!(view.status, "sent", "{view:?}");
}

#[test]
fn a_drawer_pulse_that_may_have_fired_is_never_sent_again() {
    let printer = TcpPrinter::start();
    let (mut f, jonas) = till(&printer.uri());
    printer.set_behaviour(Behaviour::DropAfter(4));
    with_manager_approval(&mut f.reg, &jonas, "change_for_customer", |r| r.no_sale(&jonas, "change for the till"))
        .expect("no sale");
    let done = f.reg.run_print_queue(&quick()).expect("queue");
    assert_eq!(done.len(), 1);
    assert!(done[0].given_up, "{:?}", done[0]);
    printer.set_behaviour(Behaviour::Normal);
    f.clock.advance(SignedDuration::from_secs(20));
    assert!(f.reg.run_print_queue(&quick()).expect("queue").is_empty(), "the pulse was retried");
    let audit = audit_actions(&mut f);
    assert!(audit.iter().any(|b| b.contains(r#""action":"drawer_pulse""#) && b.contains("not retried")));
}

#[test]
fn receipts_render_without_hardware() {
    let (mut f, jonas) = till("file:/dev/null");
    let sale = sell_card(&mut f.reg, &jonas, &[("HOT-05-0", 1)]);
    let text =
        String::from_utf8(f.reg.render_receipt(&jonas, &sale.order_id, RenderFormat::Text, None).unwrap()).unwrap();
    assert!(text.contains("Café Latte"), "{text}");
    let bytes = f.reg.render_receipt(&jonas, &sale.order_id, RenderFormat::Escpos, None).unwrap();
    let d = pos_app::pos_print::decode::decode(&bytes);
    assert!(d.text().contains("Café Latte") && d.cuts() == 1);
    let pdf = f.reg.render_receipt(&jonas, &sale.order_id, RenderFormat::Pdf, None).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
}

#[test]
fn bad_printer_settings_are_refused_and_change_nothing() {
    let (mut f, office) = demo_with_back_office();
    let jonas = cashier(&mut f.reg);
    let mut p = receipt_printer("tcp://127.0.0.1:9100");
    expect_err(f.reg.add_printer(&jonas, &p), ErrorCode::PermissionDenied);
    for (field, bad) in [("connection", "lpt1"), ("columns", "40"), ("code_page", "utf8"), ("drawer", "3")] {
        p = receipt_printer("tcp://127.0.0.1:9100");
        match field {
            "connection" => p.connection = bad.into(),
            "columns" => p.columns = 40,
            "code_page" => p.code_page = bad.into(),
            _ => p.drawer_pin = Some(3),
        }
        expect_err(f.reg.add_printer(&office, &p), ErrorCode::InvalidInput);
    }
    let mut kitchen = bar_printer("tcp://127.0.0.1:9100");
    kitchen.categories.clear();
    expect_err(f.reg.add_printer(&office, &kitchen), ErrorCode::InvalidInput);
    assert!(f.reg.printers(&office).unwrap().is_empty());
}

#[test]
fn the_x_report_of_the_open_shift_prints_on_the_receipt_printer() {
    let printer = TcpPrinter::start();
    let (mut f, jonas) = till(&printer.uri());
    let sale = sell_cash(&mut f.reg, &jonas, &[("HOT-00-0", 2), ("BAK-00", 1)]);
    f.reg.run_print_queue(&quick()).expect("print the sale");
    printer.wait_for_jobs(2, Duration::from_secs(3));

    let mia = manager(&mut f.reg);
    let job = f.reg.print_shift_report(&mia, None).expect("print the X report");
    assert_eq!((job.kind.as_str(), job.printer.as_str(), job.status.as_str()), ("report", "Counter", "queued"));
    let done = f.reg.run_print_queue(&quick()).expect("run the queue");
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0].status, "sent");

    let jobs = printer.wait_for_jobs(3, Duration::from_secs(3));
    let report = &jobs[2];
    assert!(report.unknown().is_empty(), "{:?}", report.unknown());
    assert!(report.pulses().is_empty(), "a report does not open the drawer");
    assert_eq!(report.cuts(), 1);
    let text = report.text();
    let total = sale.order.total.to_string();
    let total = total.trim_end_matches(" EUR");
    assert!(text.contains("X REPORT"), "{text}");
    assert!(text.contains("still open"), "{text}");
    assert!(text.contains("Jonas Weber"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("Gross sales") && l.ends_with(total)), "{total}: {text}");
    assert!(text.lines().any(|l| l.starts_with("Cash sales") && l.ends_with(total)), "{total}: {text}");
    let audit = audit_actions(&mut f);
    assert_eq!(audit.iter().filter(|b| b.contains(r#""action":"report_printed""#)).count(), 1);
    let v = f.reg.verify_audit().expect("verify");
    assert!(v.ok, "{v:?}");
}

#[test]
fn the_z_report_of_a_closed_shift_prints_and_comes_as_pdf() {
    let printer = TcpPrinter::start();
    let (mut f, jonas) = till(&printer.uri());
    sell_card(&mut f.reg, &jonas, &[("HOT-01-0", 1)]);
    let z = f.reg.close_shift(&jonas, &[(10_000, 1)]).expect("close the shift");
    f.reg.run_print_queue(&quick()).expect("print the sale");
    printer.wait_for_jobs(1, Duration::from_secs(3));

    let mia = manager(&mut f.reg);
    let pdf = f.reg.shift_report_pdf(&mia, Some(&z.shift_id), pos_app::pos_pdf::Paper::A4).expect("Z report PDF");
    assert!(pdf.starts_with(b"%PDF"), "{:?}", &pdf[..pdf.len().min(16)]);
    let letter = f.reg.shift_report_pdf(&mia, Some(&z.shift_id), pos_app::pos_pdf::Paper::Letter).expect("Letter");
    assert!(letter.starts_with(b"%PDF"));

    f.reg.print_shift_report(&mia, Some(&z.shift_id)).expect("print the Z report");
    f.reg.run_print_queue(&quick()).expect("run the queue");
    let text = printer.wait_for_jobs(2, Duration::from_secs(3))[1].text();
    assert!(text.contains("Z REPORT"), "{text}");
    assert!(text.contains(&z.shift_id[..20]), "{text}");
    assert!(text.contains("signature"), "{text}");

    // No shift is open any more: there is no X report to print, and no such shift is no Z report.
    expect_err(f.reg.print_shift_report(&mia, None), ErrorCode::NoOpenShift);
    expect_err(f.reg.shift_report_pdf(&mia, Some("no-such-shift"), pos_app::pos_pdf::Paper::A4), ErrorCode::NotFound);
}

#[test]
fn shift_reports_need_the_report_permission_and_a_receipt_printer() {
    let printer = TcpPrinter::start();
    let (mut f, jonas) = till(&printer.uri());
    sell_cash(&mut f.reg, &jonas, &[("HOT-00-0", 1)]);
    // A cashier may not see reports, printed or as PDF; nothing is queued.
    expect_err(f.reg.print_shift_report(&jonas, None), ErrorCode::PermissionDenied);
    expect_err(f.reg.shift_report_pdf(&jonas, None, pos_app::pos_pdf::Paper::A4), ErrorCode::PermissionDenied);
    assert!(f.reg.print_jobs(20).expect("jobs").iter().all(|j| j.kind != "report"));
    let audit = audit_actions(&mut f);
    assert!(audit.iter().any(|b| b.contains(r#""action":"permission_denied""#) && b.contains("view_reports")));

    // Without a receipt printer there is nothing to print on; the PDF still comes.
    let office = f.back_office();
    f.reg.remove_printer(&office, "Counter").expect("remove the printer");
    let mia = manager(&mut f.reg);
    let msg = expect_err(f.reg.print_shift_report(&mia, None), ErrorCode::NotFound);
    assert!(msg.contains("no receipt printer"), "{msg}");
    let pdf = f.reg.shift_report_pdf(&mia, None, pos_app::pos_pdf::Paper::A4).expect("X report PDF");
    assert!(pdf.starts_with(b"%PDF"));
}
