//! Shared set-up for the integration tests: a temporary store, an in-memory secret store, a manual
//! clock, the demo venue or a custom one, sign-in with the demo PINs, the owner's back-office access
//! (PIN + TOTP), and a snapshot of everything a refused request must leave untouched.

use std::sync::Arc;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use pos_app::demo::{demo_catalog, demo_staff, demo_venue, init_demo};
use pos_app::pos_core::money::{Currency, Money, Quantity};
use pos_app::pos_core::report::{DailySummary, ShiftReport};
use pos_app::pos_core::tax::{PriceMode, TaxRounding};
use pos_app::pos_core::tender::{CardAuthorization, Tender};
use pos_app::views::{ExportOrderView, OrderView, OutboxStatus, SaleReceipt, ShiftView};
use pos_app::{
    AppError, AppResult, Clock, ErrorCode, ItemRef, ManualClock, MemorySecretStore, Register, Session, TaxClassSetup,
    VenueSetup,
};

/// 10:00 in Berlin (CEST) on an ordinary Monday: business day 2026-06-15 for the demo venue.
pub const T0: &str = "2026-06-15T08:00:00Z";

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("bad timestamp {s:?}: {e}"))
}

pub fn date(s: &str) -> Date {
    s.parse().unwrap_or_else(|e| panic!("bad date {s:?}: {e}"))
}

pub fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

pub fn qty(units: i64) -> Quantity {
    Quantity::units(units)
}

pub fn cash(minor: i64, currency: Currency) -> Tender {
    Tender::Cash { tendered: Money::new(minor, currency) }
}

pub fn card(minor: i64, currency: Currency) -> Tender {
    Tender::Card {
        amount: Money::new(minor, currency),
        auth: CardAuthorization::new("4242", "VISA", "A1B2C3", "T1-000001").expect("valid card result"),
    }
}

/// A register in a temporary directory, with the secret store and clock it was made with.
pub struct Fixture {
    // Fields drop in declaration order: the register closes before the directory is removed.
    pub reg: Register,
    pub secrets: MemorySecretStore,
    pub clock: Arc<ManualClock>,
    pub recovery: String,
    /// The owner's authenticator app for this store (empty until they enrol).
    pub authenticator: Authenticator,
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Closes the register and opens the store again from disk with the same secrets and clock.
    /// Sessions do not survive this; the owner's authenticator enrolment does.
    pub fn reopen(self) -> Fixture {
        let Fixture { reg, secrets, clock, recovery, authenticator, dir } = self;
        drop(reg);
        let reg = Register::open(dir.path(), &secrets, clock.clone()).expect("reopen the store");
        Fixture { reg, secrets, clock, recovery, authenticator, dir }
    }

    /// The owner, signed in with back-office access. Moves the clock on by 30 s (see [`back_office`]).
    pub fn back_office(&mut self) -> Session {
        back_office(&mut self.reg, &self.clock, &mut self.authenticator)
    }
}

/// The owner's authenticator app for one store: holds the TOTP secret once the owner has enrolled,
/// and the last step whose code it handed out.
#[derive(Debug, Default)]
pub struct Authenticator {
    secret: Option<Vec<u8>>,
    last_step: Option<u64>,
}

impl Authenticator {
    fn code(&mut self, clock: &ManualClock) -> String {
        let secret = self.secret.as_ref().expect("the authenticator is enrolled");
        let now = u64::try_from(clock.now().as_second()).expect("the clock is after 1970");
        let step = now / pos_app::pos_auth::totp::STEP_SECS;
        assert!(
            self.last_step.is_none_or(|last| step > last),
            "TOTP step {step} was already used: move the clock on before asking for another code"
        );
        self.last_step = Some(step);
        pos_app::pos_auth::totp::code_at(secret, now)
    }
}

/// Signs in the owner (Oskar Brandt, PIN 4711) and opens back-office access with the PIN and a
/// current TOTP code. The first time in a store it enrols the owner's authenticator, confirming
/// with the code of the current 30-second step. A step is never accepted twice, so the clock moves
/// on by 30 s before the code for elevating is taken: after this call the clock reads 30 s later.
/// Back-office access then lasts 5 minutes; the session locks after 2 idle minutes.
pub fn back_office(reg: &mut Register, clock: &ManualClock, authenticator: &mut Authenticator) -> Session {
    let owner = sign_in(reg, "Oskar Brandt");
    assert_eq!(owner.role(), "owner");
    if authenticator.secret.is_none() {
        let enrolment = reg.begin_totp_enrolment(&owner, owner.staff_id()).expect("begin TOTP enrolment");
        let secret = data_encoding::BASE32_NOPAD
            .decode(enrolment.secret_base32.as_bytes())
            .expect("the enrolment secret is base32");
        authenticator.secret = Some(secret);
        let code = authenticator.code(clock);
        reg.confirm_totp_enrolment(&owner, owner.staff_id(), &code).expect("confirm TOTP enrolment");
    }
    clock.advance(SignedDuration::from_secs(30));
    let code = authenticator.code(clock);
    let pin = pos_app::demo::demo_pin("Oskar Brandt").expect("owner PIN");
    let view = reg.elevate(&owner, &pin, &code).expect("PIN and TOTP open the back office");
    assert!(view.elevated_until.is_some());
    owner
}

