//! `posctl`: the register's command line. Every subcommand parses its arguments, makes one façade
//! call and prints the result as JSON (or CSV where asked). See docs/cli.md.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use jiff::civil::Date;
use pos_app::demo::{self, Traffic};
use pos_app::{
    AppError, CatalogRow, CloudSync, Enrolment, ErrorCode, ManualClock, OsCredentialStore, PaymentsScope, Register,
    Session, StaffAccess, SystemClock,
};
use serde::Serialize;

mod text;

#[derive(Parser)]
#[command(name = "posctl", version, about = "Point-of-sale register: store, demo data, reports and exports")]
struct Cli {
    /// The register's data directory (holds the encrypted database).
    #[arg(long, env = "POS_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// The staff member acting (their id from `init` or `staff list`). Commands that read reports
    /// or change data sign in as them: the PIN is read from standard input (first line), and for
    /// back-office commands a current authenticator code too (second line). Never an argument.
    #[arg(long, env = "POS_STAFF", global = true)]
    staff: Option<i64>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new encrypted store. Prints the recovery secret once.
    Init {
        /// Fill it with the demo café: venue, staff, catalog.
        #[arg(long)]
        demo: bool,
    },
    /// Restore the database key into the credential store from the recovery secret (read from stdin).
    Recover,
    /// Simulated traffic through the register's own code path.
    DemoSales {
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Spread the sales over this many business days, ending yesterday.
        #[arg(long, default_value_t = 1)]
        days: u32,
        /// Print one JSON line per sale as soon as it is durable.
        #[arg(long)]
        progress: bool,
    },
    /// Reports: X, Z, daily summary, item mix, payment reconciliation, tax.
    Report {
        kind: ReportKind,
        /// Business day (default: today).
        #[arg(long, conflicts_with = "shift")]
        date: Option<Date>,
        /// Shift id (X and Z: default the open or last closed shift).
        #[arg(long)]
        shift: Option<String>,
        /// Last business day of a range (item-mix, tax); --date is the first.
        #[arg(long)]
        to: Option<Date>,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Exports.
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// Catalog maintenance.
    Catalog {
        #[command(subcommand)]
        what: CatalogCmd,
    },
    /// Health: credential store, cipher integrity, schema version, outbox depth.
    Doctor,
    /// Orders of a range of business days (any staff member who sells).
    Orders {
        #[arg(long)]
        from: Date,
        #[arg(long)]
        to: Date,
    },
    /// The tamper-evident audit chain.
    Audit {
        #[command(subcommand)]
        what: AuditCmd,
    },
    /// Staff: list, add, unlock, authenticator enrolment.
    Staff {
        #[command(subcommand)]
        what: StaffCmd,
    },
    /// Business days: close one, or re-open a closed one (back office).
    Day {
        #[command(subcommand)]
        what: DayCmd,
    },
    /// Printers attached to this register: list, add (back office), test page, status.
    Printer {
        #[command(subcommand)]
        what: PrinterCmd,
    },
    /// Receipts: print (a reprint is marked COPY), or render without hardware.
    Receipt {
        #[command(subcommand)]
        what: ReceiptCmd,
    },
    /// Cloud sync: enrol this register, sync now, show where it stands.
    Sync {
        #[command(subcommand)]
        what: SyncCmd,
    },
}

#[derive(Subcommand)]
enum SyncCmd {
    /// Enrol this register with the cloud service (the owner, back office: PIN and authenticator
    /// code). The one-time code is read from standard input (third line) unless --code gives it.
    Enroll {
        /// The service's address: https://… (plain http:// only on this machine).
        #[arg(long)]
        url: String,
        /// The one-time enrolment code (better: leave it out and give it on standard input).
        #[arg(long)]
        code: Option<String>,
        /// An extra trusted CA certificate (PEM) for a self-hosted service.
        #[arg(long)]
        ca_file: Option<PathBuf>,
    },
    /// Push the outbox and the audit chain, then pull catalog, staff and settings, now.
    Now,
    /// Enrolment, outbox, quarantined records, last success and last error.
    Status,
}

#[derive(Subcommand)]
enum PrinterCmd {
    /// The printers and their settings.
    List,
    /// Add or replace a printer (back office: PIN and authenticator code).
    Add {
        #[arg(long)]
        name: String,
        /// tcp://HOST[:PORT], serial:DEVICE[?baud=N], usb:/dev/usb/lpN, file:PATH or cups:QUEUE.
        #[arg(long)]
        connection: String,
        /// 32 (58 mm paper), 42 or 48 (80 mm).
        #[arg(long, default_value_t = 42)]
        columns: usize,
        #[arg(long, default_value = "pc858")]
        code_page: String,
        /// receipt, kitchen (tickets for --category) or office (PDF over CUPS).
        #[arg(long, default_value = "receipt")]
        role: String,
        /// A category whose items a kitchen printer prints; repeat for several.
        #[arg(long = "category")]
        categories: Vec<String>,
        /// The cash drawer's connector pin on this receipt printer: 2 or 5.
        #[arg(long)]
        drawer_pin: Option<u8>,
    },
    /// Print a test page now (back office).
    Test { name: String },
    /// Ask the printer for its status (paper, cover, online) and show the queue.
    Status { name: Option<String> },
    /// Send every queued job that is due (jobs also print after each sale from the app).
    Flush,
    /// The most recent print jobs.
    Jobs {
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum ReceiptCmd {
    /// Print the receipt of an order (by id or receipt number); a reprint is marked COPY n.
    Print {
        #[arg(long)]
        order: String,
        #[arg(long)]
        printer: Option<String>,
    },
    /// Write the receipt to standard output as ESC/POS bytes, a PDF or text.
    Render {
        #[arg(long)]
        order: String,
        #[arg(long, value_enum, default_value_t = RenderAs::Text)]
        format: RenderAs,
        /// Use this printer's width and code page (default: the receipt printer's, or 42 columns).
        #[arg(long)]
        printer: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RenderAs {
    Escpos,
    Pdf,
    Text,
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Check hashes, signatures and continuity. Exits non-zero naming the first bad entry.
    Verify,
    /// Write the chain (back office: PIN and authenticator code).
    Export {
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
}

#[derive(Subcommand)]
enum StaffCmd {
    /// Everyone with role, permissions and lock state (back office).
    List,
    /// Add a staff member with a role's preset permissions (back office). Their PIN is the
    /// third line of standard input.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: String,
    },
    /// Lift a PIN lock.
    Unlock { id: i64 },
    /// Enrol an authenticator app: prints the otpauth URI and secret, then reads the first code
    /// from standard input to confirm. Your own first enrolment needs only your PIN.
    EnrolTotp {
        /// Whose (default: the acting staff member).
        #[arg(long = "for")]
        for_staff: Option<i64>,
    },
}

#[derive(Subcommand)]
enum DayCmd {
    /// Close a business day: nothing more is recorded on it.
    Close {
        #[arg(long)]
        date: Date,
    },
    /// Re-open a closed business day (back office).
    Reopen {
        #[arg(long)]
        date: Date,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportKind {
    X,
    Z,
    Daily,
    ItemMix,
    Payments,
    Tax,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    /// Human-readable (X, Z and daily reports); CSV for the others.
    Text,
    /// An A4 PDF (X, Z and daily reports) on standard output.
    Pdf,
}

#[derive(Subcommand)]
enum ExportWhat {
    /// Orders with lines and payments, by business day.
    Sales {
        #[arg(long)]
        from: Date,
        #[arg(long)]
        to: Date,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
}

#[derive(Subcommand)]
enum CatalogCmd {
    /// Import or update SKUs from a CSV file: all rows or none.
    Import { file: PathBuf },
}

#[derive(Serialize)]
struct ErrorOut<'a> {
    error: &'a AppError,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ =
                writeln!(std::io::stderr(), "{}", serde_json::to_string(&ErrorOut { error: &e }).unwrap_or_default());
            ExitCode::FAILURE
        }
    }
}

fn print_json<T: Serialize>(value: &T) -> Result<(), AppError> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
    writeln!(out).map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))
}

fn print_text(text: &str) -> Result<(), AppError> {
    std::io::stdout().lock().write_all(text.as_bytes()).map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))
}

