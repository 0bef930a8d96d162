//! Refunds: whole or by line, computed from what the original order recorded, paid back to the
//! original tenders, and never more than was paid.

use crate::money::{Currency, Money, Quantity};
use crate::rounding::div_round_half_away;
use crate::tax::{PriceMode, RateTax, TaxRateId};
use crate::tender::{CardAuthorization, TenderKind};

/// A line of a paid order, with what has been refunded of it so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidLine {
    pub line_no: u32,
    pub qty: Quantity,
    pub amount: i64,
    pub taxes: Vec<(TaxRateId, i64)>,
    pub refunded_qty: Quantity,
    pub refunded_amount: i64,
    pub refunded_taxes: Vec<(TaxRateId, i64)>,
}

/// A payment of a paid order, with what has been refunded to it so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidPayment {
    pub seq: u32,
    pub kind: TenderKind,
    pub amount: i64,
    pub refunded: i64,
    pub card: Option<CardAuthorization>,
}

/// Rate details needed to report a refund's tax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateInfo {
    pub rate_id: TaxRateId,
    pub code: String,
    pub rate_ppm: i64,
}

/// Everything a refund needs to know about the original order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundableOrder {
    pub currency: Currency,
    pub price_mode: PriceMode,
    pub lines: Vec<PaidLine>,
    pub payments: Vec<PaidPayment>,
    pub rates: Vec<RateInfo>,
    /// The sale's cash rounding; returned with the refund that empties the order.
    pub rounding: i64,
    pub refunded_total: i64,
}

