//! Receipts through virtual printers: bytes captured on a TCP port, a socat pseudo-terminal pair
//! and a FIFO, decoded with our own ESC/POS decoder; golden text snapshots of the layout.

use std::path::Path;
use std::time::{Duration, Instant};

use pos_print::decode::decode;
use pos_print::doc::{sample_receipt, sample_shift_report};
use pos_print::escpos::{drawer_kick, encode};
use pos_print::layout::{DrawerPin, receipt, render_text, shift_report};
use pos_print::status::PrinterStatus;
use pos_print::testing::{Behaviour, SerialPrinter, TcpPrinter};
use pos_print::transport::{Connection, Timeouts, TransportError, deliver, query_status};
use pos_print::{CodePage, Profile};

fn quick() -> Timeouts {
    Timeouts { connect: Duration::from_millis(500), io: Duration::from_secs(2), status: Duration::from_millis(400) }
}

fn sample_bytes(profile: Profile) -> Vec<u8> {
    encode(&receipt(&sample_receipt(), profile), profile)
}

#[test]
fn golden_text_snapshots() {
    let cases = [
        (32, CodePage::Pc858),
        (42, CodePage::Pc858),
        (48, CodePage::Pc858),
        (42, CodePage::Pc866),
        (42, CodePage::Pc857),
        (42, CodePage::Pc437),
    ];
    for (columns, page) in cases {
        let profile = Profile::new(columns, page).unwrap();
        let text = render_text(&receipt(&sample_receipt(), profile), profile);
        check_golden(&format!("sample-{columns}-{}.txt", page.name()), &text);
    }
    for columns in [32, 48] {
        let profile = Profile::new(columns, CodePage::Pc858).unwrap();
        let text = render_text(&shift_report(&sample_shift_report(), profile), profile);
        check_golden(&format!("z-report-{columns}-pc858.txt"), &text);
    }
}

/// Compares `text` with `tests/golden/<name>`; `UPDATE_GOLDEN=1` writes it there instead.
fn check_golden(name: &str, text: &str) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&file, text).unwrap();
    }
    let want = std::fs::read_to_string(&file)
        .unwrap_or_else(|_| panic!("{} missing; run with UPDATE_GOLDEN=1", file.display()));
    assert_eq!(text, want, "{} differs from the snapshot", file.display());
}

#[test]
fn a_z_report_prints_on_a_tcp_printer() {
    let printer = TcpPrinter::start();
    let conn = Connection::parse(&printer.uri()).unwrap();
    let profile = Profile::new(32, CodePage::Pc858).unwrap();
    deliver(&conn, &encode(&shift_report(&sample_shift_report(), profile), profile), &quick()).unwrap();
    let d = &printer.wait_for_jobs(1, Duration::from_secs(2))[0];
    assert!(d.unknown().is_empty(), "{:?}", d.unknown());
    assert_eq!(d.cuts(), 1);
    let text = d.text();
    for want in ["Z REPORT", "Café Brandt", "Ayse Yilmaz", "599.80", "Variance (cash short)"] {
        assert!(text.contains(want), "{want}: {text}");
    }
}

#[test]
fn every_code_page_prints_the_names_it_can_and_transliterates_the_rest() {
    for page in CodePage::ALL {
        let profile = Profile::new(48, page).unwrap();
        let d = decode(&sample_bytes(profile));
        assert!(d.unknown().is_empty(), "{page:?}: {:?}", d.unknown());
        assert_eq!(d.code_pages(), vec![page.esc_t()]);
        let text = d.text();
        // What was decoded is exactly what the page could print of each name.
        for name in ["Crème brûlée", "Пирожок с капустой", "ığüşöç", "Weißbier"] {
            assert!(text.contains(&page.fit(name)), "{page:?} lost {name}: {text}");
        }
    }
    let text = |p| decode(&sample_bytes(Profile::new(48, p).unwrap())).text();
    assert!(text(CodePage::Pc858).contains("€-Edition") && text(CodePage::Pc858).contains("Crème brûlée"));
    assert!(text(CodePage::Pc437).contains("EUR-Edition"));
    assert!(text(CodePage::Pc866).contains("Пирожок с капустой"));
    assert!(text(CodePage::Pc857).contains("ığüşöç"));
    assert!(text(CodePage::Pc858).contains("Pirozhok s kapustoi"));
}

#[test]
fn catalog_text_cannot_inject_printer_commands() {
    let mut doc = sample_receipt();
    doc.lines[0].name = "Tea\x1bp\x00\x19\u{fa}\x1dVA\x00\x10\x04\x01 \u{202e}evil".into();
    doc.footer = vec!["\x1b@\x1dV\x41\x03bye".into()];
    let profile = Profile::default();
    let d = decode(&encode(&receipt(&doc, profile), profile));
    assert!(d.unknown().is_empty(), "{:?}", d.unknown());
    assert!(d.pulses().is_empty());
    assert_eq!(d.cuts(), 1);
    assert!(d.text().contains("2 x TeapúVA evil"), "{}", d.text());
}

#[test]
fn tcp_printer_receives_the_whole_receipt() {
    let printer = TcpPrinter::start();
    let conn = Connection::parse(&printer.uri()).unwrap();
    let profile = Profile::default();
    let delivered = deliver(&conn, &sample_bytes(profile), &quick()).unwrap();
    assert_eq!(delivered.status, Some(PrinterStatus::ready()));
    let jobs = printer.wait_for_jobs(1, Duration::from_secs(2));
    let d = &jobs[0];
    assert_eq!(d.code_pages(), vec![19]);
    assert_eq!(d.qr_payloads(), vec![sample_receipt().qr_payload.as_str()]);
    assert_eq!(d.cuts(), 1);
    assert!(d.text().contains("Receipt 1042"));
    assert!(d.text().contains("VISA ****4242 auth 123456"));
    assert_eq!(query_status(&conn, &quick()).unwrap(), Some(PrinterStatus::ready()));
}

