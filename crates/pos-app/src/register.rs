//! The register façade: every use case the app, `posctl` and the tests may call. It owns the
//! store's write transactions; each state change commits its rows and its outbox record together.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use pos_audit::Event;
use pos_auth::overrides::{OverrideAction, OverrideKind};
use pos_auth::permissions::{Permission, Role};
use pos_core::business_day::BusinessDayRule;
use pos_core::catalog::{Catalog, Sku};
use pos_core::money::{Currency, Money, Quantity, format_minor};
use pos_core::order::{Discount, Order, PricedOrder, PricingRules};
use pos_core::refund::{RefundRequest, compute_refund};
use pos_core::report::{
    DailySummary, ItemMix, ItemMixTotals, PaymentReconciliation, SalesTotals, ShiftCashFacts, ShiftReport,
    ShiftReportKind, TaxExport, TaxExportTotals, cash_summary, reconcile,
};
use pos_core::rounding::round_to_increment;
use pos_core::shift::{CashCount, CashMovementKind, check_float, check_movement};
use pos_core::tax::{PriceMode, TaxRounding, TaxTable, format_rate};
use pos_core::tender::{Settlement, Tender, settle};
use pos_store::catalog::VenueRow;
use pos_store::orders::{NewOrder, NewRefund, OrderKey, OrderOutcome};
use pos_store::reports::Scope;
use pos_store::security::StaffSecurity;
use pos_store::shifts::ShiftRow;
use pos_store::{RecoverySecret, SecretStore, Store};
use pos_sync_protocol as wire;

use crate::catalog_import::{self, CatalogRow};
use crate::clock::Clock;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::pin;
use crate::security::{Actor, Approval, Auditor, POLICY_SETTING, SecurityPolicy, SecurityState, Session, StaffAccess};
use crate::views::*;

/// How the cashier names an item: by SKU code or by a scanned barcode.
#[derive(Debug, Clone, Copy)]
pub enum ItemRef<'a> {
    Code(&'a str),
    Barcode(&'a str),
}

/// How a paid order is named when voiding or refunding it.
#[derive(Debug, Clone)]
pub enum OrderRef {
    Id(String),
    Receipt(i64),
}

/// What a payment report covers.
#[derive(Debug, Clone)]
pub enum PaymentsScope {
    /// Shifts opened on this business day.
    Day(Date),
    Shift(String),
}

#[derive(Debug, Clone)]
pub struct TaxClassSetup {
    pub name: String,
    /// (code, name, rate in millionths)
    pub rates: Vec<(String, String, i64)>,
}

/// Everything `init` needs to know about a venue.
#[derive(Debug, Clone)]
pub struct VenueSetup {
    pub name: String,
    pub currency: String,
    pub time_zone: String,
    pub day_cutoff_hour: i64,
    pub price_mode: PriceMode,
    pub tax_rounding: TaxRounding,
    pub cash_rounding: i64,
    pub tax_classes: Vec<TaxClassSetup>,
    pub device_name: String,
    /// The payment terminal to start with (none: card payments are refused until one is set).
    pub terminal: Option<pos_terminal::TerminalConfig>,
}

#[derive(Debug, Clone)]
pub struct StaffSetup {
    pub name: String,
    pub role: String,
    pub pin: String,
}

pub(crate) struct Venue {
    pub(crate) name: String,
    pub(crate) currency: Currency,
    pub(crate) rules: PricingRules,
    pub(crate) day: BusinessDayRule,
    pub(crate) taxes: TaxTable,
}

/// An edited copy of an order, priced before and after the edit.
struct Trial {
    order: Order,
    before: Option<PricedOrder>,
    after: Option<PricedOrder>,
}

impl Trial {
    fn line(&self, before: bool, line_no: u32) -> Option<&pos_core::order::PricedLine> {
        let p = if before { &self.before } else { &self.after };
        p.as_ref().and_then(|p| p.lines.iter().find(|l| l.line_no == line_no))
    }
}

struct Cart {
    order: Order,
    staff_id: i64,
    opened_at: Timestamp,
}

pub struct Register {
    pub(crate) store: Store,
    pub(crate) venue: Venue,
    catalog: Catalog,
    pub(crate) staff: Vec<StaffSecurity>,
    carts: HashMap<String, Cart>,
    pub(crate) printing: crate::printing::PrintState,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) policy: SecurityPolicy,
    pub(crate) security: SecurityState,
    pub(crate) auditor: Auditor,
}

impl std::fmt::Debug for Register {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Register").field("store", &self.store).field("open_orders", &self.carts.len()).finish()
    }
}

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

