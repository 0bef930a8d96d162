//! The window's commands. Each one converts its arguments, makes one call into the façade as the
//! signed-in session, and returns the façade's view or its `{code, message}` error. No rule is
//! decided here: the façade checks every permission and every amount, whoever asks.
//!
//! Arguments are snake_case on both sides. Amounts arrive as decimal text ("12.50") and are
//! parsed in the venue's currency; quantities as text ("2", "0.250").

use std::sync::atomic::Ordering;

use pos_app::pos_core::money::{Money, Quantity};
use pos_app::pos_core::order::Discount;
use pos_app::pos_core::refund::RefundRequest;
use pos_app::pos_core::report::{DailySummary, ItemMix, PaymentReconciliation, ShiftReport, TaxExport};
use pos_app::pos_core::shift::CashMovementKind;
use pos_app::views::{
    ApprovalGrantView, AuditVerifyView, ExportOrderView, ImportSummary, OrderSummaryView, OrderView, RefundReceipt,
    SaleReceipt, SessionView, ShiftView, SkuView, StaffAdminView, StaffView, TotpEnrolmentView, VoidReceipt,
};
use pos_app::{
    AppError, AppResult, CardPaymentView, CategoryView, ErrorCode, ItemRef, NewPrinter, OrderRef, PaymentPreview,
    PaymentsScope, PrintJobView, PrinterStatusView, PrinterView, Register, SecurityPolicy, StaffAccess, StatusView,
    SyncStatus, SyncWorker,
};
use serde::{Deserialize, Serialize};
use tauri::{Manager, State};

use crate::state::{AppState, lock};

type Cmd<T> = Result<T, AppError>;

// ---- argument conversion ---------------------------------------------------------------------

fn money(reg: &Register, text: &str) -> AppResult<Money> {
    Money::parse(text.trim(), reg.currency()).map_err(|_| AppError::invalid(format!("{text:?} is not an amount")))
}

fn opt_money(reg: &Register, text: Option<&str>) -> AppResult<Option<Money>> {
    text.filter(|t| !t.trim().is_empty()).map(|t| money(reg, t)).transpose()
}

fn qty(text: &str) -> AppResult<Quantity> {
    Quantity::parse(text.trim()).ok_or_else(|| AppError::invalid(format!("{text:?} is not a quantity")))
}

fn date(text: &str) -> AppResult<jiff::civil::Date> {
    text.trim().parse().map_err(|_| AppError::invalid(format!("{text:?} is not a date (YYYY-MM-DD)")))
}

/// A discount as the page sends it: `{kind: "percent", value: "10"}` or `{kind: "amount", value: "2.50"}`;
/// no discount is `null`.
#[derive(Debug, Deserialize)]
pub struct DiscountArg {
    kind: String,
    value: String,
}

fn discount(reg: &Register, d: Option<DiscountArg>) -> AppResult<Option<Discount>> {
    d.map(|d| match d.kind.as_str() {
        "percent" => Discount::percent_from_text(&d.value)
            .ok_or_else(|| AppError::invalid(format!("{:?} is not a percentage", d.value))),
        "amount" => money(reg, &d.value).map(|m| Discount::Amount(m.minor())),
        other => Err(AppError::invalid(format!("unknown discount kind {other:?}"))),
    })
    .transpose()
}

/// An order named by its id or by its receipt number.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderArg {
    Id(String),
    Receipt(i64),
}

impl From<OrderArg> for OrderRef {
    fn from(o: OrderArg) -> OrderRef {
        match o {
            OrderArg::Id(id) => OrderRef::Id(id),
            OrderArg::Receipt(n) => OrderRef::Receipt(n),
        }
    }
}

// ---- start, session --------------------------------------------------------------------------

/// What the start screen needs before anyone signs in.
#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub version: &'static str,
    /// Why the store could not be opened, if it could not: the window shows this instead of selling.
    pub store_error: Option<AppError>,
    pub venue: Option<String>,
    pub staff: Vec<StaffView>,
    pub signed_in: Option<SessionView>,
}