#[test]
fn tcp_printer_out_of_paper_gets_nothing_and_says_why() {
    let printer = TcpPrinter::start();
    printer.set_status(PrinterStatus { online: false, paper_out: true, ..PrinterStatus::default() });
    let conn = Connection::parse(&printer.uri()).unwrap();
    let err = deliver(&conn, &sample_bytes(Profile::default()), &quick()).unwrap_err();
    assert!(matches!(err, TransportError::Fault(ref f, _) if f == "paper out"), "{err}");
    assert!(!err.maybe_delivered());
    std::thread::sleep(Duration::from_millis(100));
    assert!(printer.jobs().is_empty(), "a printer reporting a fault was sent the job");
    let cover = PrinterStatus { online: false, cover_open: true, ..PrinterStatus::default() };
    printer.set_status(cover);
    assert_eq!(query_status(&conn, &quick()).unwrap().unwrap().fault().as_deref(), Some("cover open"));
}

#[test]
fn tcp_printer_that_faults_during_the_job_is_not_reported_printed() {
    let printer = TcpPrinter::start();
    let conn = Connection::parse(&printer.uri()).unwrap();
    // The printer drops the connection after 200 bytes: part of the job may be on paper.
    let bytes = sample_bytes(Profile::default());
    let t = quick();
    printer.set_behaviour(Behaviour::DropAfter(200));
    let err = deliver(&conn, &bytes, &t).unwrap_err();
    assert!(err.maybe_delivered(), "{err}");
    assert_eq!(printer.jobs()[0].len(), 200);
}

#[test]
fn nobody_listening_fails_fast() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let conn = Connection::parse(&format!("tcp://127.0.0.1:{port}")).unwrap();
    let started = Instant::now();
    let err = deliver(&conn, b"x", &quick()).unwrap_err();
    assert!(matches!(err, TransportError::Unreachable(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_printer_without_status_still_prints_and_a_slow_one_is_waited_for_within_bounds() {
    let printer = TcpPrinter::start();
    printer.set_behaviour(Behaviour::Mute);
    let conn = Connection::parse(&printer.uri()).unwrap();
    assert_eq!(deliver(&conn, &sample_bytes(Profile::default()), &quick()).unwrap().status, None);
    printer.set_behaviour(Behaviour::Slow(Duration::from_millis(300)));
    let started = Instant::now();
    let result = deliver(&conn, &sample_bytes(Profile::default()), &quick());
    // Slow status answers run into the status timeout: never longer than the bounds allow.
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    if let Err(e) = result {
        assert!(!matches!(e, TransportError::Fault(..)), "{e}");
    }
}

#[test]
fn drawer_pulse_on_pin_2_and_pin_5() {
    for pin in [DrawerPin::Pin2, DrawerPin::Pin5] {
        let d = decode(&drawer_kick(pin));
        assert_eq!(d.pulses(), vec![pin]);
        assert!(d.events.iter().any(|e| matches!(e, pos_print::decode::Event::Pulse { on_ms: 50, off_ms: 500, .. })));
    }
}

#[test]
fn serial_printer_on_a_pty_pair() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut printer) = SerialPrinter::start(dir.path()) else {
        panic!("socat is needed for the serial printer test (cargo xtask setup installs it)");
    };
    let conn = Connection::parse(&printer.uri()).unwrap();
    let bytes = sample_bytes(Profile::new(32, CodePage::Pc858).unwrap());
    let delivered = deliver(&conn, &bytes, &quick()).unwrap();
    assert_eq!(delivered.status, Some(PrinterStatus::ready()));
    let d = printer.wait_for_bytes(bytes.len(), Duration::from_secs(3));
    assert_eq!(printer.captured(), bytes);
    assert!(d.text().contains("Crème brûlée"));

    printer.set_status(PrinterStatus { online: true, cover_open: true, ..PrinterStatus::default() });
    assert!(matches!(deliver(&conn, &bytes, &quick()), Err(TransportError::Fault(..))));

    // Switched off at the end of the cable: no status answer, so nothing is reported printed.
    printer.power_off();
    let err = deliver(&conn, &bytes, &quick()).unwrap_err();
    assert!(matches!(err, TransportError::Unreachable(ref m) if m.contains("no answer")), "{err}");
}

#[test]
fn usb_line_printer_stand_ins_a_fifo_and_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("lp0");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let conn = Connection::parse(&format!("usb:{}", fifo.display())).unwrap();
    // Nothing reading: the printer is off or unplugged.
    let err = deliver(&conn, b"x", &quick()).unwrap_err();
    assert!(matches!(err, TransportError::Unreachable(ref m) if m.contains("unplugged")), "{err}");

    let reader = std::thread::spawn({
        let fifo = fifo.clone();
        move || std::fs::read(fifo).unwrap()
    });
    let bytes = sample_bytes(Profile::default());
    let mut delivered = None;
    for _ in 0..100 {
        match deliver(&conn, &bytes, &quick()) {
            Ok(d) => {
                delivered = Some(d);
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    assert_eq!(delivered.unwrap().status, None);
    assert_eq!(reader.join().unwrap(), bytes);

    let file = dir.path().join("out.bin");
    let conn = Connection::parse(&format!("file:{}", file.display())).unwrap();
    deliver(&conn, &bytes, &quick()).unwrap();
    deliver(&conn, &drawer_kick(DrawerPin::Pin2), &quick()).unwrap();
    let d = decode(&std::fs::read(&file).unwrap());
    assert_eq!(d.cuts(), 1);
    assert_eq!(d.pulses(), vec![DrawerPin::Pin2]);
}
