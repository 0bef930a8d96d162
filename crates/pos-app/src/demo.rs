//! The demo store (a Berlin café with a small retail corner) and realistic simulated traffic that
//! goes through the same façade calls as the register.

use std::sync::Arc;

use jiff::civil::{Date, Time};
use jiff::{SignedDuration, Timestamp};
use pos_core::money::{Money, Quantity};
use pos_core::order::Discount;
use pos_core::refund::RefundRequest;
use pos_core::shift::CashMovementKind;
use pos_core::tax::{PriceMode, TaxRounding};
use pos_core::tender::Tender;

use crate::catalog_import::CatalogRow;
use crate::clock::{Clock, ManualClock};
use crate::error::{AppError, AppResult};
use crate::register::{ItemRef, OrderRef, Register, StaffSetup, TaxClassSetup, VenueSetup};
use crate::security::Session;
use crate::views::SaleReceipt;

/// A small, fast, seedable generator (SplitMix64): the demo must be repeatable, not secure.
#[derive(Debug, Clone)]
pub struct DemoRng(u64);

impl DemoRng {
    pub fn new(seed: u64) -> DemoRng {
        DemoRng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

pub fn demo_venue() -> VenueSetup {
    let class = |name: &str, code: &str, rate_name: &str, ppm| TaxClassSetup {
        name: name.into(),
        rates: vec![(code.into(), rate_name.into(), ppm)],
    };
    VenueSetup {
        name: "Café Lindenblatt".into(),
        currency: "EUR".into(),
        time_zone: "Europe/Berlin".into(),
        day_cutoff_hour: 4,
        price_mode: PriceMode::TaxInclusive,
        tax_rounding: TaxRounding::PerLine,
        cash_rounding: 1,
        tax_classes: vec![
            class("standard", "A", "VAT 19%", 190_000),
            class("reduced", "B", "VAT 7%", 70_000),
            class("exempt", "C", "No VAT", 0),
        ],
        device_name: "Till 1".into(),
        // The built-in simulator approves after 0.3 s, so card sales work out of the box.
        terminal: Some(pos_terminal::TerminalConfig::Simulator(pos_terminal::SimulatorConfig::default())),
    }
}

/// Demo staff and their PINs (listed in the README).
pub fn demo_staff() -> Vec<StaffSetup> {
    let s = |name: &str, role: &str, pin: &str| StaffSetup { name: name.into(), role: role.into(), pin: pin.into() };
    vec![
        s("Oskar Brandt", "owner", "4711"),
        s("Mia Keller", "manager", "2468"),
        s("Jonas Weber", "cashier", "1234"),
        s("Lea Schmidt", "cashier", "5678"),
    ]
}

/// An EAN-13 with a valid check digit.
pub fn ean13(body12: u64) -> String {
    let digits = format!("{:012}", body12 % 1_000_000_000_000);
    let sum: u32 =
        digits.bytes().rev().enumerate().map(|(i, d)| (d - b'0') as u32 * if i % 2 == 0 { 3 } else { 1 }).sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

/// About three hundred SKUs: drinks in sizes, bakery, lunch, coffee beans by origin and grind,
/// merchandise, loose tea by weight, and a tax-exempt donation.
pub fn demo_catalog() -> Vec<CatalogRow> {
    let mut rows: Vec<CatalogRow> = Vec::new();
    let mut next = 0u64;
    let mut push = |sku: String, product: &str, variant: &str, category: &str, price: i64, tax: &str, weighed: bool| {
        next += 1;
        rows.push(CatalogRow {
            line: rows.len() + 2,
            sku,
            product: product.into(),
            variant: variant.into(),
            category: category.into(),
            price: format!("{}.{:02}", price / 100, price % 100),
            tax_class: tax.into(),
            barcodes: vec![ean13(426_012_300_000 + next)],
            weighed,
            unreadable: None,
        });
    };
    let hot = [
        ("Espresso", 220),
        ("Doppio", 290),
        ("Americano", 280),
        ("Cappuccino", 340),
        ("Flat White", 380),
        ("Café Latte", 360),
        ("Latte Macchiato", 370),
        ("Mocha", 410),
        ("Chai Latte", 390),
        ("Matcha Latte", 430),
        ("Hot Chocolate", 350),
        ("Earl Grey Tea", 260),
        ("Green Tea", 260),
        ("Peppermint Tea", 260),
        ("Rooibos Tea", 260),
        ("Fresh Ginger Tea", 330),
    ];
    for (i, (name, base)) in hot.iter().enumerate() {
        for (j, (size, extra)) in [("small", 0), ("medium", 50), ("large", 90)].iter().enumerate() {
            push(format!("HOT-{i:02}-{j}"), name, size, "Hot drinks", base + extra, "standard", false);
        }
        for (j, milk) in ["oat milk", "soy milk"].iter().enumerate() {
            if name.contains("Latte") || *name == "Cappuccino" || *name == "Flat White" {
                push(format!("HOT-{i:02}-M{j}"), name, milk, "Hot drinks", base + 50, "standard", false);
            }
        }
    }
    let cold = [
        ("Still Water", 220),
        ("Sparkling Water", 220),
        ("Orange Juice", 340),
        ("Apple Spritzer", 290),
        ("Cola", 300),
        ("Ginger Lemonade", 360),
        ("Iced Latte", 400),
        ("Cold Brew", 390),
        ("Iced Tea Peach", 330),
        ("Mate", 350),
    ];
    for (i, (name, base)) in cold.iter().enumerate() {
        for (j, (size, extra)) in [("0.33 l", 0), ("0.5 l", 80)].iter().enumerate() {
            push(format!("COLD-{i:02}-{j}"), name, size, "Cold drinks", base + extra, "standard", false);
        }
    }
    let bakery = [
        ("Croissant", 250),
        ("Pain au Chocolat", 290),
        ("Butter Pretzel", 230),
        ("Cinnamon Roll", 340),
        ("Cardamom Bun", 360),
        ("Blueberry Muffin", 320),
        ("Chocolate Muffin", 320),
        ("Banana Bread", 330),
        ("Carrot Cake", 420),
        ("Cheesecake", 450),
        ("Apple Strudel", 430),
        ("Brownie", 310),
        ("Crème Brûlée", 480),
        ("Plain Bagel", 220),
        ("Sesame Bagel", 240),
        ("Franzbrötchen", 280),
        ("Almond Croissant", 360),
        ("Lemon Tart", 440),
        ("Bienenstich", 420),
        ("Käsekuchen", 430),
    ];
    for (i, (name, price)) in bakery.iter().enumerate() {
        push(format!("BAK-{i:02}"), name, "", "Bakery", *price, "reduced", false);
    }
    let lunch = [
        ("Ham & Cheese Sandwich", 590),
        ("Caprese Sandwich", 620),
        ("Hummus Wrap", 610),
        ("Tuna Sandwich", 640),
        ("Egg Salad Bagel", 580),
        ("Soup of the Day", 560),
        ("Quiche Lorraine", 650),
        ("Greek Salad", 790),
        ("Avocado Toast", 820),
        ("Granola Bowl", 590),
        ("Porridge", 490),
        ("Shakshuka", 940),
    ];
    for (i, (name, price)) in lunch.iter().enumerate() {
        push(format!("LUN-{i:02}"), name, "", "Lunch", *price, "reduced", false);
    }
    let origins = [
        ("Ethiopia Yirgacheffe", 1190),
        ("Colombia Huila", 1090),
        ("Brazil Santos", 990),
        ("Guatemala Antigua", 1150),
        ("Kenya AA", 1290),
        ("Sumatra Mandheling", 1190),
        ("House Espresso", 1050),
        ("Decaf Swiss Water", 1190),
        ("Peru Cajamarca", 1120),
        ("Costa Rica Tarrazú", 1240),
    ];
    for (i, (origin, price250)) in origins.iter().enumerate() {
        for (j, grind) in ["whole bean", "espresso grind", "filter grind"].iter().enumerate() {
            push(
                format!("BEAN-{i:02}-{j}-250"),
                &format!("Coffee {origin}"),
                &format!("250 g {grind}"),
                "Coffee beans",
                *price250,
                "reduced",
                false,
            );
            push(
                format!("BEAN-{i:02}-{j}-1000"),
                &format!("Coffee {origin}"),
                &format!("1 kg {grind}"),
                "Coffee beans",
                price250 * 7 / 2,
                "reduced",
                false,
            );
        }
    }
    let merch_colors = ["white", "black", "sage", "terracotta", "ocean blue"];
    for (i, (item, price)) in
        [("Mug", 1290), ("Travel Tumbler", 2490), ("Espresso Cup", 990), ("Tote Bag", 1490)].iter().enumerate()
    {
        for (j, color) in merch_colors.iter().enumerate() {
            push(
                format!("MER-{i}-{j}"),
                &format!("Lindenblatt {item}"),
                color,
                "Merchandise",
                *price,
                "standard",
                false,
            );
        }
    }
    let gear = [
        ("Paper Filters 100 pcs", 490),
        ("Pour-over Dripper", 2290),
        ("French Press 0.35 l", 2990),
        ("French Press 1 l", 3990),
        ("Hand Grinder", 5990),
        ("Moka Pot 3 cups", 3490),
        ("Moka Pot 6 cups", 4290),
        ("Milk Frother", 2790),
        ("Coffee Scale", 3290),
        ("Gooseneck Kettle", 5490),
        ("Cold Brew Bottle", 2490),
        ("Cleaning Tablets", 890),
    ];
    for (i, (name, price)) in gear.iter().enumerate() {
        push(format!("GEAR-{i:02}"), name, "", "Brewing gear", *price, "standard", false);
    }
    let sweets = [
        ("Dark Chocolate 70%", 390),
        ("Milk Chocolate Hazelnut", 390),
        ("Sea Salt Caramels", 590),
        ("Almond Biscotti", 490),
        ("Oat Cookies", 450),
        ("Lebkuchen", 550),
        ("Honey Jar", 790),
        ("Jam Apricot", 590),
    ];
    for (i, (name, price)) in sweets.iter().enumerate() {
        push(format!("SWT-{i:02}"), name, "", "Pantry", *price, "reduced", false);
    }
    let teas = [
        ("Loose Darjeeling", 8900),
        ("Loose Sencha", 7900),
        ("Loose Assam", 6900),
        ("Loose Chamomile", 5900),
        ("Loose Masala Chai", 6400),
    ];
    for (i, (name, per_kg)) in teas.iter().enumerate() {
        push(format!("TEA-{i:02}"), name, "per kg", "Loose tea", *per_kg, "reduced", true);
    }
    let syrups = ["Vanilla", "Caramel", "Hazelnut", "Gingerbread", "Coconut", "Maple"];
    for (i, flavour) in syrups.iter().enumerate() {
        push(format!("ADD-SYR-{i}"), "Syrup shot", flavour, "Extras", 50, "standard", false);
        push(format!("SYR-BTL-{i}"), &format!("{flavour} Syrup"), "0.7 l bottle", "Pantry", 990, "reduced", false);
    }
    push("ADD-SHOT".into(), "Extra espresso shot", "", "Extras", 70, "standard", false);
    push("ADD-CREAM".into(), "Whipped cream", "", "Extras", 60, "standard", false);
    for (i, (name, _)) in teas.iter().enumerate() {
        for (j, size) in ["50 g tin", "100 g tin"].iter().enumerate() {
            let price = if j == 0 { 690 } else { 1190 };
            push(
                format!("TEA-{i:02}-TIN{j}"),
                &name.replace("Loose ", "Tea "),
                size,
                "Loose tea",
                price,
                "reduced",
                false,
            );
        }
    }
    for (i, (item, price)) in
        [("Gift Box Small", 2490), ("Gift Box Large", 4490), ("Coffee Subscription Month", 2900)].iter().enumerate()
    {
        for (j, theme) in ["classic", "seasonal", "single origin"].iter().enumerate() {
            push(format!("GIFT-{i}-{j}"), item, theme, "Gifts", *price, "reduced", false);
        }
    }
    for (i, (item, price)) in [("Cap", 1990), ("Hoodie", 4990), ("T-Shirt", 2490)].iter().enumerate() {
        for (j, size) in ["S", "M", "L", "XL"].iter().enumerate() {
            push(
                format!("APP-{i}-{j}"),
                &format!("Lindenblatt {item}"),
                size,
                "Merchandise",
                *price,
                "standard",
                false,
            );
        }
    }
    push("DON-FOODBANK".into(), "Donation Food Bank", "", "Donations", 100, "exempt", false);
    rows
}

/// Creates the demo store.
pub fn init_demo(
    dir: &std::path::Path,
    secrets: &dyn pos_store::SecretStore,
    clock: Arc<dyn crate::Clock>,
) -> AppResult<(Register, pos_store::RecoverySecret)> {
    Register::init(dir, secrets, &demo_venue(), &demo_staff(), &demo_catalog(), clock)
}

/// Options for simulated traffic.
#[derive(Debug, Clone, Copy)]
pub struct Traffic {
    pub sales: u64,
    pub seed: u64,
    /// Business days to spread the sales over, ending yesterday.
    pub days: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TrafficSummary {
    pub sales: u64,
    pub refunds: u64,
    pub voids: u64,
    pub shifts_closed: u64,
    pub first_day: String,
    pub last_day: String,
}

/// Signs in a demo staff member by name with their demo PIN.
pub fn sign_in_as(reg: &mut Register, name: &str) -> AppResult<Session> {
    let who = demo_staff()
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| AppError::not_found(format!("{name} is not demo staff")))?;
    let id = reg
        .staff()
        .into_iter()
        .find(|s| s.name == who.name)
        .ok_or_else(|| AppError::not_found(format!("demo staff member {name} is missing from this store")))?
        .id;
    reg.sign_in(id, &who.pin)
}

/// Signs in the first demo staff member with `role`.
pub fn sign_in_role(reg: &mut Register, role: &str) -> AppResult<Session> {
    let who = demo_staff()
        .into_iter()
        .find(|s| s.role == role)
        .ok_or_else(|| AppError::not_found(format!("no demo {role}")))?;
    sign_in_as(reg, &who.name)
}

/// The demo PIN of a demo staff member.
pub fn demo_pin(name: &str) -> AppResult<String> {
    demo_staff()
        .into_iter()
        .find(|s| s.name == name)
        .map(|s| s.pin)
        .ok_or_else(|| AppError::not_found(format!("{name} is not demo staff")))
}

/// Unlocks a demo session that locked itself while the simulated clock jumped ahead.
pub fn keep_unlocked(reg: &mut Register, session: &Session) -> AppResult<()> {
    match reg.session_view(session) {
        Err(e) if e.code == crate::ErrorCode::SessionLocked => reg.unlock(session, &demo_pin(session.name())?),
        other => other.map(|_| ()),
    }
}

/// Runs `op`; when the policy holds it for approval, the demo manager approves it with their
/// PIN and it runs again.
pub fn with_manager_approval<T>(
    reg: &mut Register,
    requester: &Session,
    reason: &str,
    mut op: impl FnMut(&mut Register) -> AppResult<T>,
) -> AppResult<T> {
    match op(reg) {
        Err(e) if e.code == crate::ErrorCode::ApprovalRequired => {
            let request = e.approval.as_ref().expect("approval_required carries its request");
            // The demo manager approves with a PIN; approvers who need a code (the owner) are skipped.
            let manager = request
                .approvers
                .iter()
                .find(|a| !a.totp_required)
                .ok_or_else(|| AppError::conflict("nobody can approve this without an authenticator code"))?
                .clone();
            let pin = demo_pin(&manager.name)?;
            reg.approve(requester, &request.request_id, manager.id, &pin, None, reason)?;
            op(reg)
        }
        other => other,
    }
}

/// Breaks an amount into the fewest notes and coins: how the demo's honest cashier counts.
pub fn exact_count(currency: pos_core::Currency, amount: i64) -> Vec<(i64, i64)> {
    let mut left = amount.max(0);
    let mut out = Vec::new();
    for &d in currency.denominations() {
        if left / d > 0 {
            out.push((d, left / d));
            left %= d;
        }
    }
    out
}

/// Runs simulated traffic through the façade. `on_sale` sees each sale after it is durable.
pub fn run_traffic(
    reg: &mut Register,
    clock: &ManualClock,
    t: Traffic,
    mut on_sale: impl FnMut(&SaleReceipt),
) -> AppResult<TrafficSummary> {
    if t.days == 0 {
        return Err(AppError::invalid("days must be at least 1"));
    }
    let mut rng = DemoRng::new(t.seed);
    let cashiers = [sign_in_as(reg, "Jonas Weber")?, sign_in_as(reg, "Lea Schmidt")?];
    let manager = sign_in_role(reg, "manager")?;
    let rule = reg.business_day_rule().clone();
    let today = rule.day_of(clock.now());
    let first =
        today.checked_sub(jiff::Span::new().days(t.days as i64)).map_err(|e| AppError::invalid(e.to_string()))?;
    let mut summary = TrafficSummary { first_day: first.to_string(), ..TrafficSummary::default() };

    // A shift left open (for example by a crash) is closed first, counted as expected.
    if reg.current_shift()?.is_some() {
        let x = reg.x_report(&manager)?;
        let count = exact_count(reg.currency(), x.cash.expected.minor());
        reg.close_shift(&manager, &count)?;
        summary.shifts_closed += 1;
    }

    let catalog: Vec<(String, String, bool)> = reg
        .catalog()
        .skus()
        .iter()
        .map(|s| (s.code.clone(), s.barcodes.first().cloned().unwrap_or_default(), s.weighed))
        .collect();
    let drinks: Vec<usize> =
        (0..catalog.len()).filter(|&i| catalog[i].0.starts_with("HOT") || catalog[i].0.starts_with("COLD")).collect();
    let food: Vec<usize> =
        (0..catalog.len()).filter(|&i| catalog[i].0.starts_with("BAK") || catalog[i].0.starts_with("LUN")).collect();
    let all: Vec<usize> = (0..catalog.len()).collect();
    if catalog.is_empty() {
        return Err(AppError::conflict("the catalog is empty"));
    }

    let mut sold = 0u64;
    // The demo's card terminal: the simulator, answering at once.
    let mut terminal = pos_terminal::Simulator::new(pos_terminal::SimulatorConfig {
        delay_ms: 0,
        ..pos_terminal::SimulatorConfig::default()
    });
    for day_index in 0..t.days {
        let day: Date = first
            .checked_add(jiff::Span::new().days(day_index as i64))
            .map_err(|e| AppError::invalid(e.to_string()))?;
        summary.last_day = day.to_string();
        let remaining_days = (t.days - day_index) as u64;
        let todays = (t.sales - sold).div_ceil(remaining_days);
        let open_at = local_instant(&rule, day, 7)?;
        clock.set(open_at);
        let cashier = cashiers[day_index as usize % 2].clone();
        keep_unlocked(reg, &cashier)?;
        reg.open_shift(&cashier, Money::new(15_000, reg.currency()))?;
        // Sales spread over twelve hours, at most 90 s apart (a busy till never auto-locks).
        let step_us = ((12 * 3600 * 1_000_000) / todays.max(1) as i64).min(90_000_000);
        let mut paid_today: Vec<i64> = Vec::new();
        let mut n = 0u64;
        while n < todays {
            clock.advance(SignedDuration::from_micros(step_us));
            let order = reg.open_order(&cashier)?;
            let lines = 1 + rng.below(4);
            for _ in 0..lines {
                let pool = match rng.below(10) {
                    0..=4 => &drinks,
                    5..=8 => &food,
                    _ => &all,
                };
                let (code, barcode, weighed) = &catalog[*rng.pick(pool)];
                let qty = if *weighed {
                    Quantity::from_milli(50 + rng.below(200) as i64)
                } else if rng.chance(150) {
                    Quantity::units(2)
                } else {
                    Quantity::ONE
                };
                let item = if rng.chance(600) { ItemRef::Barcode(barcode) } else { ItemRef::Code(code) };
                reg.add_item(&cashier, &order, item, qty)?;
            }
            if rng.chance(40) {
                reg.set_line_discount(&cashier, &order, 1, Some(Discount::Percent(1000)))?;
            }
            if rng.chance(20) {
                reg.set_order_discount(&cashier, &order, Some(Discount::Percent(500)))?;
            }
            if rng.chance(12) {
                with_manager_approval(reg, &cashier, "customer_changed_mind", |r| {
                    r.void_open_order(&cashier, &order, "customer changed their mind")
                })?;
                summary.voids += 1;
                continue;
            }
            let due = reg.order_view(&order)?;
            let total = due.total.minor();
            let tenders = match rng.below(100) {
                0..=52 => {
                    let cash_due = due.total_cash.minor();
                    let note = [500, 1000, 2000, 5000].into_iter().find(|n| *n >= cash_due).unwrap_or(cash_due);
                    let tendered = if rng.chance(300) { cash_due } else { note.max(cash_due) };
                    vec![Tender::Cash { tendered: Money::new(tendered, reg.currency()) }]
                }
                53..=96 => vec![card_tender(reg, &cashier, &order, &mut terminal, total)?],
                _ => {
                    let part = total / 2;
                    vec![
                        card_tender(reg, &cashier, &order, &mut terminal, part)?,
                        Tender::Cash { tendered: Money::new(total - part + 500, reg.currency()) },
                    ]
                }
            };
            let receipt = reg.pay(&cashier, &order, &tenders)?;
            n += 1;
            on_sale(&receipt);
            paid_today.push(receipt.receipt_no);
            sold += 1;
            summary.sales += 1;
            if n.is_multiple_of(60) && !paid_today.is_empty() {
                let r = paid_today[rng.below(paid_today.len() as u64) as usize];
                keep_unlocked(reg, &manager)?;
                match reg.refund(
                    &manager,
                    &OrderRef::Receipt(r),
                    &RefundRequest::Lines(vec![(1, Quantity::ONE)]),
                    "quality complaint",
                ) {
                    Ok(_) => summary.refunds += 1,
                    Err(e) if e.code == crate::ErrorCode::RefundExceedsPaid || e.code == crate::ErrorCode::Conflict => {
                    }
                    Err(e) => return Err(e),
                }
            }
            if n.is_multiple_of(150)
                && keep_unlocked(reg, &manager).is_ok()
                && let Some(r) = paid_today.pop()
                && reg.void_paid_order(&manager, &OrderRef::Receipt(r), "rung up twice").is_ok()
            {
                summary.voids += 1;
            }
            if n == todays / 2 + 1 {
                reg.cash_movement(
                    &cashier,
                    CashMovementKind::PaidOut,
                    Money::new(1240, reg.currency()),
                    "milk from the supermarket",
                )?;
            }
        }
        clock.set(local_instant(&rule, day, 20)?);
        keep_unlocked(reg, &manager)?;
        keep_unlocked(reg, &cashier)?;
        let x = reg.x_report(&manager)?;
        let variance = if rng.chance(200) { -(rng.below(300) as i64) } else { 0 };
        let count = exact_count(reg.currency(), x.cash.expected.minor() + variance);
        reg.close_shift(&cashier, &count)?;
        summary.shifts_closed += 1;
    }
    Ok(summary)
}

/// A card payment through the register's own terminal path, against the simulator: recorded as
/// pending, approved by the terminal, then used as the sale's tender.
fn card_tender(
    reg: &mut Register,
    cashier: &Session,
    order: &str,
    terminal: &mut pos_terminal::Simulator,
    amount: i64,
) -> AppResult<Tender> {
    let paid = reg.card_payment(cashier, order, Money::new(amount, reg.currency()), terminal)?;
    reg.card_tender(&paid.id)
}

fn local_instant(rule: &pos_core::business_day::BusinessDayRule, day: Date, hour: i8) -> AppResult<Timestamp> {
    day.to_datetime(Time::constant(hour, 0, 0, 0))
        .to_zoned(rule.zone().clone())
        .map(|z| z.timestamp())
        .map_err(|e| AppError::invalid(e.to_string()))
}