fn data_dir(cli: &Option<PathBuf>) -> Result<&Path, AppError> {
    cli.as_deref().ok_or_else(|| AppError::invalid("--data-dir DIR (or POS_DATA_DIR) is required"))
}

fn credential_store() -> Result<OsCredentialStore, AppError> {
    Ok(OsCredentialStore::connect()?)
}

fn open(dir: &Path) -> Result<Register, AppError> {
    Register::open(dir, &credential_store()?, Arc::new(SystemClock))
}

/// Lines of standard input, read only when a command needs them: the PIN, then the
/// authenticator code, then anything else the command asks for.
struct Stdin {
    lines: std::io::Lines<std::io::StdinLock<'static>>,
}

impl Stdin {
    fn new() -> Stdin {
        Stdin { lines: std::io::stdin().lock().lines() }
    }

    fn line(&mut self, what: &str) -> Result<zeroize::Zeroizing<String>, AppError> {
        match self.lines.next() {
            Some(Ok(l)) => Ok(zeroize::Zeroizing::new(l.trim().to_owned())),
            Some(Err(e)) => Err(AppError::invalid(format!("reading {what} from standard input: {e}"))),
            None => Err(AppError::invalid(format!("{what} expected on standard input"))),
        }
    }
}

fn staff_id(staff: Option<i64>) -> Result<i64, AppError> {
    staff.ok_or_else(|| {
        AppError::new(
            ErrorCode::NotSignedIn,
            "this command needs --staff ID (or POS_STAFF), with the PIN on standard input",
        )
    })
}

