//! Tenders and settlement: cash with change due and cash rounding, card payments as a terminal's
//! result (last four digits, scheme, authorisation code, terminal reference; never a card number),
//! and split tender.

use serde::Serialize;

use crate::money::{Currency, Money};
use crate::rounding::round_to_increment;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TenderKind {
    Cash,
    Card,
}

impl TenderKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            TenderKind::Cash => "cash",
            TenderKind::Card => "card",
        }
    }

    pub fn parse(s: &str) -> Option<TenderKind> {
        match s {
            "cash" => Some(TenderKind::Cash),
            "card" => Some(TenderKind::Card),
            _ => None,
        }
    }
}

/// What a payment terminal reports for an approved card payment. The type cannot hold a card number:
/// `last4` is exactly four digits and the other fields are short, checked strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardAuthorization {
    last4: String,
    scheme: String,
    auth_code: String,
    terminal_ref: String,
}

fn short_field(value: &str, max: usize, field: &'static str) -> Result<String, TenderError> {
    let ok = !value.is_empty()
        && value.len() <= max
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b' ');
    // A long run of digits is what a card number looks like: refuse it in any free-text field.
    let digit_run = value.as_bytes().split(|b| !b.is_ascii_digit()).map(<[u8]>::len).max().unwrap_or(0);
    if ok && digit_run < 12 { Ok(value.to_owned()) } else { Err(TenderError::InvalidCardField(field)) }
}

impl CardAuthorization {
    pub fn new(last4: &str, scheme: &str, auth_code: &str, terminal_ref: &str) -> Result<Self, TenderError> {
        if last4.len() != 4 || !last4.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TenderError::InvalidCardField("last4"));
        }
        Ok(CardAuthorization {
            last4: last4.to_owned(),
            scheme: short_field(scheme, 20, "scheme")?,
            auth_code: short_field(auth_code, 12, "auth_code")?,
            terminal_ref: short_field(terminal_ref, 40, "terminal_ref")?,
        })
    }

    pub fn last4(&self) -> &str {
        &self.last4
    }
    pub fn scheme(&self) -> &str {
        &self.scheme
    }
    pub fn auth_code(&self) -> &str {
        &self.auth_code
    }
    pub fn terminal_ref(&self) -> &str {
        &self.terminal_ref
    }
}

/// One tender offered by the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tender {
    /// Cash handed over; may be more than due, the difference is change.
    Cash { tendered: Money },
    /// An approved card payment for exactly `amount`.
    Card { amount: Money, auth: CardAuthorization },
}

/// A tender as applied to the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub kind: TenderKind,
    /// The part of the order this tender paid.
    pub amount: i64,
    /// What was handed over (cash) or charged (card).
    pub tendered: i64,
    pub change: i64,
    pub card: Option<CardAuthorization>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub payments: Vec<Payment>,
    /// Cash rounding: what was paid minus the order total (e.g. −2 when 10.02 is paid as 10.00).
    pub rounding: i64,
    pub change_due: i64,
}