fn from_micros(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn utc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn load_venue(store: &Store) -> AppResult<Venue> {
    let row = pos_store::catalog::load_venue(store.conn())?
        .ok_or_else(|| AppError::new(ErrorCode::StoreDamaged, "the store has no venue settings"))?;
    let currency = Currency::from_code(&row.currency)?;
    let rules = PricingRules {
        price_mode: if row.prices_include_tax { PriceMode::TaxInclusive } else { PriceMode::TaxExclusive },
        tax_rounding: if row.tax_rounding == "per_invoice" { TaxRounding::PerInvoice } else { TaxRounding::PerLine },
        cash_rounding: row.cash_rounding,
    };
    let taxes = TaxTable::new(pos_store::catalog::load_tax_classes(store.conn())?)?;
    Ok(Venue {
        name: row.name,
        currency,
        rules,
        day: BusinessDayRule::new(&row.time_zone, row.day_cutoff_hour)?,
        taxes,
    })
}

fn validate_setup(setup: &VenueSetup) -> AppResult<()> {
    if setup.name.trim().is_empty() {
        return Err(AppError::invalid("the venue needs a name"));
    }
    Currency::from_code(&setup.currency)?;
    BusinessDayRule::new(&setup.time_zone, setup.day_cutoff_hour)?;
    if setup.cash_rounding < 1 {
        return Err(AppError::invalid("cash rounding must be at least 1 minor unit"));
    }
    if setup.tax_classes.is_empty() {
        return Err(AppError::invalid("at least one tax class is needed"));
    }
    for c in &setup.tax_classes {
        if c.rates.is_empty() {
            return Err(AppError::invalid(format!("tax class {:?} has no rate", c.name)));
        }
        for (code, _, ppm) in &c.rates {
            if !(0..=1_000_000).contains(ppm) {
                return Err(AppError::invalid(format!("tax rate {code:?} is out of range")));
            }
        }
    }
    Ok(())
}

/// Checks everything a new store will hold before anything is created.
fn check_new_store(
    setup: &VenueSetup,
    staff: &[StaffSetup],
    catalog: &[CatalogRow],
) -> AppResult<Vec<catalog_import::ValidRow>> {
    validate_setup(setup)?;
    for s in staff {
        pin::check_pin_format(&s.pin)?;
        parse_role(&s.role)?;
    }
    if !staff.iter().any(|s| s.role == "owner") {
        return Err(AppError::invalid("a new store needs an owner among its staff"));
    }
    let currency = Currency::from_code(&setup.currency)?;
    let class_names: Vec<String> = setup.tax_classes.iter().map(|c| c.name.clone()).collect();
    catalog_import::validate(catalog, &class_names, currency, None)
}

impl Register {
    /// Creates a new encrypted store with its venue, staff and catalog. Returns the recovery secret,
    /// which is shown once and never stored in clear.
    pub fn init(
        dir: &Path,
        secrets: &dyn SecretStore,
        setup: &VenueSetup,
        staff: &[StaffSetup],
        catalog: &[CatalogRow],
        clock: Arc<dyn Clock>,
    ) -> AppResult<(Register, RecoverySecret)> {
        let rows = check_new_store(setup, staff, catalog)?;
        let (store, recovery) = Store::create(dir, secrets)?;
        Ok((Self::fill_new_store(store, setup, staff, &rows, clock)?, recovery))
    }

    /// The same as [`Register::init`] on an unencrypted store, so benchmarks can show what
    /// encryption costs. No binary that handles real sales can reach it.
    #[cfg(feature = "test-support")]
    pub fn init_unencrypted_for_benchmark(
        dir: &Path,
        secrets: &dyn SecretStore,
        setup: &VenueSetup,
        staff: &[StaffSetup],
        catalog: &[CatalogRow],
        clock: Arc<dyn Clock>,
    ) -> AppResult<Register> {
        let rows = check_new_store(setup, staff, catalog)?;
        let store = Store::create_unencrypted_for_benchmark(dir, secrets)?;
        Self::fill_new_store(store, setup, staff, &rows, clock)
    }

    fn fill_new_store(
        mut store: Store,
        setup: &VenueSetup,
        staff: &[StaffSetup],
        rows: &[catalog_import::ValidRow],
        clock: Arc<dyn Clock>,
    ) -> AppResult<Register> {
        let now = clock.now();
        let pepper = *store.pin_pepper();
        let audit_seed = zeroize::Zeroizing::new(*store.audit_key_seed());
        let store_id = store.store_id().to_owned();
        let offset =
            BusinessDayRule::new(&setup.time_zone, setup.day_cutoff_hour)?.local(now).strftime("%:z").to_string();
        let hashes: Vec<String> = staff.iter().map(|s| pin::hash_pin(&pepper, &s.pin)).collect::<AppResult<_>>()?;
        let tx = store.write()?;
        pos_store::catalog::insert_venue(
            &tx,
            &VenueRow {
                name: setup.name.trim().to_owned(),
                currency: setup.currency.clone(),
                time_zone: setup.time_zone.clone(),
                day_cutoff_hour: setup.day_cutoff_hour,
                prices_include_tax: setup.price_mode == PriceMode::TaxInclusive,
                tax_rounding: match setup.tax_rounding {
                    TaxRounding::PerLine => "per_line".into(),
                    TaxRounding::PerInvoice => "per_invoice".into(),
                },
                cash_rounding: setup.cash_rounding,
            },
        )?;
        let device_id = new_id();
        pos_store::catalog::insert_device(&tx, &device_id, &setup.device_name, micros(now))?;
        let auditor = Auditor::new(&audit_seed, device_id);
        pos_store::security::set_audit_public_key(&tx, &auditor.public_key_hex())?;
        let policy = serde_json::to_string(&SecurityPolicy::DEFAULT).expect("policy serialises");
        pos_store::security::put_setting(&tx, POLICY_SETTING, &policy)?;
        if let Some(t) = &setup.terminal {
            let json = serde_json::to_string(t).expect("terminal config serialises");
            pos_store::security::put_setting(&tx, crate::payments::TERMINAL_SETTING, &json)?;
        }
        for c in &setup.tax_classes {
            let id = pos_store::catalog::insert_tax_class(&tx, &c.name)?;
            for (code, name, ppm) in &c.rates {
                pos_store::catalog::insert_tax_rate(&tx, id, code, name, *ppm)?;
            }
        }
        for (s, h) in staff.iter().zip(&hashes) {
            let access = StaffAccess::preset(parse_role(&s.role)?);
            pos_store::security::insert_staff(
                &tx,
                &pos_store::security::NewStaff {
                    name: s.name.trim(),
                    role: access.role.as_str(),
                    pin_hash: h,
                    permissions: access.permissions.bits(),
                    max_discount_bp: access.max_discount_bp,
                    totp_required: access.totp_required,
                },
            )?;
        }
        let summary = catalog_import::write(&tx, rows)?;
        let ev = Event::new("store_created", "ok")
            .subject("store", store_id)
            .detail("venue", setup.name.trim())
            .detail("staff", staff.len() as u64)
            .detail("skus", summary.skus_created as u64);
        auditor.append(&tx, now, &offset, &ev)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        Self::from_store(store, clock)
    }

    /// Opens the register's store with the key from the credential store.
    pub fn open(dir: &Path, secrets: &dyn SecretStore, clock: Arc<dyn Clock>) -> AppResult<Register> {
        Self::from_store(Store::open(dir, secrets)?, clock)
    }

    /// Opens the store with the recovery secret and writes its keys back to the credential store.
    pub fn recover(
        dir: &Path,
        secrets: &dyn SecretStore,
        recovery: &str,
        clock: Arc<dyn Clock>,
    ) -> AppResult<Register> {
        let secret = RecoverySecret::parse(recovery)?;
        let mut reg = Self::from_store(Store::recover(dir, secrets, &secret)?, clock)?;
        reg.audit_alone(Event::new("store_restored", "ok").detail("method", "recovery_secret"))?;
        Ok(reg)
    }

    /// Wraps an already opened store (benchmarks use this for an unencrypted comparison store).
    pub fn from_store(store: Store, clock: Arc<dyn Clock>) -> AppResult<Register> {
        let venue = load_venue(&store)?;
        let catalog = pos_store::catalog::load_catalog(store.conn())?;
        let staff = pos_store::security::all_staff(store.conn())?;
        let policy = match pos_store::security::setting(store.conn(), POLICY_SETTING)? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| AppError::new(ErrorCode::StoreDamaged, format!("stored security policy: {e}")))?,
            None => SecurityPolicy::DEFAULT,
        };
        let device_id = pos_store::catalog::device_id(store.conn())?
            .ok_or_else(|| AppError::new(ErrorCode::StoreDamaged, "the store has no device record"))?;
        let auditor = Auditor::new(store.audit_key_seed(), device_id);
        Ok(Register {
            store,
            venue,
            catalog,
            staff,
            carts: HashMap::new(),
            printing: Default::default(),
            clock,
            policy,
            security: SecurityState::default(),
            auditor,
        })
    }

    pub fn currency(&self) -> Currency {
        self.venue.currency
    }

    pub fn venue_name(&self) -> &str {
        &self.venue.name
    }

    pub fn business_day_rule(&self) -> &BusinessDayRule {
        &self.venue.day
    }

    pub fn today(&self) -> Date {
        self.venue.day.day_of(self.clock.now())
    }

    pub(crate) fn local(&self, t: Timestamp) -> String {
        self.venue.day.local(t).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }

    pub(crate) fn cash_rounding(&self) -> i64 {
        self.venue.rules.cash_rounding
    }

    pub(crate) fn store_conn(&self) -> &pos_store::Connection {
        self.store.conn()
    }

    fn money(&self, minor: i64) -> Money {
        Money::new(minor, self.venue.currency)
    }

    pub(crate) fn staff_name(&self, id: i64) -> String {
        self.staff.iter().find(|s| s.id == id).map_or_else(|| format!("#{id}"), |s| s.name.clone())
    }

    // ---- staff -------------------------------------------------------------------------------

    /// The staff picker of the lock screen: active staff, names and roles only.
    pub fn staff(&self) -> Vec<StaffView> {
        self.staff
            .iter()
            .filter(|s| s.active)
            .map(|s| StaffView { id: s.id, name: s.name.clone(), role: s.role.clone() })
            .collect()
    }

    // ---- catalog -----------------------------------------------------------------------------

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Reads the catalog again after something other than an import changed it (a cloud pull).
    pub(crate) fn reload_catalog(&mut self) -> AppResult<()> {
        self.catalog = pos_store::catalog::load_catalog(self.store.conn())?;
        Ok(())
    }

    pub(crate) fn sku_view(&self, s: &Sku) -> SkuView {
        SkuView {
            sku: s.code.clone(),
            name: s.display_name(),
            category: self.catalog.category(s.category_id).map_or_else(String::new, |c| c.name.clone()),
            price: self.money(s.price),
            barcodes: s.barcodes.clone(),
        }
    }

    pub fn search(&self, fragment: &str, limit: usize) -> Vec<SkuView> {
        self.catalog.search(fragment, limit).into_iter().map(|s| self.sku_view(s)).collect()
    }

    pub fn lookup_barcode(&self, barcode: &str) -> AppResult<SkuView> {
        let s = self
            .catalog
            .by_barcode(barcode)
            .ok_or_else(|| AppError::not_found(format!("unknown barcode {barcode:?}")))?;
        Ok(self.sku_view(s))
    }

    /// Imports catalog rows: all or nothing. Every bad row is reported with its line number.
    pub fn import_catalog(&mut self, session: &Session, rows: &[CatalogRow]) -> AppResult<ImportSummary> {
        let actor = self.authorize(session, Some(Permission::ManageCatalog), "catalog_imported")?;
        let class_names: Vec<String> = self.venue.taxes.classes().iter().map(|c| c.name.clone()).collect();
        let valid = catalog_import::validate(rows, &class_names, self.venue.currency, Some(self.store.conn()))?;
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        let summary = catalog_import::write(&tx, &valid)?;
        let ev = Event::new("catalog_imported", "ok")
            .actor(actor.id, &actor.name)
            .detail("rows", rows.len() as u64)
            .detail("skus_created", summary.skus_created as u64)
            .detail("skus_updated", summary.skus_updated as u64);
        self.auditor.append(&tx, now, &offset, &ev)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        self.catalog = pos_store::catalog::load_catalog(self.store.conn())?;
        Ok(summary)
    }

    // ---- orders ------------------------------------------------------------------------------

    /// Starts a new order for the signed-in cashier. Returns its id.
    pub fn open_order(&mut self, session: &Session) -> AppResult<String> {
        self.authorize(session, Some(Permission::Sell), "open_order")?;
        let id = new_id();
        self.carts.insert(
            id.clone(),
            Cart { order: Order::new(self.venue.currency), staff_id: session.staff_id(), opened_at: self.clock.now() },
        );
        Ok(id)
    }

    /// Orders being rung up, oldest first.
    pub fn open_orders(&self) -> Vec<String> {
        let mut v: Vec<(&String, &Cart)> = self.carts.iter().collect();
        v.sort_by_key(|(_, c)| c.opened_at);
        v.into_iter().map(|(id, _)| id.clone()).collect()
    }

    fn cart_mut(&mut self, order_id: &str) -> AppResult<&mut Cart> {
        self.carts.get_mut(order_id).ok_or_else(|| AppError::not_found(format!("no open order {order_id}")))
    }

    fn cart(&self, order_id: &str) -> AppResult<&Cart> {
        self.carts.get(order_id).ok_or_else(|| AppError::not_found(format!("no open order {order_id}")))
    }

    fn find_sku(&self, item: ItemRef) -> AppResult<Sku> {
        match item {
            ItemRef::Code(c) => {
                self.catalog.by_code(c).cloned().ok_or_else(|| AppError::not_found(format!("unknown SKU {c:?}")))
            }
            ItemRef::Barcode(b) => {
                self.catalog.by_barcode(b).cloned().ok_or_else(|| AppError::not_found(format!("unknown barcode {b:?}")))
            }
        }
    }

    /// Applies `edit` to a copy of an open order and prices both: nothing changes until
    /// [`Register::commit_edit`]. An edit that is refused, or leaves an order that cannot be priced
    /// (an order discount larger than what is left), changes nothing.
    fn try_edit(
        &self,
        order_id: &str,
        edit: impl FnOnce(&mut Order) -> Result<(), pos_core::order::OrderError>,
    ) -> AppResult<Trial> {
        let cart = self.cart(order_id)?;
        let mut order = cart.order.clone();
        edit(&mut order)?;
        let price = |o: &Order| -> AppResult<Option<PricedOrder>> {
            if o.is_empty() { Ok(None) } else { Ok(Some(o.price(&self.venue.rules, &self.venue.taxes)?)) }
        };
        Ok(Trial { before: price(&cart.order)?, after: price(&order)?, order })
    }

    /// Puts an edited order in place, after writing its audit entry (if the edit is one the chain
    /// records), and uses up the approval that allowed it.
    fn commit_edit(
        &mut self,
        order_id: &str,
        trial: Trial,
        event: Option<Event>,
        approval: Option<Approval>,
    ) -> AppResult<OrderView> {
        if let Some(ev) = event {
            self.audit_alone(Approval::stamp_opt(approval.as_ref(), ev).subject("order", order_id))?;
        }
        self.cart_mut(order_id)?.order = trial.order;
        self.consume(approval.as_ref());
        self.order_view(order_id)
    }

    pub fn add_item(
        &mut self,
        session: &Session,
        order_id: &str,
        item: ItemRef,
        qty: Quantity,
    ) -> AppResult<OrderView> {
        self.authorize(session, Some(Permission::Sell), "add_item")?;
        let sku = self.find_sku(item)?;
        let trial = self.try_edit(order_id, |o| o.add(&sku, qty).map(|_| ()))?;
        self.commit_edit(order_id, trial, None, None)
    }

    /// A change of quantity. Lowering it is a line void of the difference (policy and audit).
    pub fn set_quantity(
        &mut self,
        session: &Session,
        order_id: &str,
        line_no: u32,
        qty: Quantity,
    ) -> AppResult<OrderView> {
        let actor = self.authorize(session, Some(Permission::Sell), "line_void")?;
        let trial = self.try_edit(order_id, |o| o.set_quantity(line_no, qty))?;
        self.line_void(actor, order_id, line_no, trial)
    }

    /// Removes a line: a line void (policy and audit).
    pub fn remove_line(&mut self, session: &Session, order_id: &str, line_no: u32) -> AppResult<OrderView> {
        let actor = self.authorize(session, Some(Permission::Sell), "line_void")?;
        let trial = self.try_edit(order_id, |o| o.remove(line_no).map(|_| ()))?;
        self.line_void(actor, order_id, line_no, trial)
    }

    fn line_void(&mut self, actor: Actor, order_id: &str, line_no: u32, trial: Trial) -> AppResult<OrderView> {
        let (before, after) = (trial.line(true, line_no), trial.line(false, line_no));
        let reduction = before.map_or(0, |l| l.amount) - after.map_or(0, |l| l.amount);
        if reduction <= 0 {
            return self.commit_edit(order_id, trial, None, None);
        }
        let action = OverrideAction {
            kind: OverrideKind::LineVoid,
            amount: reduction,
            subject: format!("{order_id}/{line_no}"),
        };
        let approval = self.require_override(&actor, action)?;
        let ev = Event::new("line_void", "ok")
            .actor(actor.id, &actor.name)
            .subject("line", line_no)
            .amount(reduction, &self.venue.currency.to_string())
            .detail("sku", before.map_or_else(String::new, |l| l.item.sku_code.clone()))
            .detail("qty_before_milli", before.map_or(0, |l| l.qty.milli()))
            .detail("qty_after_milli", after.map_or(0, |l| l.qty.milli()));
        self.commit_edit(order_id, trial, Some(ev), approval)
    }

    /// A line discount (or none). Above the person's own limit or the policy's threshold it
    /// needs a manager.
    pub fn set_line_discount(
        &mut self,
        session: &Session,
        order_id: &str,
        line_no: u32,
        discount: Option<Discount>,
    ) -> AppResult<OrderView> {
        let actor = self.authorize(session, Some(Permission::Sell), "discount")?;
        let trial = self.try_edit(order_id, |o| o.set_line_discount(line_no, discount))?;
        let Some(d) = discount else { return self.commit_edit(order_id, trial, None, None) };
        let base = trial.line(false, line_no).map_or(0, |l| l.extended);
        self.discount(actor, order_id, format!("{order_id}/{line_no}"), d, base, trial)
    }

    pub fn set_order_discount(
        &mut self,
        session: &Session,
        order_id: &str,
        discount: Option<Discount>,
    ) -> AppResult<OrderView> {
        let actor = self.authorize(session, Some(Permission::Sell), "discount")?;
        let trial = self.try_edit(order_id, |o| o.set_discount(discount))?;
        let Some(d) = discount else { return self.commit_edit(order_id, trial, None, None) };
        let base = trial.after.as_ref().map_or(0, |p| p.lines.iter().map(|l| l.extended - l.line_discount).sum());
        self.discount(actor, order_id, order_id.to_owned(), d, base, trial)
    }

    fn discount(
        &mut self,
        actor: Actor,
        order_id: &str,
        subject: String,
        d: Discount,
        base: i64,
        trial: Trial,
    ) -> AppResult<OrderView> {
        let bp = match d {
            Discount::Percent(bp) => bp,
            Discount::Amount(a) if base > 0 => (a * 10_000 + base - 1) / base,
            Discount::Amount(_) => 10_000,
        };
        let action = OverrideAction { kind: OverrideKind::Discount, amount: bp, subject: subject.clone() };
        let approval = self.require_override(&actor, action)?;
        let total = |p: &Option<PricedOrder>| p.as_ref().map_or(0, |p| p.discount_total);
        let ev = Event::new("discount", "ok")
            .actor(actor.id, &actor.name)
            .subject("target", subject)
            .amount(total(&trial.after) - total(&trial.before), &self.venue.currency.to_string())
            .detail("basis_points", bp)
            .detail("kind", if matches!(d, Discount::Percent(_)) { "percent" } else { "amount" });
        self.commit_edit(order_id, trial, Some(ev), approval)
    }

    pub fn override_price(
        &mut self,
        session: &Session,
        order_id: &str,
        line_no: u32,
        unit_price: Money,
    ) -> AppResult<OrderView> {
        let actor = self.authorize(session, Some(Permission::Sell), "price_override")?;
        if unit_price.currency() != self.venue.currency {
            return Err(AppError::new(ErrorCode::CurrencyMismatch, format!("prices are in {}", self.venue.currency)));
        }
        let trial = self.try_edit(order_id, |o| o.override_price(line_no, unit_price.minor()))?;
        let action = OverrideAction {
            kind: OverrideKind::PriceOverride,
            amount: unit_price.minor(),
            subject: format!("{order_id}/{line_no}"),
        };
        let approval = self.require_override(&actor, action)?;
        let before = trial.line(true, line_no);
        let ev = Event::new("price_override", "ok")
            .actor(actor.id, &actor.name)
            .subject("line", line_no)
            .amount(unit_price.minor(), &self.venue.currency.to_string())
            .detail("sku", before.map_or_else(String::new, |l| l.item.sku_code.clone()))
            .detail("list_price", before.map_or(0, |l| l.list_price))
            .detail("price_before", before.map_or(0, |l| l.unit_price));
        self.commit_edit(order_id, trial, Some(ev), approval)
    }

    fn view_of(&self, order_id: &str, p: &PricedOrder) -> OrderView {
        let m = |v| self.money(v);
        OrderView {
            order_id: order_id.to_owned(),
            currency: self.venue.currency.to_string(),
            lines: p
                .lines
                .iter()
                .map(|l| LineView {
                    line_no: l.line_no,
                    sku: l.item.sku_code.clone(),
                    name: l.item.name.clone(),
                    quantity: l.qty,
                    unit_price: m(l.unit_price),
                    list_price: m(l.list_price),
                    discount: None,
                    discount_amount: m(l.line_discount + l.order_discount),
                    amount: m(l.amount),
                    tax: m(l.tax()),
                })
                .collect(),
            subtotal: m(p.subtotal),
            discount_total: m(p.discount_total),
            taxes: p
                .taxes
                .iter()
                .map(|t| TaxLineView {
                    code: t.code.clone(),
                    rate: format_rate(t.rate_ppm),
                    base: m(t.base),
                    tax: m(t.tax),
                })
                .collect(),
            tax_total: m(p.tax_total),
            total: m(p.total),
            total_cash: m(round_to_increment(p.total, self.venue.rules.cash_rounding)),
        }
    }

    /// The order as it stands, priced.
    pub fn order_view(&self, order_id: &str) -> AppResult<OrderView> {
        let cart = self.cart(order_id)?;
        if cart.order.is_empty() {
            let z = self.money(0);
            return Ok(OrderView {
                order_id: order_id.to_owned(),
                currency: self.venue.currency.to_string(),
                lines: Vec::new(),
                subtotal: z,
                discount_total: z,
                taxes: Vec::new(),
                tax_total: z,
                total: z,
                total_cash: z,
            });
        }
        let priced = cart.order.price(&self.venue.rules, &self.venue.taxes)?;
        let mut view = self.view_of(order_id, &priced);
        for (v, l) in view.lines.iter_mut().zip(cart.order.lines()) {
            v.discount = l.discount;
        }
        Ok(view)
    }

    fn require_open_shift(&self) -> AppResult<ShiftRow> {
        self.require_day_open(&self.today().to_string())?;
        pos_store::shifts::current_shift(self.store.conn())?
            .ok_or_else(|| AppError::new(ErrorCode::NoOpenShift, "no shift is open: open a shift with a float first"))
    }

    fn require_day_open(&self, day: &str) -> AppResult<()> {
        if pos_store::security::day_closed(self.store.conn(), day)? {
            return Err(AppError::new(
                ErrorCode::DayClosed,
                format!("business day {day} is closed: a manager must re-open it first"),
            ));
        }
        Ok(())
    }

    fn audit_export(&mut self, actor: &Actor, what: &str, from: Date, to: Date) -> AppResult<()> {
        let ev = Event::new("export", "ok")
            .actor(actor.id, &actor.name)
            .subject("export", what)
            .detail("from", from.to_string())
            .detail("to", to.to_string());
        self.audit_alone(ev).map(|_| ())
    }

    /// Opens the drawer without a sale (to give change, to check it). The pulse itself goes
    /// through the printer; this records it.
    pub fn no_sale(&mut self, session: &Session, reason: &str) -> AppResult<String> {
        let actor = self.authorize(session, Some(Permission::Sell), "drawer_open")?;
        let reason = clean_reason(reason)?;
        let shift = self.require_open_shift()?;
        let approval = self.require_override(
            &actor,
            OverrideAction { kind: OverrideKind::NoSale, amount: 0, subject: shift.uuid.clone() },
        )?;
        let ev = Event::new("drawer_open", "ok")
            .actor(actor.id, &actor.name)
            .subject("shift", shift.uuid)
            .reason(&reason)
            .detail("cause", "no_sale");
        let ev = Approval::stamp_opt(approval.as_ref(), ev);
        let entry = self.audit_alone(ev)?;
        self.consume(approval.as_ref());
        let _ = self.queue_drawer(&format!("no sale: {reason}"));
        Ok(entry.short_hash().to_owned())
    }

    /// Closes a business day: nothing more can be recorded on it. Every shift must be closed.
    pub fn close_day(&mut self, session: &Session, day: Date) -> AppResult<()> {
        let actor = self.authorize(session, Some(Permission::CloseDay), "day_closed")?;
        if let Some(s) = pos_store::shifts::current_shift(self.store.conn())? {
            return Err(AppError::conflict(format!("shift {} is still open: close it first", s.uuid)));
        }
        let d = day.to_string();
        self.require_day_open(&d).map_err(|_| AppError::conflict(format!("business day {d} is already closed")))?;
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        pos_store::security::close_day(&tx, &d, micros(now), actor.id)?;
        let ev = Event::new("day_closed", "ok").actor(actor.id, &actor.name).subject("business_day", d);
        self.auditor.append(&tx, now, &offset, &ev)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        Ok(())
    }

    /// Re-opens a closed business day: a back-office action (PIN and TOTP), held for approval
    /// by the policy.
    pub fn reopen_day(&mut self, session: &Session, day: Date) -> AppResult<()> {
        let actor = self.authorize(session, Some(Permission::CloseDay), "day_reopened")?;
        self.require_elevated(session, &actor, "day_reopened")?;
        let d = day.to_string();
        if !pos_store::security::day_closed(self.store.conn(), &d)? {
            return Err(AppError::conflict(format!("business day {d} is not closed")));
        }
        let approval = self.require_override(
            &actor,
            OverrideAction { kind: OverrideKind::ReopenDay, amount: 0, subject: d.clone() },
        )?;
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        pos_store::security::reopen_day(&tx, &d, micros(now), actor.id)?;
        let ev = Event::new("day_reopened", "ok").actor(actor.id, &actor.name).subject("business_day", d);
        self.auditor.commit(tx, now, &offset, ev, approval.as_ref())?;
        self.consume(approval.as_ref());
        Ok(())
    }

    /// Takes payment and records the sale. When this returns, the sale and its outbox record are on disk.
    pub fn pay(&mut self, session: &Session, order_id: &str, tenders: &[Tender]) -> AppResult<SaleReceipt> {
        let actor = self.authorize(session, Some(Permission::Sell), "sale")?;
        let shift = self.require_open_shift()?;
        let cart = self.cart(order_id)?;
        let priced = cart.order.price(&self.venue.rules, &self.venue.taxes)?;
        let settlement = settle(self.money(priced.total), tenders, self.venue.rules.cash_rounding)?;
        let now = self.clock.now();
        let day = self.venue.day.day_of(now).to_string();
        let opened_at = cart.opened_at;
        let order_discount = cart.order.discount();
        let staff_id = cart.staff_id;
        let offset = self.offset(now);

        let tx = self.store.write()?;
        let sale = SaleToWrite {
            order_id,
            shift: &shift,
            day: &day,
            staff_id,
            opened_at,
            now,
            priced: &priced,
            order_discount,
            settlement: &settlement,
            catalog: &self.catalog,
        };
        crate::payments::capture_card_tenders(&tx, tenders)?;
        let (receipt_no, seq) = write_sale(&tx, self.venue.currency, &sale)?;
        let ev = Event::new("sale", "ok")
            .actor(actor.id, &actor.name)
            .subject("order", order_id)
            .subject("receipt", receipt_no)
            .subject("shift", shift.uuid.clone())
            .amount(priced.total, &self.venue.currency.to_string())
            .detail("lines", priced.lines.len() as u64)
            .detail("discount_total", priced.discount_total)
            .detail("tenders", settlement.payments.iter().map(|p| p.kind.as_str()).collect::<Vec<_>>().join(","))
            .detail("change_due", settlement.change_due);
        let entry = self.auditor.append(&tx, now, &offset, &ev)?;
        pos_store::security::set_order_audit_hash(&tx, order_id, entry.short_hash())?;
        tx.commit().map_err(pos_store::StoreError::from)?;

        let cart = self.carts.remove(order_id).expect("cart exists");
        // The sale is on disk; printing is queued after it and can never undo it.
        let cash = settlement.payments.iter().any(|p| p.kind == pos_core::tender::TenderKind::Cash);
        let (print_jobs, print_error) = match self.queue_sale_prints(order_id, cash) {
            Ok(jobs) => (jobs, None),
            Err(e) => (vec![], Some(e.message)),
        };
        let mut order = self.view_of(order_id, &priced);
        for (v, l) in order.lines.iter_mut().zip(cart.order.lines()) {
            v.discount = l.discount;
        }
        Ok(SaleReceipt {
            order_id: order_id.to_owned(),
            receipt_no,
            business_day: day,
            paid_at: self.local(now),
            cashier: actor.name.clone(),
            order,
            rounding: self.money(settlement.rounding),
            paid: self.money(settlement.paid()),
            change_due: self.money(settlement.change_due),
            payments: settlement
                .payments
                .iter()
                .map(|p| PaymentView {
                    kind: p.kind.as_str().into(),
                    amount: self.money(p.amount),
                    tendered: self.money(p.tendered),
                    change: self.money(p.change),
                    card_last4: p.card.as_ref().map(|c| c.last4().to_owned()),
                    card_scheme: p.card.as_ref().map(|c| c.scheme().to_owned()),
                    auth_code: p.card.as_ref().map(|c| c.auth_code().to_owned()),
                })
                .collect(),
            outbox_seq: seq,
            audit_hash: entry.short_hash().to_owned(),
            print_jobs,
            print_error,
        })
    }

    /// Records `orders` cash sales of `lines` distinct items each in ONE transaction, through the
    /// same write path as [`Register::pay`]. Only for building large benchmark data sets quickly.
    #[cfg(feature = "test-support")]
    pub fn seed_sales_for_benchmark(&mut self, session: &Session, orders: usize, lines: usize) -> AppResult<()> {
        self.authorize(session, Some(Permission::Sell), "sale")?;
        let shift = self.require_open_shift()?;
        let skus: Vec<Sku> = self.catalog.skus().iter().filter(|s| !s.weighed).take(97).cloned().collect();
        if skus.len() < lines {
            return Err(AppError::conflict("not enough SKUs"));
        }
        let now = self.clock.now();
        let day = self.venue.day.day_of(now).to_string();
        let currency = self.venue.currency;
        let tx = self.store.write()?;
        for i in 0..orders {
            let mut order = Order::new(currency);
            for j in 0..lines {
                order.add(&skus[(i + j * 31) % skus.len()], Quantity::ONE)?;
            }
            let priced = order.price(&self.venue.rules, &self.venue.taxes)?;
            let cash = Tender::Cash { tendered: Money::new(priced.total, currency) };
            let settlement = settle(Money::new(priced.total, currency), &[cash], self.venue.rules.cash_rounding)?;
            let id = new_id();
            let sale = SaleToWrite {
                order_id: &id,
                shift: &shift,
                day: &day,
                staff_id: session.staff_id(),
                opened_at: now,
                now,
                priced: &priced,
                order_discount: None,
                settlement: &settlement,
                catalog: &self.catalog,
            };
            write_sale(&tx, currency, &sale)?;
        }
        tx.commit().map_err(pos_store::StoreError::from)?;
        Ok(())
    }

    /// Appends `n` audit entries in ONE transaction through the register's own signer. Only for
    /// building a large chain for the verification benchmark.
    #[cfg(feature = "test-support")]
    pub fn seed_audit_for_benchmark(&mut self, n: u64) -> AppResult<()> {
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        for i in 0..n {
            let ev = Event::new("benchmark", "ok").subject("n", i).amount(i64::try_from(i).unwrap_or(0), "EUR");
            self.auditor.append(&tx, now, &offset, &ev)?;
        }
        tx.commit().map_err(pos_store::StoreError::from)?;
        Ok(())
    }

    /// Voids an order being rung up (kept on record if it had lines) or a paid order of the current
    /// shift that has no refunds.
    pub fn void_open_order(&mut self, session: &Session, order_id: &str, reason: &str) -> AppResult<VoidReceipt> {
        let actor = self.authorize(session, Some(Permission::Sell), "order_void")?;
        let reason = clean_reason(reason)?;
        let cart = self.cart(order_id)?;
        if cart.order.is_empty() {
            // Nothing was rung up: the order is dropped, and the chain says so.
            let ev = Event::new("order_void", "ok")
                .actor(actor.id, &actor.name)
                .subject("order", order_id)
                .amount(0, &self.venue.currency.to_string())
                .reason(&reason)
                .detail("was_paid", false);
            let entry = self.audit_alone(ev)?;
            self.carts.remove(order_id);
            return Ok(VoidReceipt {
                order_id: order_id.to_owned(),
                receipt_no: None,
                was_paid: false,
                total: self.money(0),
                reason,
                outbox_seq: None,
                audit_hash: entry.short_hash().to_owned(),
            });
        }
        let priced = cart.order.price(&self.venue.rules, &self.venue.taxes)?;
        let (opened_at, staff_id, discount) = (cart.opened_at, cart.staff_id, cart.order.discount());
        let shift = self.require_open_shift()?;
        let action =
            OverrideAction { kind: OverrideKind::OrderVoid, amount: priced.total, subject: order_id.to_owned() };
        let approval = self.require_override(&actor, action)?;
        let now = self.clock.now();
        let offset = self.offset(now);
        let day = self.venue.day.day_of(now).to_string();
        let tx = self.store.write()?;
        pos_store::orders::insert_order(
            &tx,
            &NewOrder {
                uuid: order_id,
                shift_id: shift.id,
                business_day: &day,
                staff_id,
                opened_at: micros(opened_at),
                at: micros(now),
                order: &priced,
                order_discount: discount,
                outcome: OrderOutcome::VoidedUnpaid { reason: &reason, by: actor.id },
            },
        )?;
        let op = wire::Operation::OrderVoided(wire::OrderVoided {
            order_id: order_id.to_owned(),
            receipt_no: None,
            was_paid: false,
            shift_id: shift.uuid.clone(),
            staff_id: actor.id,
            at: utc(now),
            reason: reason.clone(),
            total: priced.total,
            lines: wire_lines(&priced, &self.catalog),
        });
        let seq = pos_store::outbox::append(&tx, &new_id(), op.kind(), &op.encode(), micros(now))?;
        let ev = Event::new("order_void", "ok")
            .actor(actor.id, &actor.name)
            .subject("order", order_id)
            .subject("shift", shift.uuid.clone())
            .amount(priced.total, &self.venue.currency.to_string())
            .reason(&reason)
            .detail("was_paid", false)
            .detail("lines", priced.lines.len() as u64);
        let entry = self.auditor.commit(tx, now, &offset, ev, approval.as_ref())?;
        self.consume(approval.as_ref());
        self.carts.remove(order_id);
        Ok(VoidReceipt {
            order_id: order_id.to_owned(),
            receipt_no: None,
            was_paid: false,
            total: self.money(priced.total),
            reason,
            outbox_seq: Some(seq),
            audit_hash: entry.short_hash().to_owned(),
        })
    }

    pub(crate) fn find_order(&self, order: &OrderRef) -> AppResult<pos_store::orders::OrderHeader> {
        let key = match order {
            OrderRef::Id(id) => OrderKey::Uuid(id),
            OrderRef::Receipt(n) => OrderKey::Receipt(*n),
        };
        pos_store::orders::order_header(self.store.conn(), &key)?.ok_or_else(|| match order {
            OrderRef::Id(id) => AppError::not_found(format!("no order {id}")),
            OrderRef::Receipt(n) => AppError::not_found(format!("no order with receipt number {n}")),
        })
    }

    /// Voids a paid order: only in the shift that took it, and only while nothing was refunded.
    pub fn void_paid_order(&mut self, session: &Session, order: &OrderRef, reason: &str) -> AppResult<VoidReceipt> {
        let actor = self.authorize(session, Some(Permission::Sell), "order_void")?;
        let reason = clean_reason(reason)?;
        let h = self.find_order(order)?;
        if h.status != "paid" {
            return Err(AppError::conflict(format!("order {} is already voided", h.uuid)));
        }
        if h.refunded_total != 0 {
            return Err(AppError::conflict("this order has refunds; refund the rest instead of voiding"));
        }
        let shift = self.require_open_shift()?;
        if shift.id != h.shift_id {
            return Err(AppError::conflict("only orders of the current shift can be voided; refund it instead"));
        }
        let action = OverrideAction { kind: OverrideKind::OrderVoid, amount: h.total, subject: h.uuid.clone() };
        let approval = self.require_override(&actor, action)?;
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        pos_store::orders::void_paid_order(&tx, h.id, actor.id, &reason, micros(now))?;
        let op = wire::Operation::OrderVoided(wire::OrderVoided {
            order_id: h.uuid.clone(),
            receipt_no: h.receipt_no,
            was_paid: true,
            shift_id: shift.uuid.clone(),
            staff_id: actor.id,
            at: utc(now),
            reason: reason.clone(),
            total: h.total,
            lines: Vec::new(),
        });
        let seq = pos_store::outbox::append(&tx, &new_id(), op.kind(), &op.encode(), micros(now))?;
        let mut ev = Event::new("order_void", "ok")
            .actor(actor.id, &actor.name)
            .subject("order", h.uuid.clone())
            .subject("shift", shift.uuid.clone())
            .amount(h.total, &self.venue.currency.to_string())
            .reason(&reason)
            .detail("was_paid", true);
        if let Some(n) = h.receipt_no {
            ev = ev.subject("receipt", n);
        }
        let entry = self.auditor.commit(tx, now, &offset, ev, approval.as_ref())?;
        self.consume(approval.as_ref());
        // Committed; a printing problem leaves the void standing (reprint by receipt number).
        let _ = self.queue_void_receipt(&h.uuid, entry.short_hash());
        Ok(VoidReceipt {
            order_id: h.uuid,
            receipt_no: h.receipt_no,
            was_paid: true,
            total: self.money(h.total),
            reason,
            outbox_seq: Some(seq),
            audit_hash: entry.short_hash().to_owned(),
        })
    }

    /// Refunds a paid order, whole or by line, back to its original tenders.
    pub fn refund(
        &mut self,
        session: &Session,
        order: &OrderRef,
        request: &RefundRequest,
        reason: &str,
    ) -> AppResult<RefundReceipt> {
        let actor = self.authorize(session, Some(Permission::Sell), "refund")?;
        let reason = clean_reason(reason)?;
        let h = self.find_order(order)?;
        if h.status != "paid" {
            return Err(AppError::conflict("a voided order cannot be refunded"));
        }
        let shift = self.require_open_shift()?;
        let refundable = pos_store::orders::load_refundable(
            self.store.conn(),
            h.id,
            self.venue.currency,
            self.venue.rules.price_mode,
        )?;
        let refund = compute_refund(&refundable, request)?;
        let action = OverrideAction { kind: OverrideKind::Refund, amount: refund.total, subject: h.uuid.clone() };
        let approval = self.require_override(&actor, action)?;
        let now = self.clock.now();
        let offset = self.offset(now);
        let day = self.venue.day.day_of(now).to_string();
        let refund_id = new_id();
        let tx = self.store.write()?;
        let (_, receipt_no) = pos_store::orders::insert_refund(
            &tx,
            &NewRefund {
                uuid: &refund_id,
                order_id: h.id,
                shift_id: shift.id,
                business_day: &day,
                staff_id: actor.id,
                at: micros(now),
                reason: &reason,
                refund: &refund,
            },
        )?;
        let op = wire::Operation::RefundRecorded(wire::RefundRecorded {
            refund_id: refund_id.clone(),
            receipt_no,
            order_id: h.uuid.clone(),
            shift_id: shift.uuid.clone(),
            business_day: day,
            staff_id: actor.id,
            at: utc(now),
            reason: reason.clone(),
            amount: refund.amount,
            tax_total: refund.tax_total,
            rounding: refund.rounding,
            total: refund.total,
            lines: refund
                .lines
                .iter()
                .map(|l| wire::RefundLine {
                    line_no: l.line_no,
                    qty_milli: l.qty.milli(),
                    amount: l.amount,
                    taxes: l.taxes.iter().map(|(r, t)| wire::LineTax { rate_id: r.0, tax: *t }).collect(),
                })
                .collect(),
            taxes: wire_taxes(&refund.taxes),
            payouts: refund
                .payouts
                .iter()
                .map(|p| wire::RefundPayout {
                    payment_seq: p.payment_seq,
                    kind: p.kind.as_str().into(),
                    amount: p.amount,
                })
                .collect(),
        });
        let seq = pos_store::outbox::append(&tx, &new_id(), op.kind(), &op.encode(), micros(now))?;
        let mut ev = Event::new("refund", "ok")
            .actor(actor.id, &actor.name)
            .subject("refund", refund_id.clone())
            .subject("order", h.uuid.clone())
            .subject("receipt", receipt_no)
            .amount(refund.total, &self.venue.currency.to_string())
            .reason(&reason)
            .detail("lines", refund.lines.len() as u64)
            .detail("payouts", refund.payouts.iter().map(|p| p.kind.as_str()).collect::<Vec<_>>().join(","));
        if let Some(n) = h.receipt_no {
            ev = ev.subject("original_receipt", n);
        }
        let entry = self.auditor.commit(tx, now, &offset, ev, approval.as_ref())?;
        self.consume(approval.as_ref());
        let receipt = RefundReceipt {
            refund_id,
            receipt_no,
            order_id: h.uuid,
            original_receipt_no: h.receipt_no,
            at: self.local(now),
            lines: refund
                .lines
                .iter()
                .map(|l| RefundLineView {
                    line_no: l.line_no,
                    quantity: l.qty,
                    amount: self.money(l.amount),
                    tax: self.money(l.taxes.iter().map(|(_, t)| t).sum()),
                })
                .collect(),
            tax_total: self.money(refund.tax_total),
            rounding: self.money(refund.rounding),
            total: self.money(refund.total),
            payouts: refund
                .payouts
                .iter()
                .map(|p| PayoutView { kind: p.kind.as_str().into(), amount: self.money(p.amount) })
                .collect(),
            outbox_seq: seq,
            audit_hash: entry.short_hash().to_owned(),
        };
        // Committed; a printing problem leaves the refund standing (reprint by receipt number).
        let _ = self.queue_refund_receipt(&receipt);
        Ok(receipt)
    }

    // ---- shifts ------------------------------------------------------------------------------

    fn shift_view(&self, s: &ShiftRow) -> ShiftView {
        ShiftView {
            shift_id: s.uuid.clone(),
            business_day: s.business_day.clone(),
            opened_at: self.local(from_micros(s.opened_at)),
            opened_by: self.staff_name(s.opened_by),
            float: self.money(s.float),
            closed_at: s.closed_at.map(|t| self.local(from_micros(t))),
        }
    }

    pub fn current_shift(&self) -> AppResult<Option<ShiftView>> {
        Ok(pos_store::shifts::current_shift(self.store.conn())?.map(|s| self.shift_view(&s)))
    }

    pub fn open_shift(&mut self, session: &Session, float: Money) -> AppResult<ShiftView> {
        let actor = self.authorize(session, Some(Permission::OpenShift), "shift_opened")?;
        if float.currency() != self.venue.currency {
            return Err(AppError::new(
                ErrorCode::CurrencyMismatch,
                format!("the float must be in {}", self.venue.currency),
            ));
        }
        check_float(float)?;
        if let Some(s) = pos_store::shifts::current_shift(self.store.conn())? {
            return Err(AppError::conflict(format!("shift {} is already open", s.uuid)));
        }
        let now = self.clock.now();
        let day = self.venue.day.day_of(now).to_string();
        self.require_day_open(&day)?;
        let offset = self.offset(now);
        let uuid = new_id();
        let tx = self.store.write()?;
        pos_store::shifts::open_shift(&tx, &uuid, micros(now), actor.id, &day, float.minor())?;
        let ev = Event::new("shift_opened", "ok")
            .actor(actor.id, &actor.name)
            .subject("shift", uuid.clone())
            .amount(float.minor(), &self.venue.currency.to_string())
            .detail("business_day", day.clone());
        self.auditor.append(&tx, now, &offset, &ev)?;
        let op = wire::Operation::ShiftOpened(wire::ShiftOpened {
            shift_id: uuid.clone(),
            business_day: day,
            staff_id: actor.id,
            at: utc(now),
            currency: self.venue.currency.to_string(),
            float: float.minor(),
        });
        pos_store::outbox::append(&tx, &new_id(), op.kind(), &op.encode(), micros(now))?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        let row = pos_store::shifts::shift_by_uuid(self.store.conn(), &uuid)?.expect("just written");
        Ok(self.shift_view(&row))
    }

    /// Records a paid-in or paid-out of the current shift's drawer.
    pub fn cash_movement(
        &mut self,
        session: &Session,
        kind: CashMovementKind,
        amount: Money,
        reason: &str,
    ) -> AppResult<()> {
        // Both need the flag; a paid-out above the policy's threshold also needs a manager.
        let actor = self.authorize(session, Some(Permission::CashInOut), "cash_movement")?;
        if amount.currency() != self.venue.currency {
            return Err(AppError::new(
                ErrorCode::CurrencyMismatch,
                format!("cash is counted in {}", self.venue.currency),
            ));
        }
        let reason = check_movement(amount, reason)?;
        let shift = self.require_open_shift()?;
        let approval = match kind {
            CashMovementKind::PaidOut => self.require_override(
                &actor,
                OverrideAction { kind: OverrideKind::PaidOut, amount: amount.minor(), subject: shift.uuid.clone() },
            )?,
            CashMovementKind::PaidIn => None,
        };
        let now = self.clock.now();
        let offset = self.offset(now);
        let uuid = new_id();
        let tx = self.store.write()?;
        pos_store::shifts::insert_cash_movement(
            &tx,
            &pos_store::shifts::NewCashMovement {
                uuid: &uuid,
                shift_id: shift.id,
                kind,
                amount: amount.minor(),
                reason: &reason,
                staff_id: actor.id,
                at: micros(now),
            },
        )?;
        let ev = Event::new(kind.as_str(), "ok")
            .actor(actor.id, &actor.name)
            .subject("movement", uuid.clone())
            .subject("shift", shift.uuid.clone())
            .amount(amount.minor(), &self.venue.currency.to_string())
            .reason(&reason);
        let ev = Approval::stamp_opt(approval.as_ref(), ev);
        self.auditor.append(&tx, now, &offset, &ev)?;
        let op = wire::Operation::CashMoved(wire::CashMoved {
            movement_id: uuid,
            shift_id: shift.uuid,
            kind: kind.as_str().into(),
            amount: amount.minor(),
            reason: reason.clone(),
            staff_id: actor.id,
            at: utc(now),
        });
        pos_store::outbox::append(&tx, &new_id(), op.kind(), &op.encode(), micros(now))?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        self.consume(approval.as_ref());
        let _ = self.queue_drawer(&format!("{}: {reason}", kind.as_str()));
        Ok(())
    }

    fn shift_totals(&self, shift_id: i64) -> AppResult<SalesTotals> {
        let mut totals = SalesTotals::new(self.venue.currency, self.venue.rules.price_mode);
        pos_store::reports::feed_sales(self.store.conn(), Scope::Shift(shift_id), &mut totals)?;
        Ok(totals)
    }

    fn shift_cash_facts(&self, s: &ShiftRow) -> AppResult<ShiftCashFacts> {
        let movements = pos_store::shifts::cash_movements(self.store.conn(), s.id)?
            .into_iter()
            .map(|(k, a, r, at)| (k, a, r, self.local(from_micros(at))))
            .collect();
        let count = match &s.count_json {
            Some(json) => {
                let pairs: Vec<(i64, i64)> = serde_json::from_str(json)
                    .map_err(|e| AppError::new(ErrorCode::StoreDamaged, format!("stored cash count: {e}")))?;
                Some(CashCount::new(self.venue.currency, &pairs)?)
            }
            None => None,
        };
        Ok(ShiftCashFacts { float: s.float, movements, count })
    }

    /// Blind close: the cashier counts the drawer by denomination without seeing what is expected.
    /// Returns the Z report.
    pub fn close_shift(&mut self, session: &Session, counts: &[(i64, i64)]) -> AppResult<ShiftReport> {
        let actor = self.authorize(session, Some(Permission::CloseShift), "shift_closed")?;
        let shift = self.require_open_shift()?;
        if !self.carts.values().all(|c| c.order.is_empty()) {
            let n = self.carts.values().filter(|c| !c.order.is_empty()).count();
            return Err(AppError::conflict(format!("{n} order(s) are still open: pay or void them before closing")));
        }
        let count = CashCount::new(self.venue.currency, counts)?;
        let totals = self.shift_totals(shift.id)?;
        let facts = self.shift_cash_facts(&shift)?;
        let expected = cash_summary(self.venue.currency, &totals, &facts).expected.minor();
        let counted = count.total();
        // Closing with a variance above the threshold is a forced close: a manager approves it.
        let action = OverrideAction {
            kind: OverrideKind::ForceCloseShift,
            amount: (counted - expected).abs(),
            subject: shift.uuid.clone(),
        };
        let approval = self.require_override(&actor, action)?;
        let now = self.clock.now();
        let offset = self.offset(now);
        let count_json = serde_json::to_string(&count.counts).expect("pairs serialise");
        let tx = self.store.write()?;
        pos_store::shifts::close_shift(&tx, shift.id, micros(now), actor.id, expected, counted, &count_json)?;
        let ev = Event::new("shift_closed", "ok")
            .actor(actor.id, &actor.name)
            .subject("shift", shift.uuid.clone())
            .amount(counted, &self.venue.currency.to_string())
            .detail("expected_cash", expected)
            .detail("variance", counted - expected);
        let ev = Approval::stamp_opt(approval.as_ref(), ev);
        self.auditor.append(&tx, now, &offset, &ev)?;
        let op = wire::Operation::ShiftClosed(wire::ShiftClosed {
            shift_id: shift.uuid.clone(),
            staff_id: actor.id,
            at: utc(now),
            expected_cash: expected,
            counted_cash: counted,
            variance: counted - expected,
            count: count.counts.clone(),
        });
        pos_store::outbox::append(&tx, &new_id(), op.kind(), &op.encode(), micros(now))?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        self.consume(approval.as_ref());
        self.carts.clear();
        let s = pos_store::shifts::shift_by_uuid(self.store.conn(), &shift.uuid)?.expect("just closed");
        self.shift_report(&s, ShiftReportKind::Z)
    }

    // ---- reports -----------------------------------------------------------------------------

    fn shift_report(&self, s: &ShiftRow, kind: ShiftReportKind) -> AppResult<ShiftReport> {
        let totals = self.shift_totals(s.id)?;
        let facts = self.shift_cash_facts(s)?;
        Ok(ShiftReport {
            report: kind,
            venue: self.venue.name.clone(),
            shift_id: s.uuid.clone(),
            opened_at: self.local(from_micros(s.opened_at)),
            opened_by: self.staff_name(s.opened_by),
            closed_at: s.closed_at.map(|t| self.local(from_micros(t))),
            closed_by: s.closed_by.map(|id| self.staff_name(id)),
            summary: totals.summary(),
            cash: cash_summary(self.venue.currency, &totals, &facts),
        })
    }

    /// The running report of the open shift. Changes nothing.
    pub fn x_report(&mut self, session: &Session) -> AppResult<ShiftReport> {
        self.authorize(session, Some(Permission::ViewReports), "x_report")?;
        let s = self.require_open_shift()?;
        self.shift_report(&s, ShiftReportKind::X)
    }

    /// The closing report of a closed shift (the last one when `shift_id` is `None`).
    pub fn z_report(&mut self, session: &Session, shift_id: Option<&str>) -> AppResult<ShiftReport> {
        self.authorize(session, Some(Permission::ViewReports), "z_report")?;
        let s = match shift_id {
            Some(id) => pos_store::shifts::shift_by_uuid(self.store.conn(), id)?
                .ok_or_else(|| AppError::not_found(format!("no shift {id}")))?,
            None => pos_store::shifts::last_closed_shift(self.store.conn())?
                .ok_or_else(|| AppError::not_found("no shift has been closed yet"))?,
        };
        if s.closed_at.is_none() {
            return Err(AppError::conflict(
                "the shift is still open: a Z report needs a closed shift (use an X report)",
            ));
        }
        self.shift_report(&s, ShiftReportKind::Z)
    }

    pub fn daily_summary(&mut self, session: &Session, day: Date) -> AppResult<DailySummary> {
        self.authorize(session, Some(Permission::ViewReports), "daily_summary")?;
        let d = day.to_string();
        let mut totals = SalesTotals::new(self.venue.currency, self.venue.rules.price_mode);
        pos_store::reports::feed_sales(self.store.conn(), Scope::Days(&d, &d), &mut totals)?;
        let (from, to) = self.venue.day.bounds(day)?;
        Ok(DailySummary {
            report: "daily",
            venue: self.venue.name.clone(),
            business_day: day,
            time_zone: self.venue.day.zone_name().to_owned(),
            from: self.local(from),
            to: self.local(to),
            summary: totals.summary(),
        })
    }

    pub fn item_mix(&mut self, session: &Session, from: Date, to: Date) -> AppResult<ItemMix> {
        self.authorize(session, Some(Permission::ViewReports), "item_mix")?;
        check_range(from, to)?;
        let mut mix = ItemMixTotals::default();
        pos_store::reports::feed_item_mix(
            self.store.conn(),
            &from.to_string(),
            &to.to_string(),
            self.venue.rules.price_mode == PriceMode::TaxInclusive,
            &mut mix,
        )?;
        Ok(mix.finish(self.venue.currency, &self.venue.name, from, to))
    }

    /// The tax export (back office: an export of data).
    pub fn tax_export(&mut self, session: &Session, from: Date, to: Date) -> AppResult<TaxExport> {
        let actor = self.authorize(session, Some(Permission::ExportData), "export")?;
        check_range(from, to)?;
        let mut t = TaxExportTotals::default();
        pos_store::reports::feed_tax_export(self.store.conn(), &from.to_string(), &to.to_string(), &mut t)?;
        self.audit_export(&actor, "tax", from, to)?;
        Ok(t.finish(self.venue.currency, &self.venue.name, from, to))
    }

    pub fn payments_report(&mut self, session: &Session, scope: &PaymentsScope) -> AppResult<PaymentReconciliation> {
        self.authorize(session, Some(Permission::ViewReports), "payments_report")?;
        let (shifts, label) = match scope {
            PaymentsScope::Day(d) => {
                let s = d.to_string();
                (pos_store::shifts::shifts_opened_between(self.store.conn(), &s, &s)?, format!("business day {s}"))
            }
            PaymentsScope::Shift(id) => {
                let s = pos_store::shifts::shift_by_uuid(self.store.conn(), id)?
                    .ok_or_else(|| AppError::not_found(format!("no shift {id}")))?;
                (vec![s], format!("shift {id}"))
            }
        };
        let mut all = SalesTotals::new(self.venue.currency, self.venue.rules.price_mode);
        let mut cash = Vec::with_capacity(shifts.len());
        for s in &shifts {
            let totals = self.shift_totals(s.id)?;
            cash.push(cash_summary(self.venue.currency, &totals, &self.shift_cash_facts(s)?));
            pos_store::reports::feed_sales(self.store.conn(), Scope::Shift(s.id), &mut all)?;
        }
        Ok(reconcile(&self.venue.name, &label, self.venue.currency, &all, &cash))
    }

    /// Orders of the given business days, newest first, for the orders screen (any seller).
    pub fn orders(&mut self, session: &Session, from: Date, to: Date) -> AppResult<Vec<OrderSummaryView>> {
        self.authorize(session, Some(Permission::Sell), "orders")?;
        check_range(from, to)?;
        let orders = pos_store::reports::export_orders(self.store.conn(), &from.to_string(), &to.to_string())?;
        Ok(orders
            .into_iter()
            .rev()
            .map(|o| OrderSummaryView {
                order_id: o.uuid,
                receipt_no: o.receipt_no,
                business_day: o.business_day,
                status: o.status,
                paid_at: o.paid_at.map(|t| self.local(from_micros(t))),
                cashier: o.staff,
                total: self.money(o.total),
                refunded_total: self.money(o.refunded_total),
            })
            .collect())
    }

    /// Orders with lines and payments (back office: an export of data). The export is audited.
    pub fn export_sales(&mut self, session: &Session, from: Date, to: Date) -> AppResult<Vec<ExportOrderView>> {
        let actor = self.authorize(session, Some(Permission::ExportData), "export")?;
        check_range(from, to)?;
        let orders = pos_store::reports::export_orders(self.store.conn(), &from.to_string(), &to.to_string())?;
        self.audit_export(&actor, "sales", from, to)?;
        Ok(orders.into_iter().map(|o| self.export_view(o)).collect())
    }

    /// An order with its lines and payments, as exports and the orders screen show it.
    pub(crate) fn export_view(&self, o: pos_store::reports::ExportOrder) -> ExportOrderView {
        let m = |v| self.money(v);
        ExportOrderView {
            order_id: o.uuid,
            receipt_no: o.receipt_no,
            business_day: o.business_day,
            status: o.status,
            paid_at: o.paid_at.map(|t| self.local(from_micros(t))),
            cashier: o.staff,
            currency: o.currency,
            subtotal: m(o.subtotal),
            discount_total: m(o.discount_total),
            tax_total: m(o.tax_total),
            total: m(o.total),
            rounding: m(o.rounding),
            refunded_total: m(o.refunded_total),
            lines: o
                .lines
                .into_iter()
                .map(|l| ExportLineView {
                    line_no: l.line_no,
                    sku: l.sku_code,
                    name: l.name,
                    quantity: Quantity::from_milli(l.qty),
                    unit_price: m(l.unit_price),
                    discount: m(l.discount),
                    amount: m(l.amount),
                    tax: m(l.tax),
                    refunded_quantity: Quantity::from_milli(l.refunded_qty),
                })
                .collect(),
            payments: o
                .payments
                .into_iter()
                .map(|p| ExportPaymentView {
                    kind: p.kind,
                    amount: m(p.amount),
                    card_last4: p.card_last4,
                    card_scheme: p.card_scheme,
                    auth_code: p.auth_code,
                })
                .collect(),
        }
    }

    // ---- health and sync ---------------------------------------------------------------------

    pub fn outbox_status(&self) -> AppResult<OutboxStatus> {
        let (depth, oldest) = pos_store::outbox::depth(self.store.conn())?;
        let now = self.clock.now();
        Ok(OutboxStatus {
            depth,
            oldest_created_at: oldest.map(|t| self.local(from_micros(t))),
            oldest_age_seconds: oldest.map(|t| (micros(now) - t).max(0) / 1_000_000),
        })
    }

    /// Unacknowledged outbox records, oldest first (for the sync client).
    pub fn outbox_pending(&self, limit: i64) -> AppResult<Vec<pos_store::outbox::OutboxRecord>> {
        Ok(pos_store::outbox::pending(self.store.conn(), limit)?)
    }

    /// Marks records the cloud has acknowledged, each named by its sequence number and operation
    /// id (pairs that match no record are ignored). Only acknowledged records may ever be purged.
    ///
    /// Called by the sync client, which acts as the device (its identity comes with the cloud
    /// enrolment), not as a staff member. The acknowledgement is audited.
    pub fn outbox_acknowledge(&mut self, records: &[(i64, &str)]) -> AppResult<usize> {
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        let n = pos_store::outbox::acknowledge(&tx, records, micros(now))?;
        if n > 0 {
            let ev = Event::new("sync_acknowledged", "ok").detail("records", n as u64);
            self.auditor.append(&tx, now, &offset, &ev)?;
        }
        tx.commit().map_err(pos_store::StoreError::from)?;
        Ok(n)
    }

    pub fn doctor(&self, credential_store: &str) -> AppResult<DoctorReport> {
        let mut integrity = self.store.integrity_problems()?;
        integrity.extend(pos_store::orders::sequence_problems(self.store.conn())?);
        let stranded = pos_store::outbox::unsettled_below_mark(self.store.conn())?;
        if stranded > 0 {
            integrity.push(format!(
                "{stranded} outbox records lie below the pushed-through mark without an acknowledgement"
            ));
        }
        let schema_version = self.store.schema_version()?;
        Ok(DoctorReport {
            ok: integrity.is_empty() && schema_version == pos_store::schema_version_supported(),
            credential_store: format!("reachable: {credential_store}; database key present"),
            store_id: self.store.store_id().to_owned(),
            database: self.store.db_path().display().to_string(),
            cipher_version: self.store.cipher_version()?,
            cipher_provider: self.store.cipher_provider()?,
            integrity,
            schema_version,
            schema_version_supported: pos_store::schema_version_supported(),
            outbox: self.outbox_status()?,
            catalog_skus: self.catalog.len(),
            open_shift: pos_store::shifts::current_shift(self.store.conn())?.map(|s| s.uuid),
        })
    }
}

