//! Shifts at one cash drawer: opening float, paid-in and paid-out with a reason, expected cash,
//! a blind count by denomination at close, and the variance.

use serde::Serialize;

use crate::money::{Currency, Money};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CashMovementKind {
    PaidIn,
    PaidOut,
}

impl CashMovementKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            CashMovementKind::PaidIn => "paid_in",
            CashMovementKind::PaidOut => "paid_out",
        }
    }

    pub fn parse(s: &str) -> Option<CashMovementKind> {
        match s {
            "paid_in" => Some(CashMovementKind::PaidIn),
            "paid_out" => Some(CashMovementKind::PaidOut),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShiftError {
    #[error("an opening float cannot be negative")]
    NegativeFloat,
    #[error("a paid-in or paid-out must be more than zero")]
    MovementNotPositive,
    #[error("a paid-in or paid-out needs a reason")]
    MissingReason,
    #[error("{denomination} is not a {currency} note or coin")]
    UnknownDenomination { denomination: String, currency: Currency },
    #[error("a count cannot be negative")]
    NegativeCount,
    #[error("denomination {0} is counted twice")]
    DuplicateDenomination(String),
    #[error("counted cash is out of range")]
    CountTooLarge,
}

pub fn check_float(float: Money) -> Result<(), ShiftError> {
    if float.is_negative() { Err(ShiftError::NegativeFloat) } else { Ok(()) }
}

/// Checks a paid-in or paid-out and returns its trimmed reason.
pub fn check_movement(amount: Money, reason: &str) -> Result<String, ShiftError> {
    if amount.minor() <= 0 {
        return Err(ShiftError::MovementNotPositive);
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ShiftError::MissingReason);
    }
    Ok(reason.chars().filter(|c| !c.is_control()).take(200).collect())
}

/// Cash counted at close, by denomination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CashCount {
    /// (denomination in minor units, how many), largest denomination first.
    pub counts: Vec<(i64, i64)>,
}

impl CashCount {
    pub fn new(currency: Currency, counts: &[(i64, i64)]) -> Result<CashCount, ShiftError> {
        let known = currency.denominations();
        let mut out: Vec<(i64, i64)> = Vec::with_capacity(counts.len());
        for &(denomination, n) in counts {
            if !known.contains(&denomination) {
                return Err(ShiftError::UnknownDenomination {
                    denomination: Money::new(denomination, currency).to_string(),
                    currency,
                });
            }
            if n < 0 {
                return Err(ShiftError::NegativeCount);
            }
            if out.iter().any(|(d, _)| *d == denomination) {
                return Err(ShiftError::DuplicateDenomination(Money::new(denomination, currency).to_string()));
            }
            if n > 0 {
                out.push((denomination, n));
            }
        }
        out.sort_by_key(|d| std::cmp::Reverse(d.0));
        let count = CashCount { counts: out };
        count.checked_total().ok_or(ShiftError::CountTooLarge)?;
        Ok(count)
    }

    fn checked_total(&self) -> Option<i64> {
        self.counts.iter().try_fold(0i64, |acc, (d, n)| acc.checked_add(d.checked_mul(*n)?))
    }

    pub fn total(&self) -> i64 {
        self.checked_total().unwrap_or(i64::MAX)
    }
}

/// Cash that should be in the drawer.
pub fn expected_cash(float: i64, cash_sales: i64, cash_refunds: i64, paid_in: i64, paid_out: i64) -> i64 {
    float + cash_sales - cash_refunds + paid_in - paid_out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        let c = CashCount::new(Currency::EUR, &[(5, 3), (2000, 2), (100, 0)]).unwrap();
        assert_eq!(c.total(), 4015);
        assert_eq!(c.counts, vec![(2000, 2), (5, 3)]);
        assert!(CashCount::new(Currency::EUR, &[(300, 1)]).is_err());
        assert!(CashCount::new(Currency::EUR, &[(100, -1)]).is_err());
        assert!(CashCount::new(Currency::EUR, &[(100, 1), (100, 2)]).is_err());
        assert_eq!(expected_cash(10000, 5000, 1000, 200, 300), 13900);
    }

    #[test]
    fn movements_need_a_reason() {
        assert!(check_movement(Money::new(100, Currency::EUR), "  ").is_err());
        assert!(check_movement(Money::new(0, Currency::EUR), "milk").is_err());
        assert_eq!(check_movement(Money::new(100, Currency::EUR), " milk ").unwrap(), "milk");
    }
}