#[tauri::command(rename_all = "snake_case")]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    let version = env!("CARGO_PKG_VERSION");
    match state.lock() {
        Err(e) => AppInfo { version, store_error: Some(e), venue: None, staff: vec![], signed_in: None },
        Ok(mut c) => {
            let signed_in = c.session.clone().and_then(|s| c.reg.session_view(&s).ok());
            AppInfo {
                version,
                store_error: None,
                venue: Some(c.reg.venue_name().to_owned()),
                staff: c.reg.staff(),
                signed_in,
            }
        }
    }
}

/// The page has drawn its first screen: the register is ready to sell. Logged once with the time
/// since the process started (the benchmark reads it).
#[tauri::command(rename_all = "snake_case")]
pub fn ui_ready() {
    crate::report_ready();
}

#[tauri::command(rename_all = "snake_case")]
pub fn sign_in(state: State<'_, AppState>, staff_id: i64, pin: String) -> Cmd<SessionView> {
    let mut c = state.lock()?;
    if let Some(old) = c.session.take() {
        let _ = c.reg.sign_out(&old);
    }
    let session = c.reg.sign_in(staff_id, &pin)?;
    c.session = Some(session.clone());
    c.reg.session_view(&session)
}

#[tauri::command(rename_all = "snake_case")]
pub fn sign_out(state: State<'_, AppState>) -> Cmd<()> {
    let mut c = state.lock()?;
    let session = c.session()?;
    c.session = None;
    c.reg.sign_out(&session)
}

#[tauri::command(rename_all = "snake_case")]
pub fn lock_session(state: State<'_, AppState>) -> Cmd<()> {
    state.with(|r, s| r.lock(s))
}

#[tauri::command(rename_all = "snake_case")]
pub fn unlock_session(state: State<'_, AppState>, pin: String) -> Cmd<SessionView> {
    state.with(|r, s| r.unlock(s, &pin).and_then(|()| r.session_view(s)))
}

#[tauri::command(rename_all = "snake_case")]
pub fn session(state: State<'_, AppState>) -> Cmd<SessionView> {
    state.with(|r, s| r.session_view(s))
}

#[tauri::command(rename_all = "snake_case")]
pub fn elevate(state: State<'_, AppState>, pin: String, code: String) -> Cmd<SessionView> {
    state.with(|r, s| r.elevate(s, &pin, &code))
}

// ---- status ----------------------------------------------------------------------------------

/// The status bar: the register's state plus the cloud connection: `cloud` is `not_configured`,
/// `enrolled` or `revoked`; `online` says whether the last sync round reached the cloud.
#[derive(Debug, Serialize)]
pub struct StatusBar {
    #[serde(flatten)]
    pub status: StatusView,
    pub online: bool,
    pub cloud: &'static str,
    /// Records the cloud refused, waiting for a manager (counted in `outbox.depth` too).
    pub quarantined: i64,
    pub signed_in: Option<String>,
    pub locked: bool,
}

#[tauri::command(rename_all = "snake_case")]
pub fn status(state: State<'_, AppState>) -> Cmd<StatusBar> {
    let mut c = state.lock()?;
    let status = c.reg.status()?;
    // Polling must not keep the session awake: `session_locked` does not count as activity.
    let (signed_in, locked) = match c.session.clone() {
        None => (None, false),
        Some(s) => match c.reg.session_locked(&s) {
            Ok(locked) => (Some(s.name().to_owned()), locked),
            Err(_) => (None, false),
        },
    };
    let sync = c.reg.sync_status()?;
    let cloud = match (sync.enrolled, sync.revoked) {
        (false, _) => "not_configured",
        (true, true) => "revoked",
        (true, false) => "enrolled",
    };
    Ok(StatusBar { status, online: sync.online, cloud, quarantined: sync.quarantined, signed_in, locked })
}

// ---- catalog ---------------------------------------------------------------------------------

#[tauri::command(rename_all = "snake_case")]
pub fn categories(state: State<'_, AppState>) -> Cmd<Vec<CategoryView>> {
    state.with_reg(|r| Ok(r.categories()))
}

#[tauri::command(rename_all = "snake_case")]
pub fn products(state: State<'_, AppState>, category_id: i64) -> Cmd<Vec<SkuView>> {
    state.with_reg(|r| Ok(r.products(category_id, 200)))
}