/// The demo café (Berlin, EUR, prices include tax, no cash rounding) with its ~300 SKUs.
pub fn demo() -> Fixture {
    demo_at(ts(T0))
}

pub fn demo_at(start: Timestamp) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let secrets = MemorySecretStore::default();
    let clock = Arc::new(ManualClock::new(start));
    let (reg, recovery) = init_demo(dir.path(), &secrets, clock.clone()).expect("init demo store");
    let recovery = recovery.reveal().to_string();
    Fixture { reg, secrets, clock, recovery, authenticator: Authenticator::default(), dir }
}

/// The demo café with the owner already in the back office (for snapshots and exports). The
/// enrolment and elevation take the half minute before T0, so the clock reads T0 as with `demo()`.
pub fn demo_with_back_office() -> (Fixture, Session) {
    let mut f = demo_at(ts(T0) - SignedDuration::from_secs(30));
    let office = f.back_office();
    assert_eq!(f.clock.now(), ts(T0));
    (f, office)
}

/// A register with a custom venue, the demo staff and the demo catalog (whose tax classes are
/// "standard", "reduced" and "exempt"; the venue must define them).
pub fn custom(setup: &VenueSetup, start: Timestamp) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let secrets = MemorySecretStore::default();
    let clock = Arc::new(ManualClock::new(start));
    let (reg, recovery) = Register::init(dir.path(), &secrets, setup, &demo_staff(), &demo_catalog(), clock.clone())
        .expect("init custom store");
    let recovery = recovery.reveal().to_string();
    Fixture { reg, secrets, clock, recovery, authenticator: Authenticator::default(), dir }
}

/// The demo venue moved to another zone, currency and cut-off hour.
pub fn venue(time_zone: &str, currency: &str, cutoff: i64) -> VenueSetup {
    VenueSetup {
        name: format!("Test venue {time_zone}"),
        currency: currency.into(),
        time_zone: time_zone.into(),
        day_cutoff_hour: cutoff,
        terminal: None,
        ..demo_venue()
    }
}

/// Prices exclude tax, cash is rounded to 0.05, tax is rounded per invoice.
pub fn exclusive_rounding_venue() -> VenueSetup {
    let class =
        |name: &str, code: &str, ppm| TaxClassSetup { name: name.into(), rates: vec![(code.into(), name.into(), ppm)] };
    VenueSetup {
        name: "Zürich Kiosk".into(),
        currency: "CHF".into(),
        time_zone: "Europe/Zurich".into(),
        day_cutoff_hour: 5,
        price_mode: PriceMode::TaxExclusive,
        tax_rounding: TaxRounding::PerInvoice,
        cash_rounding: 5,
        tax_classes: vec![class("standard", "N", 81_000), class("reduced", "R", 26_000), class("exempt", "X", 0)],
        device_name: "Kiosk".into(),
        terminal: None,
    }
}

/// Signs in the demo staff member with this name, using the PIN from `demo_staff()`.
pub fn sign_in(reg: &mut Register, name: &str) -> Session {
    pos_app::demo::sign_in_as(reg, name).expect("demo PIN signs in")
}

pub fn cashier(reg: &mut Register) -> Session {
    sign_in(reg, "Jonas Weber")
}

pub fn manager(reg: &mut Register) -> Session {
    sign_in(reg, "Mia Keller")
}

/// Unlocks a session that locked itself while the test moved the clock on.
pub fn awake(reg: &mut Register, s: &Session) {
    pos_app::demo::keep_unlocked(reg, s).unwrap_or_else(|e| panic!("unlock {}: {e}", s.name()));
}

/// Opens an order, adds `(sku code, units)` lines and returns the order id.
pub fn ring_up(reg: &mut Register, s: &Session, items: &[(&str, i64)]) -> String {
    let order = reg.open_order(s).expect("open order");
    for (code, n) in items {
        reg.add_item(s, &order, ItemRef::Code(code), qty(*n)).unwrap_or_else(|e| panic!("add {code}: {e}"));
    }
    order
}

