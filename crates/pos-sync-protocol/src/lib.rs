//! Wire types of the sync protocol, version 1: what a register's outbox records carry to the cloud.
//!
//! These are the only serialised form of sales leaving the register. Fields are added, never
//! renamed or removed; a breaking change is a new protocol version. Amounts are integer minor units,
//! quantities thousandths, instants RFC 3339 in UTC, business days `YYYY-MM-DD` in venue time.

use serde::{Deserialize, Serialize};

pub mod api;

pub const PROTOCOL_VERSION: u16 = 1;

/// One outbox record's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Operation {
    SaleRecorded(SaleRecorded),
    OrderVoided(OrderVoided),
    RefundRecorded(RefundRecorded),
    ShiftOpened(ShiftOpened),
    CashMoved(CashMoved),
    ShiftClosed(ShiftClosed),
}

impl Operation {
    /// The outbox `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Operation::SaleRecorded(_) => "sale_recorded",
            Operation::OrderVoided(_) => "order_voided",
            Operation::RefundRecorded(_) => "refund_recorded",
            Operation::ShiftOpened(_) => "shift_opened",
            Operation::CashMoved(_) => "cash_moved",
            Operation::ShiftClosed(_) => "shift_closed",
        }
    }

    /// The exact bytes stored in the outbox and hashed for idempotency checks.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("wire types always serialise")
    }

    pub fn decode(bytes: &[u8]) -> Result<Operation, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineTax {
    pub rate_id: i64,
    pub tax: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLine {
    pub line_no: u32,
    pub sku_id: i64,
    pub sku_code: String,
    pub name: String,
    pub product_id: i64,
    pub category_id: i64,
    /// The category's name when sold (added in protocol 1.1; empty from older registers).
    #[serde(default)]
    pub category: String,
    /// The product's name without the variant (added in protocol 1.1; empty from older registers).
    #[serde(default)]
    pub product: String,
    pub qty_milli: i64,
    pub list_price: i64,
    pub unit_price: i64,
    pub extended: i64,
    pub line_discount: i64,
    pub order_discount: i64,
    pub amount: i64,
    pub taxes: Vec<LineTax>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateTotal {
    pub rate_id: i64,
    pub code: String,
    pub rate_ppm: i64,
    pub base: i64,
    pub tax: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardDetails {
    pub last4: String,
    pub scheme: String,
    pub auth_code: String,
    pub terminal_ref: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalePayment {
    pub seq: u32,
    pub kind: String,
    pub amount: i64,
    pub tendered: i64,
    pub change: i64,
    pub card: Option<CardDetails>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleRecorded {
    pub order_id: String,
    pub receipt_no: i64,
    pub shift_id: String,
    pub business_day: String,
    pub staff_id: i64,
    pub opened_at: String,
    pub paid_at: String,
    pub currency: String,
    pub subtotal: i64,
    pub discount_total: i64,
    pub tax_total: i64,
    pub total: i64,
    pub rounding: i64,
    pub change_due: i64,
    pub lines: Vec<SaleLine>,
    pub taxes: Vec<RateTotal>,
    pub payments: Vec<SalePayment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderVoided {
    pub order_id: String,
    /// Set when a paid order is voided; absent for an order voided before payment.
    pub receipt_no: Option<i64>,
    pub was_paid: bool,
    pub shift_id: String,
    pub staff_id: i64,
    pub at: String,
    pub reason: String,
    pub total: i64,
    /// The lines of an order voided before payment (a paid order's lines travelled with its sale).
    pub lines: Vec<SaleLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLine {
    pub line_no: u32,
    pub qty_milli: i64,
    pub amount: i64,
    pub taxes: Vec<LineTax>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundPayout {
    pub payment_seq: u32,
    pub kind: String,
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRecorded {
    pub refund_id: String,
    pub receipt_no: i64,
    pub order_id: String,
    pub shift_id: String,
    pub business_day: String,
    pub staff_id: i64,
    pub at: String,
    pub reason: String,
    pub amount: i64,
    pub tax_total: i64,
    pub rounding: i64,
    pub total: i64,
    pub lines: Vec<RefundLine>,
    pub taxes: Vec<RateTotal>,
    pub payouts: Vec<RefundPayout>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftOpened {
    pub shift_id: String,
    pub business_day: String,
    pub staff_id: i64,
    pub at: String,
    pub currency: String,
    pub float: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashMoved {
    pub movement_id: String,
    pub shift_id: String,
    pub kind: String,
    pub amount: i64,
    pub reason: String,
    pub staff_id: i64,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftClosed {
    pub shift_id: String,
    pub staff_id: i64,
    pub at: String,
    pub expected_cash: i64,
    pub counted_cash: i64,
    pub variance: i64,
    /// (denomination in minor units, count)
    pub count: Vec<(i64, i64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_tagged_and_round_trips() {
        let op = Operation::CashMoved(CashMoved {
            movement_id: "m1".into(),
            shift_id: "s1".into(),
            kind: "paid_out".into(),
            amount: 250,
            reason: "milk".into(),
            staff_id: 3,
            at: "2026-11-21T09:00:00Z".into(),
        });
        let bytes = op.encode();
        assert!(bytes.starts_with(br#"{"type":"cash_moved","#));
        assert_eq!(Operation::decode(&bytes).unwrap(), op);
        assert_eq!(op.kind(), "cash_moved");
    }
}