#[tauri::command(rename_all = "snake_case")]
pub fn search(state: State<'_, AppState>, query: String) -> Cmd<Vec<SkuView>> {
    state.with_reg(|r| Ok(r.search(&query, 40)))
}

#[tauri::command(rename_all = "snake_case")]
pub fn import_catalog(state: State<'_, AppState>, csv: String) -> Cmd<ImportSummary> {
    state.with(|r, s| r.import_catalog(s, &pos_app::read_catalog_csv(csv.as_bytes(), "the CSV")?))
}

// ---- the order being rung up -----------------------------------------------------------------

#[tauri::command(rename_all = "snake_case")]
pub fn open_order(state: State<'_, AppState>) -> Cmd<OrderView> {
    state.with(|r, s| r.open_order(s).and_then(|id| r.order_view(&id)))
}

#[tauri::command(rename_all = "snake_case")]
pub fn order(state: State<'_, AppState>, order_id: String) -> Cmd<OrderView> {
    state.with(|r, _| r.order_view(&order_id))
}

/// Adds an item by SKU code (a tap on the grid) or by barcode (the scanner).
#[tauri::command(rename_all = "snake_case")]
pub fn add_item(
    state: State<'_, AppState>,
    order_id: String,
    sku: Option<String>,
    barcode: Option<String>,
    quantity: Option<String>,
) -> Cmd<OrderView> {
    state.with(|r, s| {
        let item = match (&sku, &barcode) {
            (Some(code), None) => ItemRef::Code(code),
            (None, Some(code)) => ItemRef::Barcode(code.trim()),
            _ => return Err(AppError::invalid("name the item by its SKU or its barcode")),
        };
        r.add_item(s, &order_id, item, qty(quantity.as_deref().unwrap_or("1"))?)
    })
}

#[tauri::command(rename_all = "snake_case")]
pub fn set_quantity(state: State<'_, AppState>, order_id: String, line_no: u32, quantity: String) -> Cmd<OrderView> {
    state.with(|r, s| r.set_quantity(s, &order_id, line_no, qty(&quantity)?))
}

#[tauri::command(rename_all = "snake_case")]
pub fn remove_line(state: State<'_, AppState>, order_id: String, line_no: u32) -> Cmd<OrderView> {
    state.with(|r, s| r.remove_line(s, &order_id, line_no))
}

#[tauri::command(rename_all = "snake_case")]
pub fn set_line_discount(
    state: State<'_, AppState>,
    order_id: String,
    line_no: u32,
    discount: Option<DiscountArg>,
) -> Cmd<OrderView> {
    state.with(|r, s| {
        let d = self::discount(r, discount)?;
        r.set_line_discount(s, &order_id, line_no, d)
    })
}

#[tauri::command(rename_all = "snake_case")]
pub fn set_order_discount(
    state: State<'_, AppState>,
    order_id: String,
    discount: Option<DiscountArg>,
) -> Cmd<OrderView> {
    state.with(|r, s| {
        let d = self::discount(r, discount)?;
        r.set_order_discount(s, &order_id, d)
    })
}

#[tauri::command(rename_all = "snake_case")]
pub fn override_price(state: State<'_, AppState>, order_id: String, line_no: u32, price: String) -> Cmd<OrderView> {
    state.with(|r, s| {
        let p = money(r, &price)?;
        r.override_price(s, &order_id, line_no, p)
    })
}

#[tauri::command(rename_all = "snake_case")]
pub fn void_open_order(state: State<'_, AppState>, order_id: String, reason: String) -> Cmd<VoidReceipt> {
    state.with(|r, s| r.void_open_order(s, &order_id, &reason))
}

// ---- paying ----------------------------------------------------------------------------------

#[tauri::command(rename_all = "snake_case")]
pub fn payment_preview(state: State<'_, AppState>, order_id: String, cash: Option<String>) -> Cmd<PaymentPreview> {
    state.with(|r, _| {
        let cash = opt_money(r, cash.as_deref())?;
        r.payment_preview(&order_id, cash)
    })
}