/// Rings up and pays in exact cash.
pub fn sell_cash(reg: &mut Register, s: &Session, items: &[(&str, i64)]) -> SaleReceipt {
    let order = ring_up(reg, s, items);
    let due = reg.order_view(&order).expect("order view").total_cash;
    reg.pay(s, &order, &[Tender::Cash { tendered: due }]).expect("pay cash")
}

/// Rings up and pays the exact total by card.
pub fn sell_card(reg: &mut Register, s: &Session, items: &[(&str, i64)]) -> SaleReceipt {
    let order = ring_up(reg, s, items);
    let due = reg.order_view(&order).expect("order view").total;
    let currency = due.currency();
    reg.pay(s, &order, &[card(due.minor(), currency)]).expect("pay card")
}

/// Asserts that `r` failed with `code`, and returns the message.
#[track_caller]
pub fn expect_err<T: std::fmt::Debug>(r: AppResult<T>, code: ErrorCode) -> String {
    match r {
        Ok(v) => panic!("expected {code:?}, got Ok({v:?})"),
        Err(AppError { code: got, message, .. }) => {
            assert_eq!(got, code, "wrong error code; message: {message}");
            message
        }
    }
}

/// Everything observable about the domain that a refused request must not change. The audit chain is
/// left out on purpose: refusals are audited, so it grows.
#[derive(Debug)]
pub struct Snapshot {
    pub outbox: OutboxStatus,
    pub pending: Vec<(i64, String, String)>,
    pub sales: Vec<ExportOrderView>,
    pub summary: DailySummary,
    pub shift: Option<ShiftView>,
    pub x_report: Option<ShiftReport>,
    pub open_orders: Vec<(String, Result<OrderView, AppError>)>,
    pub catalog_skus: usize,
}

/// Reads the snapshot with `office`, a session with back-office access (see [`back_office`]): the
/// sales export needs it, the reports need view_reports.
pub fn snapshot(reg: &mut Register, office: &Session) -> Snapshot {
    let day = reg.today();
    let from = day.yesterday().expect("date in range");
    let to = day.tomorrow().expect("date in range");
    Snapshot {
        outbox: reg.outbox_status().expect("outbox status"),
        pending: reg
            .outbox_pending(i64::MAX)
            .expect("outbox pending")
            .into_iter()
            .map(|r| (r.seq, r.op_id, r.kind))
            .collect(),
        sales: reg.export_sales(office, from, to).expect("export sales"),
        summary: reg.daily_summary(office, day).expect("daily summary"),
        shift: reg.current_shift().expect("current shift"),
        x_report: match reg.x_report(office) {
            Ok(x) => Some(x),
            Err(e) if e.code == ErrorCode::NoOpenShift => None,
            Err(e) => panic!("X report for the snapshot: {e}"),
        },
        open_orders: reg.open_orders().into_iter().map(|id| (id.clone(), reg.order_view(&id))).collect(),
        catalog_skus: reg.catalog().len(),
    }
}

/// Runs a request that must be refused with `code` and asserts that nothing observable changed
/// (`office` reads the snapshots; it must have back-office access).
#[track_caller]
pub fn refused<T: std::fmt::Debug>(
    reg: &mut Register,
    office: &Session,
    code: ErrorCode,
    request: impl FnOnce(&mut Register) -> AppResult<T>,
) -> String {
    let before = snapshot(reg, office);
    let message = expect_err(request(reg), code);
    let after = snapshot(reg, office);
    let changed = before.differences(&after);
    assert!(
        changed.is_empty(),
        "a refused request ({code:?}: {message}) changed the register:\n{}",
        changed.join("\n")
    );
    message
}

impl Snapshot {
    /// The parts that differ, each with its value before and after (short enough to read).
    fn differences(&self, after: &Snapshot) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |name: &str, a: String, b: String| {
            if a != b {
                out.push(format!("{name}:\n  before: {a}\n  after:  {b}"));
            }
        };
        check("outbox", format!("{:?}", self.outbox), format!("{:?}", after.outbox));
        check("pending records", format!("{:?}", self.pending), format!("{:?}", after.pending));
        check("exported sales", format!("{:?}", self.sales), format!("{:?}", after.sales));
        check("daily summary", format!("{:?}", self.summary), format!("{:?}", after.summary));
        check("shift", format!("{:?}", self.shift), format!("{:?}", after.shift));
        check("X report", format!("{:?}", self.x_report), format!("{:?}", after.x_report));
        check("open orders", format!("{:?}", self.open_orders), format!("{:?}", after.open_orders));
        check("catalog size", self.catalog_skus.to_string(), after.catalog_skus.to_string());
        out
    }
}