/// Signs in the `--staff` member with the PIN from standard input.
fn sign_in(reg: &mut Register, staff: Option<i64>, stdin: &mut Stdin) -> Result<Session, AppError> {
    let id = staff_id(staff)?;
    reg.sign_in(id, &stdin.line("the PIN")?)
}

/// Signs in and opens back-office access: PIN, then a current authenticator code.
fn sign_in_elevated(reg: &mut Register, staff: Option<i64>, stdin: &mut Stdin) -> Result<Session, AppError> {
    let id = staff_id(staff)?;
    let pin = stdin.line("the PIN")?;
    let session = reg.sign_in(id, &pin)?;
    reg.elevate(&session, &pin, &stdin.line("the authenticator code")?)?;
    Ok(session)
}

#[derive(Serialize)]
struct InitOut {
    data_dir: String,
    venue: String,
    currency: String,
    catalog_skus: usize,
    staff: Vec<pos_app::views::StaffView>,
    recovery_secret: String,
    recovery_note: &'static str,
}

fn run(cli: Cli) -> Result<(), AppError> {
    let dir = data_dir(&cli.data_dir)?;
    match cli.command {
        Command::Init { demo } => {
            if !demo {
                return Err(AppError::invalid(
                    "only `init --demo` is available from the command line for now; a venue of your own is set up in the app",
                ));
            }
            let secrets = credential_store()?;
            let (reg, recovery) = demo::init_demo(dir, &secrets, Arc::new(SystemClock))?;
            print_json(&InitOut {
                data_dir: dir.display().to_string(),
                venue: reg.venue_name().to_owned(),
                currency: reg.currency().to_string(),
                catalog_skus: reg.catalog().len(),
                staff: reg.staff(),
                recovery_secret: recovery.reveal().to_string(),
                recovery_note: "Write the recovery secret down and keep it safe. It is shown only now; with it, `posctl recover` restores access if the credential store is lost.",
            })
        }
        Command::Recover => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map_err(|e| AppError::invalid(e.to_string()))?;
            let reg = Register::recover(dir, &credential_store()?, line.trim(), Arc::new(SystemClock))?;
            print_json(&serde_json::json!({ "recovered": true, "venue": reg.venue_name() }))
        }
        Command::DemoSales { count, seed, days, progress } => {
            #[allow(clippy::disallowed_methods)] // The simulation's clock starts from the real time.
            let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
            let mut reg = Register::open(dir, &credential_store()?, clock.clone())?;
            let mut out = std::io::stdout().lock();
            let summary = demo::run_traffic(&mut reg, &clock, Traffic { sales: count, seed, days }, |r| {
                if progress {
                    // Printed only after the sale is durable; the crash test relies on that order.
                    let _ = writeln!(out, r#"{{"receipt_no":{},"order_id":"{}"}}"#, r.receipt_no, r.order_id);
                    let _ = out.flush();
                }
            })?;
            drop(out);
            print_json(&summary)
        }
        Command::Report { kind, date, shift, to, format } => {
            if !matches!(kind, ReportKind::X | ReportKind::Z | ReportKind::Daily) {
                no_pdf(format)?;
            }
            let mut reg = open(dir)?;
            let mut stdin = Stdin::new();
            // The tax export is a data export: back office.
            let s = if matches!(kind, ReportKind::Tax) {
                sign_in_elevated(&mut reg, cli.staff, &mut stdin)?
            } else {
                sign_in(&mut reg, cli.staff, &mut stdin)?
            };
            let day = date.unwrap_or_else(|| reg.today());
            let csv_or_json = |csv: String, json: &dyn erased::Json| -> Result<(), AppError> {
                match format {
                    Format::Json => json.print(),
                    _ => print_text(&csv),
                }
            };
            let pdf = |bytes: Result<Vec<u8>, pos_app::pos_pdf::PdfError>| -> Result<(), AppError> {
                let bytes = bytes.map_err(|e| AppError::new(ErrorCode::Internal, format!("PDF: {e}")))?;
                std::io::stdout()
                    .lock()
                    .write_all(&bytes)
                    .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))
            };
            let a4 = pos_app::pos_pdf::Paper::A4;
            match kind {
                ReportKind::X => {
                    let r = reg.x_report(&s)?;
                    if format == Format::Pdf {
                        return pdf(pos_app::pos_pdf::shift_report_pdf(&r, a4));
                    }
                    let t = if format == Format::Text { text::shift_report(&r) } else { r.to_csv() };
                    csv_or_json(t, &r)
                }
                ReportKind::Z => {
                    let r = reg.z_report(&s, shift.as_deref())?;
                    if format == Format::Pdf {
                        return pdf(pos_app::pos_pdf::shift_report_pdf(&r, a4));
                    }
                    let t = if format == Format::Text { text::shift_report(&r) } else { r.to_csv() };
                    csv_or_json(t, &r)
                }
                ReportKind::Daily => {
                    let r = reg.daily_summary(&s, day)?;
                    if format == Format::Pdf {
                        return pdf(pos_app::pos_pdf::daily_summary_pdf(&r, a4));
                    }
                    let t = if format == Format::Text { text::daily(&r) } else { r.to_csv() };
                    csv_or_json(t, &r)
                }
                ReportKind::ItemMix => {
                    let r = reg.item_mix(&s, day, to.unwrap_or(day))?;
                    csv_or_json(r.to_csv(), &r)
                }
                ReportKind::Payments => {
                    let scope = match shift {
                        Some(s) => PaymentsScope::Shift(s),
                        None => PaymentsScope::Day(day),
                    };
                    let r = reg.payments_report(&s, &scope)?;
                    csv_or_json(r.to_csv(), &r)
                }
                ReportKind::Tax => {
                    let r = reg.tax_export(&s, day, to.unwrap_or(day))?;
                    csv_or_json(r.to_csv(), &r)
                }
            }
        }
        Command::Export { what: ExportWhat::Sales { from, to, format } } => {
            no_pdf(format)?;
            let mut reg = open(dir)?;
            let s = sign_in_elevated(&mut reg, cli.staff, &mut Stdin::new())?;
            let orders = reg.export_sales(&s, from, to)?;
            match format {
                Format::Json => print_json(&orders),
                Format::Csv | Format::Text | Format::Pdf => print_text(&sales_csv(&orders)),
            }
        }
        Command::Catalog { what: CatalogCmd::Import { file } } => {
            let rows = read_catalog_csv(&file)?;
            let mut reg = open(dir)?;
            let s = sign_in(&mut reg, cli.staff, &mut Stdin::new())?;
            let summary = reg.import_catalog(&s, &rows)?;
            print_json(&summary)
        }
        Command::Doctor => {
            let secrets = credential_store()?;
            let reg = Register::open(dir, &secrets, Arc::new(SystemClock))?;
            let report = reg.doctor("OS credential store")?;
            print_json(&report)?;
            if report.ok { Ok(()) } else { Err(AppError::new(ErrorCode::StoreDamaged, "the store failed its checks")) }
        }
        Command::Orders { from, to } => {
            let mut reg = open(dir)?;
            let s = sign_in(&mut reg, cli.staff, &mut Stdin::new())?;
            print_json(&reg.orders(&s, from, to)?)
        }
        Command::Printer { what } => printer_command(dir, cli.staff, what),
        Command::Sync { what } => sync_command(dir, cli.staff, what),
        Command::Receipt { what } => receipt_command(dir, cli.staff, what),
        Command::Audit { what: AuditCmd::Verify } => {
            let reg = open(dir)?;
            let v = reg.verify_audit()?;
            print_json(&v)?;
            match &v.fault {
                None => Ok(()),
                Some(f) => Err(AppError::new(
                    ErrorCode::AuditChainBroken,
                    format!("audit entry {}: {} ({})", f.seq, f.kind.as_str(), f.detail),
                )),
            }
        }
        Command::Audit { what: AuditCmd::Export { format } } => {
            no_pdf(format)?;
            let mut reg = open(dir)?;
            let s = sign_in_elevated(&mut reg, cli.staff, &mut Stdin::new())?;
            let export = reg.export_audit(&s)?;
            match format {
                Format::Json => print_json(&export),
                Format::Csv | Format::Text | Format::Pdf => print_text(&audit_csv(&export)),
            }
        }
        Command::Staff { what } => {
            let mut reg = open(dir)?;
            let mut stdin = Stdin::new();
            match what {
                StaffCmd::List => {
                    let s = sign_in_elevated(&mut reg, cli.staff, &mut stdin)?;
                    print_json(&reg.staff_admin(&s)?)
                }
                StaffCmd::Add { name, role } => {
                    let s = sign_in_elevated(&mut reg, cli.staff, &mut stdin)?;
                    let role = pos_app::pos_auth::Role::parse(&role).ok_or_else(|| {
                        AppError::invalid(format!(
                            "unknown role {role:?}: owner, manager, supervisor, cashier or trainee"
                        ))
                    })?;
                    let pin = stdin.line("the new staff member's PIN")?;
                    print_json(&reg.add_staff(&s, &name, &StaffAccess::preset(role), &pin)?)
                }
                StaffCmd::Unlock { id } => {
                    let s = sign_in(&mut reg, cli.staff, &mut stdin)?;
                    reg.unlock_staff(&s, id)?;
                    print_json(&serde_json::json!({ "unlocked": id }))
                }
                StaffCmd::EnrolTotp { for_staff } => {
                    // Your own first enrolment needs your PIN; anyone else's is back office.
                    let own = for_staff.is_none() || for_staff == cli.staff;
                    let s = if own {
                        sign_in(&mut reg, cli.staff, &mut stdin)?
                    } else {
                        sign_in_elevated(&mut reg, cli.staff, &mut stdin)?
                    };
                    let target = for_staff.unwrap_or_else(|| s.staff_id());
                    let view = reg.begin_totp_enrolment(&s, target)?;
                    print_json(&serde_json::json!({
                        "staff_id": view.staff_id,
                        "otpauth_uri": view.otpauth_uri,
                        "secret_base32": view.secret_base32,
                        "next": "scan the URI (or type the secret) into an authenticator app, then enter its current code",
                    }))?;
                    let code = stdin.line("the first code from the authenticator")?;
                    reg.confirm_totp_enrolment(&s, target, &code)?;
                    print_json(&serde_json::json!({ "enrolled": target }))
                }
            }
        }
        Command::Day { what } => {
            let mut reg = open(dir)?;
            let mut stdin = Stdin::new();
            match what {
                DayCmd::Close { date } => {
                    let s = sign_in(&mut reg, cli.staff, &mut stdin)?;
                    reg.close_day(&s, date)?;
                    print_json(&serde_json::json!({ "closed": date.to_string() }))
                }
                DayCmd::Reopen { date } => {
                    let s = sign_in_elevated(&mut reg, cli.staff, &mut stdin)?;
                    reg.reopen_day(&s, date)?;
                    print_json(&serde_json::json!({ "reopened": date.to_string() }))
                }
            }
        }
    }
}