struct SaleToWrite<'a> {
    order_id: &'a str,
    shift: &'a ShiftRow,
    day: &'a str,
    staff_id: i64,
    opened_at: Timestamp,
    now: Timestamp,
    priced: &'a PricedOrder,
    order_discount: Option<Discount>,
    settlement: &'a Settlement,
    catalog: &'a Catalog,
}

/// Writes a paid order and its outbox record inside the caller's transaction.
/// Returns (receipt number, outbox sequence number).
fn write_sale(tx: &pos_store::Transaction, currency: Currency, s: &SaleToWrite) -> AppResult<(i64, i64)> {
    let (_, receipt_no) = pos_store::orders::insert_order(
        tx,
        &NewOrder {
            uuid: s.order_id,
            shift_id: s.shift.id,
            business_day: s.day,
            staff_id: s.staff_id,
            opened_at: micros(s.opened_at),
            at: micros(s.now),
            order: s.priced,
            order_discount: s.order_discount,
            outcome: OrderOutcome::Paid(s.settlement),
        },
    )?;
    let receipt_no = receipt_no.expect("a paid order has a receipt number");
    let op = wire::Operation::SaleRecorded(wire::SaleRecorded {
        order_id: s.order_id.to_owned(),
        receipt_no,
        shift_id: s.shift.uuid.clone(),
        business_day: s.day.to_owned(),
        staff_id: s.staff_id,
        opened_at: utc(s.opened_at),
        paid_at: utc(s.now),
        currency: currency.to_string(),
        subtotal: s.priced.subtotal,
        discount_total: s.priced.discount_total,
        tax_total: s.priced.tax_total,
        total: s.priced.total,
        rounding: s.settlement.rounding,
        change_due: s.settlement.change_due,
        lines: wire_lines(s.priced, s.catalog),
        taxes: wire_taxes(&s.priced.taxes),
        payments: wire_payments(s.settlement),
    });
    let seq = pos_store::outbox::append(tx, &new_id(), op.kind(), &op.encode(), micros(s.now))?;
    Ok((receipt_no, seq))
}