impl RefundableOrder {
    pub fn paid(&self) -> i64 {
        self.payments.iter().map(|p| p.amount).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundRequest {
    /// Everything not yet refunded.
    Whole,
    /// Given quantities of given lines.
    Lines(Vec<(u32, Quantity)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundLine {
    pub line_no: u32,
    pub qty: Quantity,
    pub amount: i64,
    pub taxes: Vec<(TaxRateId, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundPayout {
    pub payment_seq: u32,
    pub kind: TenderKind,
    pub amount: i64,
    pub card: Option<CardAuthorization>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub lines: Vec<RefundLine>,
    /// Σ line amounts, in the venue's price basis.
    pub amount: i64,
    pub taxes: Vec<RateTax>,
    pub tax_total: i64,
    pub rounding: i64,
    /// What goes back to the customer.
    pub total: i64,
    pub payouts: Vec<RefundPayout>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    #[error("nothing left to refund on this order")]
    NothingToRefund,
    #[error("the order has no line {0}")]
    NoSuchLine(u32),
    #[error("refund quantity must be more than zero")]
    QuantityNotPositive,
    #[error("line {line_no}: {asked} asked, only {available} left to refund")]
    QuantityExceeds { line_no: u32, available: Quantity, asked: Quantity },
    #[error("refund exceeds what was paid: {paid} paid, {already} already refunded, {asked} asked")]
    ExceedsPaid { paid: Money, already: Money, asked: Money },
    #[error("line {0} appears twice in the refund")]
    DuplicateLine(u32),
}

/// The share of `total` for `part` of `whole`, `already` having gone back for `done`; the last part
/// takes what is left so parts add up exactly. The share refunded so far is rounded as a whole, so
/// rounding does not pile up over many small refunds and no part is ever negative.
fn prorate(total: i64, already: i64, whole: Quantity, done: Quantity, part: Quantity) -> i64 {
    if done.milli() + part.milli() == whole.milli() {
        total - already
    } else {
        let upto = done.milli() + part.milli();
        div_round_half_away(total as i128 * upto as i128, whole.milli() as i128) as i64 - already
    }
}

pub fn compute_refund(order: &RefundableOrder, request: &RefundRequest) -> Result<Refund, RefundError> {
    let wanted: Vec<(u32, Quantity)> = match request {
        RefundRequest::Whole => order
            .lines
            .iter()
            .filter(|l| l.refunded_qty < l.qty)
            .map(|l| (l.line_no, Quantity::from_milli(l.qty.milli() - l.refunded_qty.milli())))
            .collect(),
        RefundRequest::Lines(v) => v.clone(),
    };
    if wanted.is_empty() {
        return Err(RefundError::NothingToRefund);
    }
    let mut lines = Vec::with_capacity(wanted.len());
    for (i, (line_no, qty)) in wanted.iter().enumerate() {
        if wanted[..i].iter().any(|(n, _)| n == line_no) {
            return Err(RefundError::DuplicateLine(*line_no));
        }
        let l = order.lines.iter().find(|l| l.line_no == *line_no).ok_or(RefundError::NoSuchLine(*line_no))?;
        if !qty.is_positive() {
            return Err(RefundError::QuantityNotPositive);
        }
        let available = Quantity::from_milli(l.qty.milli() - l.refunded_qty.milli());
        if *qty > available {
            return Err(RefundError::QuantityExceeds { line_no: *line_no, available, asked: *qty });
        }
        let amount = prorate(l.amount, l.refunded_amount, l.qty, l.refunded_qty, *qty);
        let taxes = l
            .taxes
            .iter()
            .map(|(rate, tax)| {
                let already = l.refunded_taxes.iter().filter(|(r, _)| r == rate).map(|(_, t)| t).sum();
                (*rate, prorate(*tax, already, l.qty, l.refunded_qty, *qty))
            })
            .collect();
        lines.push(RefundLine { line_no: *line_no, qty: *qty, amount, taxes });
    }

    // Tax per rate, with the base as in the sale.
    let mut taxes: Vec<RateTax> = Vec::new();
    for l in &lines {
        let line_tax: i64 = l.taxes.iter().map(|(_, t)| t).sum();
        let base = match order.price_mode {
            PriceMode::TaxInclusive => l.amount - line_tax,
            PriceMode::TaxExclusive => l.amount,
        };
        for (rate_id, tax) in &l.taxes {
            match taxes.iter_mut().find(|t| t.rate_id == *rate_id) {
                Some(t) => {
                    t.base += base;
                    t.tax += tax;
                }
                None => {
                    let info = order.rates.iter().find(|r| r.rate_id == *rate_id);
                    taxes.push(RateTax {
                        rate_id: *rate_id,
                        code: info.map_or_else(String::new, |r| r.code.clone()),
                        rate_ppm: info.map_or(0, |r| r.rate_ppm),
                        base,
                        tax: *tax,
                    });
                }
            }
        }
    }
    let amount: i64 = lines.iter().map(|l| l.amount).sum();
    let tax_total: i64 = taxes.iter().map(|t| t.tax).sum();
    let empties_order = order.lines.iter().all(|l| {
        let asked = lines.iter().find(|r| r.line_no == l.line_no).map_or(0, |r| r.qty.milli());
        l.refunded_qty.milli() + asked == l.qty.milli()
    });
    let before_rounding = match order.price_mode {
        PriceMode::TaxInclusive => amount,
        PriceMode::TaxExclusive => amount + tax_total,
    };
    let paid = order.paid();
    // Cash rounding earlier refunds gave back: what they paid out beyond their lines.
    let refunded_lines: i64 = order
        .lines
        .iter()
        .map(|l| match order.price_mode {
            PriceMode::TaxInclusive => l.refunded_amount,
            PriceMode::TaxExclusive => l.refunded_amount + l.refunded_taxes.iter().map(|(_, t)| t).sum::<i64>(),
        })
        .sum();
    let rounding_left =
        (order.rounding - (order.refunded_total - refunded_lines)).clamp(order.rounding.min(0), order.rounding.max(0));
    let rounding = if empties_order {
        rounding_left
    } else if rounding_left < 0 && before_rounding > paid - order.refunded_total {
        // The sale was rounded down in cash and what is left of the payment is less than these lines:
        // give back what is left, taking the difference from the sale's rounding.
        (paid - order.refunded_total - before_rounding).max(rounding_left)
    } else {
        0
    };
    let total = before_rounding + rounding;

    if total > paid - order.refunded_total {
        return Err(RefundError::ExceedsPaid {
            paid: Money::new(paid, order.currency),
            already: Money::new(order.refunded_total, order.currency),
            asked: Money::new(total, order.currency),
        });
    }
    // Back to the original tenders, the last one first.
    let mut left = total;
    let mut payouts = Vec::new();
    for p in order.payments.iter().rev() {
        if left == 0 {
            break;
        }
        let room = p.amount - p.refunded;
        let take = room.min(left);
        if take > 0 {
            payouts.push(RefundPayout { payment_seq: p.seq, kind: p.kind, amount: take, card: p.card.clone() });
            left -= take;
        }
    }
    if left != 0 {
        return Err(RefundError::ExceedsPaid {
            paid: Money::new(paid, order.currency),
            already: Money::new(order.refunded_total, order.currency),
            asked: Money::new(total, order.currency),
        });
    }
    Ok(Refund { lines, amount, taxes, tax_total, rounding, total, payouts })
}