mod erased {
    //! Lets one closure print any serialisable report.
    pub trait Json {
        fn print(&self) -> Result<(), pos_app::AppError>;
    }
    impl<T: serde::Serialize> Json for T {
        fn print(&self) -> Result<(), pos_app::AppError> {
            super::print_json(self)
        }
    }
}

/// Reads a catalog CSV file; the façade parses it.
fn read_catalog_csv(path: &Path) -> Result<Vec<CatalogRow>, AppError> {
    let file = std::fs::File::open(path).map_err(|e| AppError::invalid(format!("{}: {e}", path.display())))?;
    pos_app::read_catalog_csv(file, &path.display().to_string())
}

fn sales_csv(orders: &[pos_app::views::ExportOrderView]) -> String {
    use pos_app::pos_core::report::csv_line;
    let mut out = String::new();
    csv_line(
        &mut out,
        &[
            "order_id",
            "receipt_no",
            "business_day",
            "status",
            "paid_at",
            "cashier",
            "currency",
            "order_total",
            "line_no",
            "sku",
            "name",
            "quantity",
            "unit_price",
            "discount",
            "amount",
            "tax",
            "refunded_quantity",
        ],
    );
    for o in orders {
        for l in &o.lines {
            csv_line(
                &mut out,
                &[
                    &o.order_id,
                    &o.receipt_no.map(|n| n.to_string()).unwrap_or_default(),
                    &o.business_day,
                    &o.status,
                    o.paid_at.as_deref().unwrap_or(""),
                    &o.cashier,
                    &o.currency,
                    &amount(o.total),
                    &l.line_no.to_string(),
                    &l.sku,
                    &l.name,
                    &l.quantity.to_string(),
                    &amount(l.unit_price),
                    &amount(l.discount),
                    &amount(l.amount),
                    &amount(l.tax),
                    &l.refunded_quantity.to_string(),
                ],
            );
        }
    }
    out
}