/// Charges `amount` on the terminal. The payment is recorded as pending first; the terminal is
/// asked without holding the register, so the status bar and the print worker carry on.
#[tauri::command(rename_all = "snake_case")]
pub async fn pay_card(state: State<'_, AppState>, order_id: String, amount: String) -> Cmd<CardPaymentView> {
    let shared = state.shared()?;
    tauri::async_runtime::spawn_blocking(move || {
        let (start, config) = {
            let mut c = lock(&shared);
            let session = c.session()?;
            let amount = money(&c.reg, &amount)?;
            let config = c.reg.terminal_config()?.ok_or_else(|| {
                AppError::new(ErrorCode::PaymentNotApproved, "no payment terminal is set up (Settings → Terminal)")
            })?;
            (c.reg.begin_card_payment(&session, &order_id, amount)?, config)
        };
        let mut terminal = pos_app::pos_terminal::connect(&config);
        let outcome = pos_app::ask_terminal(terminal.as_mut(), &start.request);
        lock(&shared).reg.finish_card_payment(&start.id, &outcome)
    })
    .await
    .map_err(|e| AppError::new(ErrorCode::Internal, format!("card payment task: {e}")))?
}

/// Completes the sale with the order's approved card payments and, for the rest, `cash`.
#[tauri::command(rename_all = "snake_case")]
pub fn complete_sale(state: State<'_, AppState>, order_id: String, cash: Option<String>) -> Cmd<SaleReceipt> {
    state.printing(|r, s| {
        let cash = opt_money(r, cash.as_deref())?;
        r.complete_sale(s, &order_id, cash)
    })
}

#[tauri::command(rename_all = "snake_case")]
pub fn print_receipt(state: State<'_, AppState>, order: String) -> Cmd<PrintJobView> {
    state.printing(|r, s| r.print_receipt(s, &order, None))
}

// ---- orders ----------------------------------------------------------------------------------

#[tauri::command(rename_all = "snake_case")]
pub fn orders(state: State<'_, AppState>, from: String, to: String) -> Cmd<Vec<OrderSummaryView>> {
    state.with(|r, s| r.orders(s, date(&from)?, date(&to)?))
}

#[tauri::command(rename_all = "snake_case")]
pub fn order_detail(state: State<'_, AppState>, order: OrderArg) -> Cmd<ExportOrderView> {
    state.with(|r, s| r.order_detail(s, &order.into()))
}

/// Refunds a paid order: everything left (`lines` null) or the given quantities of given lines.
#[tauri::command(rename_all = "snake_case")]
pub fn refund(
    state: State<'_, AppState>,
    order: OrderArg,
    lines: Option<Vec<(u32, String)>>,
    reason: String,
) -> Cmd<RefundReceipt> {
    state.printing(|r, s| {
        let request = match lines {
            None => RefundRequest::Whole,
            Some(l) => RefundRequest::Lines(l.iter().map(|(n, q)| Ok((*n, qty(q)?))).collect::<AppResult<_>>()?),
        };
        r.refund(s, &order.into(), &request, &reason)
    })
}

#[tauri::command(rename_all = "snake_case")]
pub fn void_order(state: State<'_, AppState>, order: OrderArg, reason: String) -> Cmd<VoidReceipt> {
    state.printing(|r, s| r.void_paid_order(s, &order.into(), &reason))
}

// ---- manager approval ------------------------------------------------------------------------

#[tauri::command(rename_all = "snake_case")]
pub fn approve(
    state: State<'_, AppState>,
    request_id: String,
    approver_id: i64,
    pin: String,
    totp: Option<String>,
    reason: String,
) -> Cmd<ApprovalGrantView> {
    state.with(|r, s| r.approve(s, &request_id, approver_id, &pin, totp.as_deref(), &reason))
}

#[tauri::command(rename_all = "snake_case")]
pub fn deny(state: State<'_, AppState>, request_id: String, approver_id: i64, pin: String) -> Cmd<()> {
    state.with(|r, s| r.deny(s, &request_id, approver_id, &pin))
}

#[tauri::command(rename_all = "snake_case")]
pub fn cancel_approval(state: State<'_, AppState>, request_id: String) -> Cmd<()> {
    state.with(|r, s| r.cancel_approval(s, &request_id))
}

// ---- shift and cash --------------------------------------------------------------------------

#[tauri::command(rename_all = "snake_case")]
pub fn open_shift(state: State<'_, AppState>, float: String) -> Cmd<ShiftView> {
    state.with(|r, s| {
        let f = money(r, &float)?;
        r.open_shift(s, f)
    })
}

