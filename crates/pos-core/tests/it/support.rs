//! Shared builders, random-cart strategies, and the independent oracle the properties compare against.

use std::collections::BTreeMap;

use pos_core::catalog::{CategoryId, ProductId, Sku, SkuId};
use pos_core::order::{Discount, Order, PricedOrder, PricingRules};
use pos_core::refund::{PaidLine, PaidPayment, RateInfo, Refund, RefundableOrder};
use pos_core::tax::{PriceMode, TaxClass, TaxClassId, TaxRate, TaxRateId, TaxRounding, TaxTable};
use pos_core::tender::{CardAuthorization, Settlement, Tender};
use pos_core::{Currency, Money, Quantity};
use proptest::prelude::*;
use proptest::sample::{Index, subsequence};

pub fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

pub fn rate(id: i64, code: &str, ppm: i64) -> TaxRate {
    TaxRate { id: TaxRateId(id), code: code.into(), name: code.into(), rate_ppm: ppm }
}

pub fn class(id: i64, name: &str, rates: Vec<TaxRate>) -> TaxClass {
    TaxClass { id: TaxClassId(id), name: name.into(), rates }
}

/// A SKU with a product of the same id; category is `id % 3`.
pub fn sku(id: i64, tax_class: i64, price: i64, weighed: bool) -> Sku {
    Sku {
        id: SkuId(id),
        code: format!("SKU-{id}"),
        product_id: ProductId(id),
        product_name: format!("Product {id}"),
        variant_name: String::new(),
        category_id: CategoryId(id % 3),
        tax_class: TaxClassId(tax_class),
        price,
        weighed,
        barcodes: Vec::new(),
    }
}

pub fn card_auth() -> CardAuthorization {
    CardAuthorization::new("4242", "VISA", "A1B2C3", "T-0001").unwrap()
}

pub fn card(minor: i64) -> Tender {
    Tender::Card { amount: eur(minor), auth: card_auth() }
}

pub fn cash(minor: i64) -> Tender {
    Tender::Cash { tendered: eur(minor) }
}

/// Rates the random tax classes draw from: (id, code, millionths).
pub const RATE_POOL: [(i64, &str, i64); 5] =
    [(1, "Z", 0), (2, "R7", 70_000), (3, "S19", 190_000), (4, "NY", 88_750), (5, "GST", 50_000)];

// ---------------------------------------------------------------------------------------------
// The oracle: plain i128 arithmetic, written without calling into pos_core's rounding or tax code.
// ---------------------------------------------------------------------------------------------

pub mod oracle {
    use super::*;

    /// `n / d` rounded half away from zero, computed as floor(n/d + 1/2) on the magnitude.
    pub fn round_div(n: i128, d: i128) -> i128 {
        assert!(d > 0, "denominator must be positive");
        if n >= 0 { (2 * n + d) / (2 * d) } else { -((-2 * n + d) / (2 * d)) }
    }

    /// Rounds to the nearest multiple of `inc`, half away from zero.
    pub fn round_to(minor: i64, inc: i64) -> i64 {
        (round_div(minor as i128, inc as i128) * inc as i128) as i64
    }

    /// unit price × quantity (thousandths), rounded.
    pub fn extend(qty_milli: i64, unit_price: i64) -> i64 {
        round_div(qty_milli as i128 * unit_price as i128, 1000) as i64
    }

    pub fn discount_on(d: Discount, base: i64) -> i64 {
        match d {
            Discount::Percent(bp) => round_div(base as i128 * bp as i128, 10_000) as i64,
            Discount::Amount(a) => a,
        }
    }

    fn denominator(class: &TaxClass, mode: PriceMode) -> i128 {
        let class_ppm: i128 = class.rates.iter().map(|r| r.rate_ppm as i128).sum();
        match mode {
            PriceMode::TaxExclusive => 1_000_000,
            PriceMode::TaxInclusive => 1_000_000 + class_ppm,
        }
    }

    /// Tax of `amount` at each of the class's rates, each rounded on its own.
    pub fn class_taxes(class: &TaxClass, amount: i64, mode: PriceMode) -> Vec<(TaxRateId, i64)> {
        let den = denominator(class, mode);
        class.rates.iter().map(|r| (r.id, round_div(amount as i128 * r.rate_ppm as i128, den) as i64)).collect()
    }