fn amount(m: pos_app::pos_core::Money) -> String {
    pos_app::pos_core::money::format_minor(m.minor(), m.currency())
}

/// One row per entry: the stored fields exactly, so an auditor can re-hash the body column.
fn audit_csv(export: &pos_app::views::AuditExportView) -> String {
    use pos_app::pos_core::report::csv_line;
    let mut out = String::new();
    csv_line(&mut out, &["device", "public_key", "seq", "hash", "signature", "body"]);
    for e in &export.entries {
        csv_line(&mut out, &[&export.device, &export.public_key, &e.seq.to_string(), &e.hash, &e.signature, &e.body]);
    }
    out
}

/// PDF is offered for the X, Z and daily reports only; refused before anything is opened.
fn no_pdf(format: Format) -> Result<(), AppError> {
    if format == Format::Pdf { Err(AppError::invalid("PDF is for the X, Z and daily reports")) } else { Ok(()) }
}

fn printer_command(dir: &Path, staff: Option<i64>, what: PrinterCmd) -> Result<(), AppError> {
    let mut reg = open(dir)?;
    let mut stdin = Stdin::new();
    match what {
        PrinterCmd::List => {
            let s = sign_in(&mut reg, staff, &mut stdin)?;
            print_json(&reg.printers(&s)?)
        }
        PrinterCmd::Add { name, connection, columns, code_page, role, categories, drawer_pin } => {
            let s = sign_in_elevated(&mut reg, staff, &mut stdin)?;
            let p = pos_app::NewPrinter { name, connection, columns, code_page, role, categories, drawer_pin };
            print_json(&reg.add_printer(&s, &p)?)
        }
        PrinterCmd::Test { name } => {
            let s = sign_in_elevated(&mut reg, staff, &mut stdin)?;
            let job = reg.print_test_page(&s, &name)?;
            let done = reg.run_print_queue(&Default::default())?;
            print_json(&done)?;
            match done.iter().find(|j| j.id == job.id) {
                Some(j) if j.status == "sent" => Ok(()),
                j => Err(AppError::new(
                    ErrorCode::PrinterUnavailable,
                    format!(
                        "the test page did not print: {}",
                        j.and_then(|j| j.last_error.as_deref()).unwrap_or("not sent")
                    ),
                )),
            }
        }
        PrinterCmd::Status { name } => {
            let s = sign_in(&mut reg, staff, &mut stdin)?;
            let names: Vec<String> = match name {
                Some(n) => vec![n],
                None => reg.printers(&s)?.into_iter().map(|p| p.name).collect(),
            };
            let mut out = Vec::new();
            for n in names {
                out.push(reg.printer_status(&s, &n)?);
            }
            print_json(&out)
        }
        PrinterCmd::Flush => print_json(&reg.run_print_queue(&Default::default())?),
        PrinterCmd::Jobs { limit } => {
            sign_in(&mut reg, staff, &mut stdin)?;
            print_json(&reg.print_jobs(limit)?)
        }
    }
}