fn check_range(from: Date, to: Date) -> AppResult<()> {
    if from > to {
        return Err(AppError::invalid(format!("the range starts ({from}) after it ends ({to})")));
    }
    Ok(())
}

fn clean_reason(reason: &str) -> AppResult<String> {
    let r: String = reason.trim().chars().filter(|c| !c.is_control()).take(200).collect();
    if r.is_empty() {
        return Err(AppError::invalid("a reason is required"));
    }
    Ok(r)
}

fn wire_lines(p: &PricedOrder, catalog: &Catalog) -> Vec<wire::SaleLine> {
    p.lines
        .iter()
        .map(|l| wire::SaleLine {
            line_no: l.line_no,
            sku_id: l.item.sku_id.0,
            sku_code: l.item.sku_code.clone(),
            name: l.item.name.clone(),
            product_id: l.item.product_id.0,
            category_id: l.item.category_id.0,
            category: catalog.category(l.item.category_id).map(|c| c.name.clone()).unwrap_or_default(),
            product: catalog.by_code(&l.item.sku_code).map(|s| s.product_name.clone()).unwrap_or_default(),
            qty_milli: l.qty.milli(),
            list_price: l.list_price,
            unit_price: l.unit_price,
            extended: l.extended,
            line_discount: l.line_discount,
            order_discount: l.order_discount,
            amount: l.amount,
            taxes: l.taxes.iter().map(|(r, t)| wire::LineTax { rate_id: r.0, tax: *t }).collect(),
        })
        .collect()
}