#[tauri::command(rename_all = "snake_case")]
pub fn cash_movement(state: State<'_, AppState>, kind: String, amount: String, reason: String) -> Cmd<()> {
    state.printing(|r, s| {
        let kind = match kind.as_str() {
            "paid_in" => CashMovementKind::PaidIn,
            "paid_out" => CashMovementKind::PaidOut,
            other => return Err(AppError::invalid(format!("unknown cash movement {other:?}"))),
        };
        let a = money(r, &amount)?;
        r.cash_movement(s, kind, a, &reason)
    })
}

#[tauri::command(rename_all = "snake_case")]
pub fn no_sale(state: State<'_, AppState>, reason: String) -> Cmd<String> {
    state.printing(|r, s| r.no_sale(s, &reason))
}

/// The venue currency's notes and coins, largest first, in minor units (for the blind count).
#[tauri::command(rename_all = "snake_case")]
pub fn denominations(state: State<'_, AppState>) -> Cmd<Vec<(i64, Money)>> {
    state.with_reg(|r| {
        let c = r.currency();
        Ok(c.denominations().iter().map(|d| (*d, Money::new(*d, c))).collect())
    })
}

#[tauri::command(rename_all = "snake_case")]
pub fn x_report(state: State<'_, AppState>) -> Cmd<ShiftReport> {
    state.with(|r, s| r.x_report(s))
}

/// Blind close: `counts` are (denomination in minor units, how many) pairs.
#[tauri::command(rename_all = "snake_case")]
pub fn close_shift(state: State<'_, AppState>, counts: Vec<(i64, i64)>) -> Cmd<ShiftReport> {
    state.with(|r, s| r.close_shift(s, &counts))
}

#[tauri::command(rename_all = "snake_case")]
pub fn z_report(state: State<'_, AppState>, shift_id: Option<String>) -> Cmd<ShiftReport> {
    state.with(|r, s| r.z_report(s, shift_id.as_deref()))
}

// ---- back office: staff ----------------------------------------------------------------------

#[tauri::command(rename_all = "snake_case")]
pub fn staff_admin(state: State<'_, AppState>) -> Cmd<Vec<StaffAdminView>> {
    state.with(|r, s| r.staff_admin(s))
}

fn role(name: &str) -> AppResult<StaffAccess> {
    pos_app::pos_auth::permissions::Role::parse(name)
        .map(StaffAccess::preset)
        .ok_or_else(|| AppError::invalid(format!("unknown role {name:?}")))
}

#[tauri::command(rename_all = "snake_case")]
pub fn add_staff(state: State<'_, AppState>, name: String, role: String, pin: String) -> Cmd<StaffAdminView> {
    state.with(|r, s| r.add_staff(s, &name, &self::role(&role)?, &pin))
}

#[tauri::command(rename_all = "snake_case")]
pub fn set_staff_role(state: State<'_, AppState>, staff_id: i64, role: String) -> Cmd<StaffAdminView> {
    state.with(|r, s| r.set_staff_access(s, staff_id, &self::role(&role)?))
}

#[tauri::command(rename_all = "snake_case")]
pub fn reset_pin(state: State<'_, AppState>, staff_id: i64, pin: String) -> Cmd<()> {
    state.with(|r, s| r.reset_pin(s, staff_id, &pin))
}

#[tauri::command(rename_all = "snake_case")]
pub fn set_staff_active(state: State<'_, AppState>, staff_id: i64, active: bool) -> Cmd<()> {
    state.with(|r, s| r.set_staff_active(s, staff_id, active))
}

#[tauri::command(rename_all = "snake_case")]
pub fn unlock_staff(state: State<'_, AppState>, staff_id: i64) -> Cmd<()> {
    state.with(|r, s| r.unlock_staff(s, staff_id))
}

#[tauri::command(rename_all = "snake_case")]
pub fn begin_totp_enrolment(state: State<'_, AppState>, staff_id: i64) -> Cmd<TotpEnrolmentView> {
    state.with(|r, s| r.begin_totp_enrolment(s, staff_id))
}