fn receipt_command(dir: &Path, staff: Option<i64>, what: ReceiptCmd) -> Result<(), AppError> {
    let mut reg = open(dir)?;
    let s = sign_in(&mut reg, staff, &mut Stdin::new())?;
    match what {
        ReceiptCmd::Print { order, printer } => {
            let job = reg.print_receipt(&s, &order, printer.as_deref())?;
            let sent = reg.run_print_queue(&Default::default())?;
            let job = sent.into_iter().find(|j| j.id == job.id).unwrap_or(job);
            print_json(&job)?;
            if job.status == "sent" {
                Ok(())
            } else {
                Err(AppError::new(
                    ErrorCode::PrinterUnavailable,
                    format!(
                        "receipt queued but not printed: {}; it prints when the printer is back (posctl printer flush)",
                        job.last_error.as_deref().unwrap_or("not sent yet")
                    ),
                ))
            }
        }
        ReceiptCmd::Render { order, format, printer } => {
            let format = match format {
                RenderAs::Escpos => pos_app::RenderFormat::Escpos,
                RenderAs::Pdf => pos_app::RenderFormat::Pdf,
                RenderAs::Text => pos_app::RenderFormat::Text,
            };
            let bytes = reg.render_receipt(&s, &order, format, printer.as_deref())?;
            std::io::stdout().lock().write_all(&bytes).map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))
        }
    }
}

fn sync_command(dir: &Path, staff: Option<i64>, what: SyncCmd) -> Result<(), AppError> {
    let secrets = Arc::new(credential_store()?);
    let mut reg = Register::open(dir, secrets.as_ref(), Arc::new(SystemClock))?;
    let mut cloud = CloudSync::new(secrets);
    match what {
        SyncCmd::Enroll { url, code, ca_file } => {
            let mut stdin = Stdin::new();
            let s = sign_in_elevated(&mut reg, staff, &mut stdin)?;
            let code = match code {
                Some(c) => zeroize::Zeroizing::new(c),
                None => stdin.line("the enrolment code")?,
            };
            let status =
                cloud.enroll(&mut reg, &s, &Enrolment { cloud_url: &url, code: &code, ca_file: ca_file.as_deref() })?;
            print_json(&status)
        }
        SyncCmd::Now => {
            let summary = cloud.sync_once(&mut reg)?;
            print_json(&summary)?;
            match &summary.error {
                None => Ok(()),
                Some(f) => Err(f.to_app_error()),
            }
        }
        SyncCmd::Status => print_json(&reg.sync_status()?),
    }
}
