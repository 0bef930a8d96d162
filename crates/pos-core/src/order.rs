//! An order while it is being rung up: lines added, changed and removed, line and order discounts,
//! price overrides; and its pricing (discounts spread over lines, tax, total).

use serde::Serialize;

use crate::catalog::{CategoryId, ProductId, Sku, SkuId};
use crate::money::{Currency, Quantity};
use crate::rounding::{allocate, div_round_half_away};
use crate::tax::{self, PriceMode, RateTax, TaxClassId, TaxError, TaxRateId, TaxRounding, TaxTable, Taxable};

/// A discount on a line or on the whole order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Discount {
    /// In basis points: 1000 = 10 %.
    Percent(i64),
    /// In minor units.
    Amount(i64),
}

impl Discount {
    /// A percentage as people type it ("10", "12.5", "15 %") in basis points; `None` if it is not
    /// a number with at most two decimals. The range is checked when the discount is applied.
    pub fn percent_from_text(text: &str) -> Option<Discount> {
        crate::money::parse_fixed(text.trim().trim_end_matches('%').trim(), 2).map(Discount::Percent)
    }

    fn validate(&self) -> Result<(), OrderError> {
        match *self {
            Discount::Percent(bp) if !(0..=10_000).contains(&bp) => Err(OrderError::DiscountPercentOutOfRange(bp)),
            Discount::Amount(a) if a < 0 => Err(OrderError::NegativeDiscount),
            _ => Ok(()),
        }
    }