#[tauri::command(rename_all = "snake_case")]
pub fn confirm_totp_enrolment(state: State<'_, AppState>, staff_id: i64, code: String) -> Cmd<()> {
    state.with(|r, s| r.confirm_totp_enrolment(s, staff_id, &code))
}

// ---- back office: settings -------------------------------------------------------------------

#[tauri::command(rename_all = "snake_case")]
pub fn security_policy(state: State<'_, AppState>) -> Cmd<SecurityPolicy> {
    state.with(|r, _| Ok(r.security_policy()))
}

#[tauri::command(rename_all = "snake_case")]
pub fn set_security_policy(state: State<'_, AppState>, policy: SecurityPolicy) -> Cmd<()> {
    state.with(|r, s| r.set_security_policy(s, &policy))
}

#[tauri::command(rename_all = "snake_case")]
pub fn terminal_config(state: State<'_, AppState>) -> Cmd<Option<pos_app::pos_terminal::TerminalConfig>> {
    state.with(|r, _| r.terminal_config_redacted())
}

#[tauri::command(rename_all = "snake_case")]
pub fn set_terminal(state: State<'_, AppState>, config: pos_app::pos_terminal::TerminalConfig) -> Cmd<()> {
    state.with(|r, s| r.set_terminal(s, &config))
}

#[tauri::command(rename_all = "snake_case")]
pub fn printers(state: State<'_, AppState>) -> Cmd<Vec<PrinterView>> {
    state.with(|r, s| r.printers(s))
}

/// A printer as the settings form sends it.
#[derive(Debug, Deserialize)]
pub struct PrinterArg {
    name: String,
    connection: String,
    columns: usize,
    code_page: String,
    role: String,
    categories: Vec<String>,
    drawer_pin: Option<u8>,
}

#[tauri::command(rename_all = "snake_case")]
pub fn add_printer(state: State<'_, AppState>, printer: PrinterArg) -> Cmd<PrinterView> {
    let p = NewPrinter {
        name: printer.name,
        connection: printer.connection,
        columns: printer.columns,
        code_page: printer.code_page,
        role: printer.role,
        categories: printer.categories,
        drawer_pin: printer.drawer_pin,
    };
    state.with(|r, s| r.add_printer(s, &p))
}

#[tauri::command(rename_all = "snake_case")]
pub fn remove_printer(state: State<'_, AppState>, name: String) -> Cmd<()> {
    state.with(|r, s| r.remove_printer(s, &name))
}

#[tauri::command(rename_all = "snake_case")]
pub fn print_test_page(state: State<'_, AppState>, name: String) -> Cmd<PrintJobView> {
    state.printing(|r, s| r.print_test_page(s, &name))
}

#[tauri::command(rename_all = "snake_case")]
pub fn printer_status(state: State<'_, AppState>, name: String) -> Cmd<PrinterStatusView> {
    state.with(|r, s| r.printer_status(s, &name))
}

// ---- back office: reports and audit ----------------------------------------------------------

#[tauri::command(rename_all = "snake_case")]
pub fn daily_summary(state: State<'_, AppState>, day: String) -> Cmd<DailySummary> {
    state.with(|r, s| r.daily_summary(s, date(&day)?))
}

#[tauri::command(rename_all = "snake_case")]
pub fn item_mix(state: State<'_, AppState>, from: String, to: String) -> Cmd<ItemMix> {
    state.with(|r, s| r.item_mix(s, date(&from)?, date(&to)?))
}

#[tauri::command(rename_all = "snake_case")]
pub fn payments_report(state: State<'_, AppState>, day: String) -> Cmd<PaymentReconciliation> {
    state.with(|r, s| r.payments_report(s, &PaymentsScope::Day(date(&day)?)))
}

#[tauri::command(rename_all = "snake_case")]
pub fn tax_export(state: State<'_, AppState>, from: String, to: String) -> Cmd<TaxExport> {
    state.with(|r, s| r.tax_export(s, date(&from)?, date(&to)?))
}