fn wire_taxes(taxes: &[pos_core::tax::RateTax]) -> Vec<wire::RateTotal> {
    taxes
        .iter()
        .map(|t| wire::RateTotal {
            rate_id: t.rate_id.0,
            code: t.code.clone(),
            rate_ppm: t.rate_ppm,
            base: t.base,
            tax: t.tax,
        })
        .collect()
}

fn wire_payments(s: &Settlement) -> Vec<wire::SalePayment> {
    s.payments
        .iter()
        .enumerate()
        .map(|(i, p)| wire::SalePayment {
            seq: i as u32 + 1,
            kind: p.kind.as_str().into(),
            amount: p.amount,
            tendered: p.tendered,
            change: p.change,
            card: p.card.as_ref().map(|c| wire::CardDetails {
                last4: c.last4().into(),
                scheme: c.scheme().into(),
                auth_code: c.auth_code().into(),
                terminal_ref: c.terminal_ref().into(),
            }),
        })
        .collect()
}

/// Formats minor units of the venue's currency for messages.
pub fn format_amount(minor: i64, currency: Currency) -> String {
    format_minor(minor, currency)
}

fn parse_role(role: &str) -> AppResult<Role> {
    Role::parse(role).ok_or_else(|| {
        AppError::invalid(format!("unknown role {role:?}: owner, manager, supervisor, cashier or trainee"))
    })
}