    /// The discount on `base`, in minor units.
    fn on(&self, base: i64) -> i64 {
        match *self {
            Discount::Percent(bp) => div_round_half_away(base as i128 * bp as i128, 10_000) as i64,
            Discount::Amount(a) => a,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("quantity must be more than zero, got {0}")]
    QuantityNotPositive(Quantity),
    #[error("{name} is sold by the piece: the quantity must be whole, got {qty}")]
    FractionalQuantity { name: String, qty: Quantity },
    #[error("quantity {0} is too large")]
    QuantityTooLarge(Quantity),
    #[error("discount of {0} basis points is out of range (0 to 10000)")]
    DiscountPercentOutOfRange(i64),
    #[error("a discount cannot be negative")]
    NegativeDiscount,
    #[error("discount of {discount} is more than the amount it applies to ({amount})")]
    DiscountExceedsAmount { discount: String, amount: String },
    #[error("price cannot be negative")]
    NegativePrice,
    #[error("order has no line {0}")]
    NoSuchLine(u32),
    #[error("order has no lines")]
    Empty,
    #[error(transparent)]
    Tax(#[from] TaxError),
}

/// What a line remembers of the catalog at the moment it was rung up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineItem {
    pub sku_id: SkuId,
    pub sku_code: String,
    pub name: String,
    pub product_id: ProductId,
    pub category_id: CategoryId,
    pub tax_class: TaxClassId,
    pub weighed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub line_no: u32,
    pub item: LineItem,
    pub qty: Quantity,
    /// The catalog price per unit.
    pub list_price: i64,
    /// The price actually charged per unit (differs from `list_price` after a price override).
    pub unit_price: i64,
    pub discount: Option<Discount>,
}

/// Upper bound on a line's quantity, so that arithmetic never overflows: 100,000 units.
const MAX_QTY_MILLI: i64 = 100_000_000;

fn check_qty(item: &LineItem, qty: Quantity) -> Result<(), OrderError> {
    if !qty.is_positive() {
        return Err(OrderError::QuantityNotPositive(qty));
    }
    if qty.milli() > MAX_QTY_MILLI {
        return Err(OrderError::QuantityTooLarge(qty));
    }
    if !item.weighed && qty.milli() % 1000 != 0 {
        return Err(OrderError::FractionalQuantity { name: item.name.clone(), qty });
    }
    Ok(())
}

/// An order being rung up. It holds no money decisions of its own: [`Order::price`] computes them.
#[derive(Debug, Clone)]
pub struct Order {
    currency: Currency,
    lines: Vec<OrderLine>,
    discount: Option<Discount>,
    next_line_no: u32,
}

impl Order {
    pub fn new(currency: Currency) -> Order {
        Order { currency, lines: Vec::new(), discount: None, next_line_no: 1 }
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn lines(&self) -> &[OrderLine] {
        &self.lines
    }

    pub fn discount(&self) -> Option<Discount> {
        self.discount
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Adds `qty` of a SKU. Scanning the same undiscounted item again adds to its line.
    pub fn add(&mut self, sku: &Sku, qty: Quantity) -> Result<u32, OrderError> {
        let item = LineItem {
            sku_id: sku.id,
            sku_code: sku.code.clone(),
            name: sku.display_name(),
            product_id: sku.product_id,
            category_id: sku.category_id,
            tax_class: sku.tax_class,
            weighed: sku.weighed,
        };
        check_qty(&item, qty)?;
        if !sku.weighed
            && let Some(line) = self
                .lines
                .iter_mut()
                .find(|l| l.item.sku_id == sku.id && l.discount.is_none() && l.unit_price == l.list_price)
        {
            let total = Quantity::from_milli(line.qty.milli() + qty.milli());
            check_qty(&line.item, total)?;
            line.qty = total;
            return Ok(line.line_no);
        }
        let line_no = self.next_line_no;
        self.next_line_no += 1;
        self.lines.push(OrderLine { line_no, item, qty, list_price: sku.price, unit_price: sku.price, discount: None });
        Ok(line_no)
    }

    fn line_mut(&mut self, line_no: u32) -> Result<&mut OrderLine, OrderError> {
        self.lines.iter_mut().find(|l| l.line_no == line_no).ok_or(OrderError::NoSuchLine(line_no))
    }

    pub fn line(&self, line_no: u32) -> Result<&OrderLine, OrderError> {
        self.lines.iter().find(|l| l.line_no == line_no).ok_or(OrderError::NoSuchLine(line_no))
    }

    pub fn set_quantity(&mut self, line_no: u32, qty: Quantity) -> Result<(), OrderError> {
        let line = self.line_mut(line_no)?;
        check_qty(&line.item, qty)?;
        line.qty = qty;
        Ok(())
    }

    pub fn remove(&mut self, line_no: u32) -> Result<OrderLine, OrderError> {
        let pos = self.lines.iter().position(|l| l.line_no == line_no).ok_or(OrderError::NoSuchLine(line_no))?;
        Ok(self.lines.remove(pos))
    }

    pub fn set_line_discount(&mut self, line_no: u32, discount: Option<Discount>) -> Result<(), OrderError> {
        if let Some(d) = discount {
            d.validate()?;
        }
        let line = self.line_mut(line_no)?;
        let previous = line.discount;
        line.discount = discount;
        // A discount larger than the line is refused now, not at payment.
        if let Some(d) = discount {
            let extended = line.qty.extend(line.unit_price);
            if d.on(extended) > extended {
                let line = self.line_mut(line_no)?;
                line.discount = previous;
                return Err(OrderError::DiscountExceedsAmount {
                    discount: d.on(extended).to_string(),
                    amount: extended.to_string(),
                });
            }
        }
        Ok(())
    }

    pub fn override_price(&mut self, line_no: u32, unit_price: i64) -> Result<(), OrderError> {
        if unit_price < 0 {
            return Err(OrderError::NegativePrice);
        }
        self.line_mut(line_no)?.unit_price = unit_price;
        Ok(())
    }

    pub fn set_discount(&mut self, discount: Option<Discount>) -> Result<(), OrderError> {
        if let Some(d) = discount {
            d.validate()?;
        }
        self.discount = discount;
        Ok(())
    }

    /// Prices the order: extended amounts, line discounts, the order discount spread over the lines
    /// in proportion to their amounts, tax per the venue's rules, and the total.
    pub fn price(&self, rules: &PricingRules, taxes: &TaxTable) -> Result<PricedOrder, OrderError> {
        if self.lines.is_empty() {
            return Err(OrderError::Empty);
        }
        let mut after_line: Vec<i64> = Vec::with_capacity(self.lines.len());
        let mut line_discounts: Vec<i64> = Vec::with_capacity(self.lines.len());
        for l in &self.lines {
            let extended = l.qty.extend(l.unit_price);
            let d = l.discount.map_or(0, |d| d.on(extended));
            if d > extended {
                return Err(OrderError::DiscountExceedsAmount {
                    discount: d.to_string(),
                    amount: extended.to_string(),
                });
            }
            line_discounts.push(d);
            after_line.push(extended - d);
        }
        let base: i64 = after_line.iter().sum();
        let order_discount = self.discount.map_or(0, |d| d.on(base));
        if order_discount > base {
            return Err(OrderError::DiscountExceedsAmount {
                discount: order_discount.to_string(),
                amount: base.to_string(),
            });
        }
        let spread = allocate(order_discount, &after_line);
        let amounts: Vec<i64> = after_line.iter().zip(&spread).map(|(a, s)| a - s).collect();
        let taxable: Vec<Taxable> =
            self.lines.iter().zip(&amounts).map(|(l, a)| Taxable { amount: *a, class: l.item.tax_class }).collect();
        let tax = tax::compute(&taxable, taxes, rules.price_mode, rules.tax_rounding)?;
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, l) in self.lines.iter().enumerate() {
            lines.push(PricedLine {
                line_no: l.line_no,
                item: l.item.clone(),
                qty: l.qty,
                list_price: l.list_price,
                unit_price: l.unit_price,
                extended: after_line[i] + line_discounts[i],
                line_discount: line_discounts[i],
                order_discount: spread[i],
                amount: amounts[i],
                taxes: tax.lines[i].clone(),
            });
        }
        let tax_total = tax.total();
        let lines_amount: i64 = amounts.iter().sum();
        let total = match rules.price_mode {
            PriceMode::TaxInclusive => lines_amount,
            PriceMode::TaxExclusive => lines_amount + tax_total,
        };
        Ok(PricedOrder {
            currency: self.currency,
            price_mode: rules.price_mode,
            lines,
            subtotal: after_line.iter().sum::<i64>() + line_discounts.iter().sum::<i64>(),
            discount_total: line_discounts.iter().sum::<i64>() + order_discount,
            taxes: tax.by_rate,
            tax_total,
            total,
        })
    }
}

/// The venue's pricing rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricingRules {
    pub price_mode: PriceMode,
    pub tax_rounding: TaxRounding,
    /// Cash totals are rounded to a multiple of this many minor units (1 = no rounding, 5 = 0.05).
    pub cash_rounding: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedLine {
    pub line_no: u32,
    pub item: LineItem,
    pub qty: Quantity,
    pub list_price: i64,
    pub unit_price: i64,
    /// `unit_price × qty`, rounded.
    pub extended: i64,
    pub line_discount: i64,
    /// This line's share of the order discount.
    pub order_discount: i64,
    /// `extended − line_discount − order_discount`, in the venue's price basis.
    pub amount: i64,
    /// Tax per rate on this line (allocated from the invoice total under per-invoice rounding).
    pub taxes: Vec<(TaxRateId, i64)>,
}

impl PricedLine {
    pub fn tax(&self) -> i64 {
        self.taxes.iter().map(|(_, t)| t).sum()
    }
}

/// A fully priced order, ready to be paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedOrder {
    pub currency: Currency,
    pub price_mode: PriceMode,
    pub lines: Vec<PricedLine>,
    /// Σ extended.
    pub subtotal: i64,
    /// Line discounts plus the order discount.
    pub discount_total: i64,
    pub taxes: Vec<RateTax>,
    pub tax_total: i64,
    /// What the customer owes before cash rounding.
    pub total: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_parse_to_basis_points() {
        assert_eq!(Discount::percent_from_text("10"), Some(Discount::Percent(1000)));
        assert_eq!(Discount::percent_from_text(" 12.5 % "), Some(Discount::Percent(1250)));
        assert_eq!(Discount::percent_from_text("0.25"), Some(Discount::Percent(25)));
        assert_eq!(Discount::percent_from_text("ten"), None);
        assert_eq!(Discount::percent_from_text("1.234"), None);
    }
}