impl Settlement {
    pub fn paid(&self) -> i64 {
        self.payments.iter().map(|p| p.amount).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenderError {
    #[error("tender is in {got}, the order is in {expected}")]
    CurrencyMismatch { expected: Currency, got: Currency },
    #[error("a tender must be more than zero")]
    NotPositive,
    #[error("card payment of {amount} is more than the {due} still due")]
    CardExceedsDue { amount: Money, due: Money },
    #[error("not enough tendered: {due} due, {tendered} tendered")]
    Insufficient { due: Money, tendered: Money },
    #[error("the order is already paid; remove the extra tender")]
    UnneededTender,
    #[error("card result field {0} is missing or malformed")]
    InvalidCardField(&'static str),
}

/// Applies tenders in the order given. Cards pay exactly their amount and never more than is due;
/// cash may exceed what is due and gives change. When cash settles the rest, the rest is rounded to
/// the venue's cash increment first (so 10.02 due in cash is 10.00 with 0.05 rounding).
pub fn settle(total: Money, tenders: &[Tender], cash_rounding: i64) -> Result<Settlement, TenderError> {
    let currency = total.currency();
    let mut remaining = total.minor();
    let mut payments = Vec::with_capacity(tenders.len());
    let mut rounding = 0;
    let mut change_due = 0;
    let mut tendered_sum = 0i64;
    let mut any_cash = false;
    for t in tenders {
        let offered = match t {
            Tender::Cash { tendered } => *tendered,
            Tender::Card { amount, .. } => *amount,
        };
        if offered.currency() != currency {
            return Err(TenderError::CurrencyMismatch { expected: currency, got: offered.currency() });
        }
        if offered.minor() <= 0 {
            return Err(TenderError::NotPositive);
        }
        if remaining <= 0 {
            return Err(TenderError::UnneededTender);
        }
        tendered_sum += offered.minor();
        match t {
            Tender::Cash { tendered } => {
                any_cash = true;
                let due_in_cash = round_to_increment(remaining, cash_rounding);
                if tendered.minor() >= due_in_cash {
                    let change = tendered.minor() - due_in_cash;
                    payments.push(Payment {
                        kind: TenderKind::Cash,
                        amount: due_in_cash,
                        tendered: tendered.minor(),
                        change,
                        card: None,
                    });
                    rounding += due_in_cash - remaining;
                    change_due += change;
                    remaining = 0;
                } else if tendered.minor() >= remaining {
                    // Covers the exact rest but not the rest rounded up for cash: short, and not a part payment.
                    return Err(TenderError::Insufficient { due: total, tendered: Money::new(tendered_sum, currency) });
                } else {
                    payments.push(Payment {
                        kind: TenderKind::Cash,
                        amount: tendered.minor(),
                        tendered: tendered.minor(),
                        change: 0,
                        card: None,
                    });
                    remaining -= tendered.minor();
                }
            }
            Tender::Card { amount, auth } => {
                if amount.minor() > remaining {
                    return Err(TenderError::CardExceedsDue { amount: *amount, due: Money::new(remaining, currency) });
                }
                payments.push(Payment {
                    kind: TenderKind::Card,
                    amount: amount.minor(),
                    tendered: amount.minor(),
                    change: 0,
                    card: Some(auth.clone()),
                });
                remaining -= amount.minor();
            }
        }
    }
    // A remainder smaller than half the cash increment is rounded away when cash is involved, unless
    // the last tender was cash that fell short of the rest due in cash.
    let last_is_cash = matches!(tenders.last(), Some(Tender::Cash { .. }));
    if remaining > 0 && any_cash && !last_is_cash && round_to_increment(remaining, cash_rounding) == 0 {
        rounding -= remaining;
        remaining = 0;
    }
    if remaining > 0 {
        return Err(TenderError::Insufficient { due: total, tendered: Money::new(tendered_sum, currency) });
    }
    Ok(Settlement { payments, rounding, change_due })
}

/// Amounts a customer is likely to hand over for `due` (in cash, already rounded): the exact
/// amount, then `due` rounded up to each banknote of `denominations` (largest first, minor units),
/// smallest first, without repeats, at most `max` of them. A cashier taps one instead of typing.
pub fn quick_cash_amounts(due: i64, denominations: &[i64], max: usize) -> Vec<i64> {
    if due <= 0 || max == 0 {
        return Vec::new();
    }
    let mut out = vec![due];
    // Notes and large coins only: rounding up to a cent says nothing new.
    let mut steps: Vec<i64> = denominations.iter().copied().filter(|d| *d >= 500).collect();
    steps.sort_unstable();
    for d in steps {
        // due > 0 and d > 0: round up to a multiple of d.
        let up = ((due + d - 1) / d).saturating_mul(d);
        if !out.contains(&up) {
            out.push(up);
        }
    }
    out.sort_unstable();
    out.truncate(max);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(m: i64) -> Money {
        Money::new(m, Currency::EUR)
    }

    fn card(m: i64) -> Tender {
        Tender::Card { amount: eur(m), auth: CardAuthorization::new("4242", "VISA", "A1B2C3", "T-0001").unwrap() }
    }

    #[test]
    fn cash_with_change_and_rounding() {
        let s = settle(eur(1002), &[Tender::Cash { tendered: eur(2000) }], 5).unwrap();
        assert_eq!((s.paid(), s.change_due, s.rounding), (1000, 1000, -2));
        let s = settle(eur(1003), &[Tender::Cash { tendered: eur(1005) }], 5).unwrap();
        assert_eq!((s.paid(), s.change_due, s.rounding), (1005, 0, 2));
        let s = settle(eur(1003), &[Tender::Cash { tendered: eur(1003) }], 1).unwrap();
        assert_eq!((s.paid(), s.change_due, s.rounding), (1003, 0, 0));
    }

    #[test]
    fn split_card_then_cash() {
        let s = settle(eur(2550), &[card(2000), Tender::Cash { tendered: eur(1000) }], 1).unwrap();
        assert_eq!(s.payments.len(), 2);
        assert_eq!((s.payments[1].amount, s.change_due), (550, 450));
    }

    #[test]
    fn refusals() {
        assert!(matches!(settle(eur(1000), &[card(1500)], 1), Err(TenderError::CardExceedsDue { .. })));
        assert!(matches!(
            settle(eur(1000), &[Tender::Cash { tendered: eur(500) }], 1),
            Err(TenderError::Insufficient { .. })
        ));
        assert!(matches!(
            settle(eur(1000), &[Tender::Cash { tendered: Money::new(1000, Currency::USD) }], 1),
            Err(TenderError::CurrencyMismatch { .. })
        ));
        assert!(matches!(settle(eur(1000), &[card(1000), card(1)], 1), Err(TenderError::UnneededTender)));
        assert!(CardAuthorization::new("42424", "VISA", "A", "T").is_err());
        assert!(CardAuthorization::new("4242", "VISA", "A", "4111111111111111").is_err());
    }

    #[test]
    fn quick_cash_offers_exact_then_notes() {
        let eur = Currency::from_code("EUR").unwrap().denominations();
        assert_eq!(quick_cash_amounts(1235, eur, 5), vec![1235, 1500, 2000, 5000, 10000]);
        assert_eq!(quick_cash_amounts(2000, eur, 4), vec![2000, 5000, 10000, 20000]);
        assert_eq!(quick_cash_amounts(0, eur, 4), Vec::<i64>::new());
        assert_eq!(quick_cash_amounts(730, &[], 4), vec![730]);
    }
}