/// Writes a report as CSV into the data directory's `exports/` and returns the file's path.
#[tauri::command(rename_all = "snake_case")]
pub fn export_report(state: State<'_, AppState>, kind: String, from: String, to: String) -> Cmd<String> {
    let (csv, name) = state.with(|r, s| {
        let (from, to) = (date(&from)?, date(&to)?);
        let csv = match kind.as_str() {
            "daily" => r.daily_summary(s, from)?.to_csv(),
            "item-mix" => r.item_mix(s, from, to)?.to_csv(),
            "payments" => r.payments_report(s, &PaymentsScope::Day(from))?.to_csv(),
            "tax" => r.tax_export(s, from, to)?.to_csv(),
            other => return Err(AppError::invalid(format!("unknown report {other:?}"))),
        };
        Ok((csv, format!("{kind}-{from}-{to}.csv")))
    })?;
    crate::files::save(&state.data_dir.join("exports"), &name, csv.as_bytes())
}

/// Writes the Z report (or the open shift's X report) as a PDF into `reports/`; returns its path.
#[tauri::command(rename_all = "snake_case")]
pub fn shift_report_pdf(state: State<'_, AppState>, shift_id: Option<String>) -> Cmd<String> {
    let (pdf, name) = state.with(|r, s| {
        let pdf = r.shift_report_pdf(s, shift_id.as_deref(), pos_app::pos_pdf::Paper::A4)?;
        Ok((pdf, format!("shift-{}.pdf", shift_id.as_deref().unwrap_or("open"))))
    })?;
    crate::files::save(&state.data_dir.join("reports"), &name, &pdf)
}

#[tauri::command(rename_all = "snake_case")]
pub fn print_shift_report(state: State<'_, AppState>, shift_id: Option<String>) -> Cmd<PrintJobView> {
    state.printing(|r, s| r.print_shift_report(s, shift_id.as_deref()))
}

#[tauri::command(rename_all = "snake_case")]
pub fn verify_audit(state: State<'_, AppState>) -> Cmd<AuditVerifyView> {
    state.with(|r, _| r.verify_audit())
}

/// Exports the signed audit chain as JSON into `exports/` for an auditor; returns the path.
#[tauri::command(rename_all = "snake_case")]
pub fn export_audit(state: State<'_, AppState>) -> Cmd<String> {
    let json = state.with(|r, s| {
        let export = r.export_audit(s)?;
        serde_json::to_vec_pretty(&export).map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))
    })?;
    crate::files::save(&state.data_dir.join("exports"), "audit-export.json", &json)
}

// ---- cloud sync ------------------------------------------------------------------------------

/// The cloud page: connection, progress and the records the cloud refused (managers and owners).
#[tauri::command(rename_all = "snake_case")]
pub fn sync_overview(state: State<'_, AppState>) -> Cmd<SyncStatus> {
    state.with(|r, s| r.sync_overview(s))
}

/// Sends a refused record again with the next round, which starts at once.
#[tauri::command(rename_all = "snake_case")]
pub fn retry_quarantined(app: tauri::AppHandle, state: State<'_, AppState>, seq: i64) -> Cmd<SyncStatus> {
    let status = state.with(|r, s| r.retry_quarantined(s, seq))?;
    if let Some(w) = app.try_state::<SyncWorker>() {
        w.poke();
    }
    Ok(status)
}

/// Starts a sync round now instead of at the worker's next turn.
#[tauri::command(rename_all = "snake_case")]
pub fn sync_now(app: tauri::AppHandle, state: State<'_, AppState>) -> Cmd<SyncStatus> {
    let status = state.with(|r, s| r.sync_overview(s))?;
    match app.try_state::<SyncWorker>() {
        Some(w) if status.enrolled => {
            w.poke();
            Ok(status)
        }
        _ => Err(AppError::new(
            ErrorCode::NotEnrolled,
            "this register is not connected to the cloud: an owner enrols it with `posctl sync enroll`",
        )),
    }
}

// ---- quitting --------------------------------------------------------------------------------

/// Quits once the person at the register has seen the count of unsynced records and confirmed.
#[tauri::command(rename_all = "snake_case")]
pub fn quit(app: tauri::AppHandle, state: State<'_, AppState>) {
    state.quit_confirmed.store(true, Ordering::SeqCst);
    if let Ok(mut c) = state.lock()
        && let Some(s) = c.session.take()
    {
        let _ = c.reg.sign_out(&s);
    }
    app.exit(0);
}
