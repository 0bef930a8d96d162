//! Money and quantities as integers: minor units with a currency, and quantities in thousandths.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::rounding::div_round_half_away;

/// An ISO 4217 currency: its three-letter code and how many minor-unit digits it has.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

impl Currency {
    pub const EUR: Currency = Currency { code: *b"EUR", exponent: 2 };
    pub const USD: Currency = Currency { code: *b"USD", exponent: 2 };
    pub const CHF: Currency = Currency { code: *b"CHF", exponent: 2 };
    pub const GBP: Currency = Currency { code: *b"GBP", exponent: 2 };
    pub const AUD: Currency = Currency { code: *b"AUD", exponent: 2 };
    pub const JPY: Currency = Currency { code: *b"JPY", exponent: 0 };

    /// Looks up a currency by its ISO code. Only currencies whose minor unit we know are accepted,
    /// so an amount can never be scaled with a guessed exponent.
    pub fn from_code(code: &str) -> Result<Currency, MoneyError> {
        let exponent = match code {
            "EUR" | "USD" | "CHF" | "GBP" | "AUD" | "NZD" | "CAD" | "SEK" | "NOK" | "DKK" | "PLN" | "CZK" | "TRY"
            | "HUF" | "RON" | "BGN" | "ZAR" | "MXN" | "BRL" => 2,
            "JPY" | "KRW" | "ISK" | "CLP" => 0,
            "KWD" | "BHD" | "OMR" | "TND" => 3,
            _ => return Err(MoneyError::UnknownCurrency(code.to_owned())),
        };
        let b = code.as_bytes();
        Ok(Currency { code: [b[0], b[1], b[2]], exponent })
    }

    pub fn code(&self) -> &str {
        // The constructor only accepts ASCII codes.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// Cash denominations (notes and coins) in minor units, largest first; used for blind counts.
    pub fn denominations(&self) -> &'static [i64] {
        match self.code() {
            "EUR" => &[50000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1],
            "USD" => &[10000, 5000, 2000, 1000, 500, 200, 100, 25, 10, 5, 1],
            "GBP" => &[5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1],
            "CHF" => &[100000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5],
            "AUD" | "NZD" => &[10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5],
            "JPY" => &[10000, 5000, 2000, 1000, 500, 100, 50, 10, 5, 1],
            _ => &[],
        }
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency code {0:?}")]
    UnknownCurrency(String),
    #[error("currency mismatch: {left} and {right} cannot be combined")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("amount out of range")]
    Overflow,
    #[error("{0:?} is not an amount (expected e.g. 12.50)")]
    BadAmount(String),
}

/// An amount of money: integer minor units (cents) and a currency. Never a float.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub const fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    pub const fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    pub const fn minor(&self) -> i64 {
        self.minor
    }

    pub const fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }

    pub fn is_negative(&self) -> bool {
        self.minor < 0
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch { left: self.currency, right: other.currency })
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let minor = self.minor.checked_add(other.minor).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, currency: self.currency })
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let minor = self.minor.checked_sub(other.minor).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, currency: self.currency })
    }

    /// Parses a decimal amount such as `12.5`, `12.50` or `-3` in this currency's minor units.
    /// More decimals than the currency has are refused rather than rounded.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        parse_fixed(text, currency.exponent as u32)
            .map(|minor| Money::new(minor, currency))
            .ok_or_else(|| MoneyError::BadAmount(text.to_owned()))
    }
}

/// Parses a decimal with at most `decimals` fractional digits into an integer scaled by 10^decimals.
pub(crate) fn parse_fixed(text: &str, decimals: u32) -> Option<i64> {
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (int_part, frac_part) = match t.split_once('.') {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
        || frac_part.len() > decimals as usize
    {
        return None;
    }
    let scale = 10i64.checked_pow(decimals)?;
    let int: i64 = if int_part.is_empty() { 0 } else { int_part.parse().ok()? };
    let mut frac: i64 = if frac_part.is_empty() { 0 } else { frac_part.parse().ok()? };
    for _ in frac_part.len()..decimals as usize {
        frac *= 10;
    }
    let v = int.checked_mul(scale)?.checked_add(frac)?;
    Some(if neg { -v } else { v })
}

fn write_fixed(f: &mut fmt::Formatter<'_>, value: i64, decimals: u32) -> fmt::Result {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    if decimals == 0 {
        return write!(f, "{sign}{abs}");
    }
    let scale = 10u64.pow(decimals);
    write!(f, "{sign}{}.{:0width$}", abs / scale, abs % scale, width = decimals as usize)
}

/// The amount as a plain decimal string without currency, e.g. `12.50`.
pub fn format_minor(minor: i64, currency: Currency) -> String {
    struct D(i64, u32);
    impl fmt::Display for D {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_fixed(f, self.0, self.1)
        }
    }
    D(minor, currency.exponent as u32).to_string()
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_fixed(f, self.minor, self.currency.exponent as u32)?;
        write!(f, " {}", self.currency)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A quantity in thousandths, so weighed goods (0.250 kg) need no float. `Quantity::units(2)` is 2.000.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Quantity(i64);

impl Quantity {
    pub const ONE: Quantity = Quantity(1000);

    pub const fn from_milli(milli: i64) -> Quantity {
        Quantity(milli)
    }

    pub const fn units(n: i64) -> Quantity {
        Quantity(n * 1000)
    }

    pub const fn milli(&self) -> i64 {
        self.0
    }

    pub fn is_positive(&self) -> bool {
        self.0 > 0
    }

    /// Parses `2`, `0.25` or `1.125`.
    pub fn parse(text: &str) -> Option<Quantity> {
        parse_fixed(text, 3).map(Quantity)
    }

    /// `unit_price × quantity`, rounded half away from zero to the minor unit.
    pub fn extend(&self, unit_price_minor: i64) -> i64 {
        div_round_half_away(unit_price_minor as i128 * self.0 as i128, 1000) as i64
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 % 1000 == 0 { write!(f, "{}", self.0 / 1000) } else { write_fixed(f, self.0, 3) }
    }
}

impl fmt::Debug for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format_round_trip() {
        let cases =
            [("12.5", 1250, "12.50 EUR"), ("0.05", 5, "0.05 EUR"), ("-3", -300, "-3.00 EUR"), (".5", 50, "0.50 EUR")];
        for (text, minor, shown) in cases {
            let m = Money::parse(text, Currency::EUR).unwrap();
            assert_eq!(m.minor(), minor, "{text}");
            assert_eq!(m.to_string(), shown);
        }
        assert!(Money::parse("1.234", Currency::EUR).is_err());
        assert!(Money::parse("1,20", Currency::EUR).is_err());
        assert!(Money::parse("", Currency::EUR).is_err());
        assert_eq!(Money::parse("120", Currency::JPY).unwrap().to_string(), "120 JPY");
    }

    #[test]
    fn currencies_do_not_mix() {
        let e = Money::new(100, Currency::EUR);
        let u = Money::new(100, Currency::USD);
        assert!(matches!(e.checked_add(u), Err(MoneyError::CurrencyMismatch { .. })));
    }

    #[test]
    fn quantities() {
        assert_eq!(Quantity::parse("0.25").unwrap().milli(), 250);
        assert_eq!(Quantity::units(3).to_string(), "3");
        assert_eq!(Quantity::from_milli(1250).to_string(), "1.250");
        // 0.333 kg at 12.99 = 4.32567 → 4.33
        assert_eq!(Quantity::from_milli(333).extend(1299), 433);
    }
}