    /// Expected (base, tax) per rate id for lines `(amount, class)`.
    pub fn taxes_by_rate(
        lines: &[(i64, &TaxClass)],
        mode: PriceMode,
        rounding: TaxRounding,
    ) -> BTreeMap<i64, (i64, i64)> {
        let mut out: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        let mut add = |amount: i64, class: &TaxClass| {
            let taxes = class_taxes(class, amount, mode);
            let all: i64 = taxes.iter().map(|(_, t)| t).sum();
            let base = match mode {
                PriceMode::TaxExclusive => amount,
                PriceMode::TaxInclusive => amount - all,
            };
            for (id, t) in taxes {
                let e = out.entry(id.0).or_default();
                e.0 += base;
                e.1 += t;
            }
        };
        match rounding {
            TaxRounding::PerLine => {
                for (amount, class) in lines {
                    add(*amount, class);
                }
            }
            TaxRounding::PerInvoice => {
                let mut per_class: BTreeMap<i64, (i64, &TaxClass)> = BTreeMap::new();
                for (amount, class) in lines {
                    per_class.entry(class.id.0).or_insert((0, class)).0 += amount;
                }
                for (sum, class) in per_class.values() {
                    add(*sum, class);
                }
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Random carts.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
pub enum DiscSpec {
    None,
    /// Basis points.
    Percent(i64),
    /// An amount of this many thousandths of what it applies to (so never more than it).
    Permille(i64),
}

#[derive(Debug, Clone)]
pub struct SkuSpec {
    pub class: Index,
    pub price: i64,
    pub weighed: bool,
}

#[derive(Debug, Clone)]
pub struct LineSpec {
    pub sku: Index,
    pub units: i64,
    pub grams: i64,
    pub discount: DiscSpec,
    pub override_price: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct CartSpec {
    /// Per class, indexes into [`RATE_POOL`].
    pub classes: Vec<Vec<usize>>,
    pub skus: Vec<SkuSpec>,
    pub lines: Vec<LineSpec>,
    pub order_discount: DiscSpec,
    pub mode: PriceMode,
    pub rounding: TaxRounding,
}

pub fn price() -> impl Strategy<Value = i64> {
    prop_oneof![4 => 0i64..=100_000, 1 => 0i64..=20]
}

pub fn disc() -> impl Strategy<Value = DiscSpec> {
    prop_oneof![
        4 => Just(DiscSpec::None),
        2 => (0i64..=10_000).prop_map(DiscSpec::Percent),
        2 => (0i64..=1000).prop_map(DiscSpec::Permille),
        1 => Just(DiscSpec::Percent(10_000)),
        1 => Just(DiscSpec::Permille(1000)),
    ]
}

pub fn mode() -> impl Strategy<Value = PriceMode> {
    prop_oneof![Just(PriceMode::TaxInclusive), Just(PriceMode::TaxExclusive)]
}

pub fn tax_rounding() -> impl Strategy<Value = TaxRounding> {
    prop_oneof![Just(TaxRounding::PerLine), Just(TaxRounding::PerInvoice)]
}

pub fn cart() -> impl Strategy<Value = CartSpec> {
    let classes = prop::collection::vec(subsequence((0..RATE_POOL.len()).collect::<Vec<_>>(), 1..=2), 1..=3);
    let skus = prop::collection::vec(
        (any::<Index>(), price(), prop::bool::weighted(0.3)).prop_map(|(class, price, weighed)| SkuSpec {
            class,
            price,
            weighed,
        }),
        1..=6,
    );
    let lines = prop::collection::vec(
        (any::<Index>(), 1i64..=20, 1i64..=5000, disc(), prop::option::weighted(0.1, price())).prop_map(
            |(sku, units, grams, discount, override_price)| LineSpec { sku, units, grams, discount, override_price },
        ),
        1..=10,
    );
    (classes, skus, lines, disc(), mode(), tax_rounding()).prop_map(
        |(classes, skus, lines, order_discount, mode, rounding)| CartSpec {
            classes,
            skus,
            lines,
            order_discount,
            mode,
            rounding,
        },
    )
}

/// A cart rung up: the tax table, the classes (for the oracle) and the order.
#[derive(Debug)]
pub struct Built {
    pub classes: Vec<TaxClass>,
    pub table: TaxTable,
    pub order: Order,
    pub rules: PricingRules,
}

impl Built {
    pub fn class(&self, id: TaxClassId) -> &TaxClass {
        self.classes.iter().find(|c| c.id == id).expect("class of the cart")
    }

    pub fn price(&self) -> PricedOrder {
        self.order.price(&self.rules, &self.table).expect("a valid cart prices")
    }
}

pub fn build(spec: &CartSpec, cash_rounding: i64) -> Built {
    let classes: Vec<TaxClass> = spec
        .classes
        .iter()
        .enumerate()
        .map(|(i, rates)| {
            let rates = rates
                .iter()
                .map(|&r| {
                    let (id, code, ppm) = RATE_POOL[r];
                    rate(id, code, ppm)
                })
                .collect();
            class(i as i64 + 1, &format!("class {}", i + 1), rates)
        })
        .collect();
    let table = TaxTable::new(classes.clone()).expect("valid tax table");
    let skus: Vec<Sku> = spec
        .skus
        .iter()
        .enumerate()
        .map(|(i, s)| sku(i as i64 + 1, s.class.index(classes.len()) as i64 + 1, s.price, s.weighed))
        .collect();
    let rules = PricingRules { price_mode: spec.mode, tax_rounding: spec.rounding, cash_rounding };
    let mut order = Order::new(Currency::EUR);
    for l in &spec.lines {
        let sku = &skus[l.sku.index(skus.len())];
        let qty = if sku.weighed { Quantity::from_milli(l.grams) } else { Quantity::units(l.units) };
        let line_no = order.add(sku, qty).expect("valid quantity");
        if let Some(p) = l.override_price {
            order.override_price(line_no, p).expect("non-negative price");
        }
        let line = order.line(line_no).unwrap();
        let extended = oracle::extend(line.qty.milli(), line.unit_price);
        let discount = match l.discount {
            DiscSpec::None => None,
            DiscSpec::Percent(bp) => Some(Discount::Percent(bp)),
            DiscSpec::Permille(k) => Some(Discount::Amount(extended * k / 1000)),
        };
        if discount.is_some() {
            order.set_line_discount(line_no, discount).expect("discount within the line");
        }
    }
    let mut built = Built { classes, table, order, rules };
    let before = built.price();
    let base = before.subtotal - before.discount_total;
    let discount = match spec.order_discount {
        DiscSpec::None => None,
        DiscSpec::Percent(bp) => Some(Discount::Percent(bp)),
        DiscSpec::Permille(k) => Some(Discount::Amount(base * k / 1000)),
    };
    built.order.set_discount(discount).expect("valid order discount");
    built
}

// ---------------------------------------------------------------------------------------------
// Tenders that settle.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct TenderPlan {
    /// Partial tenders before the last: (is card, share of what is left in thousandths).
    pub partials: Vec<(bool, i64)>,
    pub last_is_card: bool,
    /// Cash handed over beyond what is due in cash.
    pub extra_cash: i64,
}

pub fn tender_plan() -> impl Strategy<Value = TenderPlan> {
    (prop::collection::vec((any::<bool>(), 1i64..=999), 0..=3), any::<bool>(), prop_oneof![Just(0i64), 0i64..=10_000])
        .prop_map(|(partials, last_is_card, extra_cash)| TenderPlan { partials, last_is_card, extra_cash })
}

/// Tenders following `plan` that pay `total` in full; none is refused by a correct `settle`.
pub fn tenders_for(total: i64, plan: &TenderPlan, cash_rounding: i64) -> Vec<Tender> {
    let mut out = Vec::new();
    let mut left = total;
    if left <= 0 {
        return out;
    }
    for &(is_card, share) in &plan.partials {
        let amount = left * share / 1000;
        // A partial tender must leave something that is still due, in cash terms too.
        if amount <= 0 || amount >= left || (!is_card && amount >= oracle::round_to(left, cash_rounding)) {
            continue;
        }
        out.push(if is_card { card(amount) } else { cash(amount) });
        left -= amount;
    }
    let due_in_cash = oracle::round_to(left, cash_rounding);
    if plan.last_is_card || due_in_cash == 0 {
        out.push(card(left));
    } else {
        out.push(cash(due_in_cash + plan.extra_cash));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Refund bookkeeping, as the store does it.
// ---------------------------------------------------------------------------------------------

/// What the store would load for a refund right after the sale.
pub fn refundable(p: &PricedOrder, s: &Settlement) -> RefundableOrder {
    RefundableOrder {
        currency: p.currency,
        price_mode: p.price_mode,
        lines: p
            .lines
            .iter()
            .map(|l| PaidLine {
                line_no: l.line_no,
                qty: l.qty,
                amount: l.amount,
                taxes: l.taxes.clone(),
                refunded_qty: Quantity::from_milli(0),
                refunded_amount: 0,
                refunded_taxes: l.taxes.iter().map(|(r, _)| (*r, 0)).collect(),
            })
            .collect(),
        payments: s
            .payments
            .iter()
            .enumerate()
            .map(|(i, p)| PaidPayment {
                seq: i as u32 + 1,
                kind: p.kind,
                amount: p.amount,
                refunded: 0,
                card: p.card.clone(),
            })
            .collect(),
        rates: p
            .taxes
            .iter()
            .map(|t| RateInfo { rate_id: t.rate_id, code: t.code.clone(), rate_ppm: t.rate_ppm })
            .collect(),
        rounding: s.rounding,
        refunded_total: 0,
    }
}

/// Records a refund on the order, as the store's `insert_refund` does.
pub fn apply_refund(o: &mut RefundableOrder, r: &Refund) {
    for rl in &r.lines {
        let l = o.lines.iter_mut().find(|l| l.line_no == rl.line_no).expect("refunded line exists");
        l.refunded_qty = Quantity::from_milli(l.refunded_qty.milli() + rl.qty.milli());
        l.refunded_amount += rl.amount;
        for (rate, t) in &rl.taxes {
            let e = l.refunded_taxes.iter_mut().find(|(id, _)| id == rate).expect("rate of the line");
            e.1 += t;
        }
    }
    for p in &r.payouts {
        let pay = o.payments.iter_mut().find(|x| x.seq == p.payment_seq).expect("paid-out payment exists");
        pay.refunded += p.amount;
    }
    o.refunded_total += r.total;
}
