//! Tax classes and rates, tax-inclusive and tax-exclusive prices, and the venue's rounding rule.
//!
//! The rule, also written down in `docs/tax.md`:
//! - A rate is stored in millionths (`190_000` = 19 %), so rates like 8.875 % are exact.
//! - Exclusive prices: tax = amount × rate. Inclusive prices: tax = amount × rate / (1 + Σ rates of the class).
//! - Every rounding is half away from zero to the minor unit.
//! - `PerLine`: each line's tax is rounded, then summed per rate.
//!   `PerInvoice`: amounts are summed per tax class first and rounded once per class and rate;
//!   the rounded tax is then spread back over the lines (largest remainder) so refunds can reverse it exactly.

use serde::Serialize;

use crate::rounding::{allocate, div_round_half_away};

pub const RATE_SCALE: i64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TaxRateId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TaxClassId(pub i64);

/// One tax rate, e.g. "A", "VAT 19 %", 190_000.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxRate {
    pub id: TaxRateId,
    pub code: String,
    pub name: String,
    pub rate_ppm: i64,
}

/// A tax class applies one or more rates to a product (e.g. a federal and a provincial component).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxClass {
    pub id: TaxClassId,
    pub name: String,
    pub rates: Vec<TaxRate>,
}

impl TaxClass {
    fn total_ppm(&self) -> i64 {
        self.rates.iter().map(|r| r.rate_ppm).sum()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceMode {
    /// Shelf prices include tax (usual in Europe and Australia).
    TaxInclusive,
    /// Tax is added on top of shelf prices (usual in North America).
    TaxExclusive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxRounding {
    PerLine,
    PerInvoice,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaxError {
    #[error("unknown tax class {0}")]
    UnknownClass(i64),
    #[error("tax class {0:?} has no rate")]
    ClassWithoutRate(String),
    #[error("tax rate {code:?} is out of range: {rate_ppm} millionths")]
    RateOutOfRange { code: String, rate_ppm: i64 },
}

/// The venue's tax classes.
#[derive(Debug, Clone, Default)]
pub struct TaxTable {
    classes: Vec<TaxClass>,
}

impl TaxTable {
    pub fn new(classes: Vec<TaxClass>) -> Result<TaxTable, TaxError> {
        for c in &classes {
            if c.rates.is_empty() {
                return Err(TaxError::ClassWithoutRate(c.name.clone()));
            }
            for r in &c.rates {
                if !(0..=RATE_SCALE).contains(&r.rate_ppm) {
                    return Err(TaxError::RateOutOfRange { code: r.code.clone(), rate_ppm: r.rate_ppm });
                }
            }
        }
        Ok(TaxTable { classes })
    }

    pub fn class(&self, id: TaxClassId) -> Result<&TaxClass, TaxError> {
        self.classes.iter().find(|c| c.id == id).ok_or(TaxError::UnknownClass(id.0))
    }

    pub fn classes(&self) -> &[TaxClass] {
        &self.classes
    }
}

/// A line to tax: its amount after discounts, in the venue's price basis.
#[derive(Debug, Clone, Copy)]
pub struct Taxable {
    pub amount: i64,
    pub class: TaxClassId,
}

/// Tax owed for one rate: the base (amount without tax) and the tax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RateTax {
    pub rate_id: TaxRateId,
    pub code: String,
    pub rate_ppm: i64,
    pub base: i64,
    pub tax: i64,
}

/// The result of taxing an order: per line and per rate; both add up to the same total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxComputation {
    /// Per input line: the tax of each of its class's rates.
    pub lines: Vec<Vec<(TaxRateId, i64)>>,
    /// Per rate, in the order rates first appear.
    pub by_rate: Vec<RateTax>,
}

impl TaxComputation {
    pub fn total(&self) -> i64 {
        self.by_rate.iter().map(|r| r.tax).sum()
    }

    pub fn line_total(&self, i: usize) -> i64 {
        self.lines[i].iter().map(|(_, t)| t).sum()
    }
}

/// Tax of `amount` at one of the class's rates, unrounded, as (numerator, denominator).
fn tax_fraction(amount: i64, rate_ppm: i64, class_ppm: i64, mode: PriceMode) -> (i128, i128) {
    match mode {
        PriceMode::TaxExclusive => (amount as i128 * rate_ppm as i128, RATE_SCALE as i128),
        PriceMode::TaxInclusive => (amount as i128 * rate_ppm as i128, (RATE_SCALE + class_ppm) as i128),
    }
}

/// Rounded tax per rate of the class for `amount`.
fn class_taxes(class: &TaxClass, amount: i64, mode: PriceMode) -> Vec<(TaxRateId, i64)> {
    let class_ppm = class.total_ppm();
    class
        .rates
        .iter()
        .map(|r| {
            let (n, d) = tax_fraction(amount, r.rate_ppm, class_ppm, mode);
            (r.id, div_round_half_away(n, d) as i64)
        })
        .collect()
}

pub fn compute(
    lines: &[Taxable],
    table: &TaxTable,
    mode: PriceMode,
    rounding: TaxRounding,
) -> Result<TaxComputation, TaxError> {
    let mut per_line: Vec<Vec<(TaxRateId, i64)>> = vec![Vec::new(); lines.len()];
    match rounding {
        TaxRounding::PerLine => {
            for (i, l) in lines.iter().enumerate() {
                per_line[i] = class_taxes(table.class(l.class)?, l.amount, mode);
            }
        }
        TaxRounding::PerInvoice => {
            // Group by class in order of first appearance.
            let mut groups: Vec<(TaxClassId, Vec<usize>)> = Vec::new();
            for (i, l) in lines.iter().enumerate() {
                match groups.iter_mut().find(|(c, _)| *c == l.class) {
                    Some((_, idx)) => idx.push(i),
                    None => groups.push((l.class, vec![i])),
                }
            }
            for (class_id, idx) in groups {
                let class = table.class(class_id)?;
                let amounts: Vec<i64> = idx.iter().map(|&i| lines[i].amount).collect();
                let sum: i64 = amounts.iter().sum();
                for (rate_id, tax) in class_taxes(class, sum, mode) {
                    let weights: Vec<i64> = amounts.iter().map(|a| a.abs()).collect();
                    for (k, part) in allocate(tax, &weights).into_iter().enumerate() {
                        per_line[idx[k]].push((rate_id, part));
                    }
                }
            }
        }
    }
    let mut by_rate: Vec<RateTax> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let class = table.class(l.class)?;
        let line_tax: i64 = per_line[i].iter().map(|(_, t)| t).sum();
        let base = match mode {
            PriceMode::TaxExclusive => l.amount,
            PriceMode::TaxInclusive => l.amount - line_tax,
        };
        for (rate_id, tax) in &per_line[i] {
            let rate = class.rates.iter().find(|r| r.id == *rate_id).expect("rate of its own class");
            match by_rate.iter_mut().find(|r| r.rate_id == *rate_id) {
                Some(r) => {
                    r.base += base;
                    r.tax += tax;
                }
                None => by_rate.push(RateTax {
                    rate_id: *rate_id,
                    code: rate.code.clone(),
                    rate_ppm: rate.rate_ppm,
                    base,
                    tax: *tax,
                }),
            }
        }
    }
    Ok(TaxComputation { lines: per_line, by_rate })
}

/// Formats a rate in millionths as a percentage, e.g. `190000` → `19%`, `88750` → `8.875%`.
pub fn format_rate(rate_ppm: i64) -> String {
    let whole = rate_ppm / 10_000;
    let frac = rate_ppm % 10_000;
    if frac == 0 {
        format!("{whole}%")
    } else {
        let s = format!("{frac:04}");
        format!("{whole}.{}%", s.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> TaxTable {
        let rate =
            |id, code: &str, ppm| TaxRate { id: TaxRateId(id), code: code.into(), name: code.into(), rate_ppm: ppm };
        TaxTable::new(vec![
            TaxClass { id: TaxClassId(1), name: "standard".into(), rates: vec![rate(1, "A", 190_000)] },
            TaxClass { id: TaxClassId(2), name: "reduced".into(), rates: vec![rate(2, "B", 70_000)] },
            TaxClass {
                id: TaxClassId(3),
                name: "hst".into(),
                rates: vec![rate(3, "GST", 50_000), rate(4, "PST", 70_000)],
            },
        ])
        .unwrap()
    }

    #[test]
    fn inclusive_per_line_vs_per_invoice() {
        // Three lines of 0.99 at 19 % inclusive: per line 0.16 each = 0.48; per invoice round(2.97×0.19/1.19) = 0.47.
        let lines = [Taxable { amount: 99, class: TaxClassId(1) }; 3];
        let per_line = compute(&lines, &table(), PriceMode::TaxInclusive, TaxRounding::PerLine).unwrap();
        assert_eq!(per_line.total(), 48);
        let per_invoice = compute(&lines, &table(), PriceMode::TaxInclusive, TaxRounding::PerInvoice).unwrap();
        assert_eq!(per_invoice.total(), 47);
        assert_eq!(per_invoice.by_rate[0].base, 297 - 47);
        let line_sum: i64 = (0..3).map(|i| per_invoice.line_total(i)).sum();
        assert_eq!(line_sum, 47);
    }

    #[test]
    fn exclusive_two_component_class() {
        let lines = [Taxable { amount: 1000, class: TaxClassId(3) }];
        let t = compute(&lines, &table(), PriceMode::TaxExclusive, TaxRounding::PerLine).unwrap();
        assert_eq!(
            t.by_rate.iter().map(|r| (r.code.as_str(), r.tax)).collect::<Vec<_>>(),
            vec![("GST", 50), ("PST", 70)]
        );
    }

    #[test]
    fn rates_format() {
        assert_eq!(format_rate(190_000), "19%");
        assert_eq!(format_rate(88_750), "8.875%");
        assert_eq!(format_rate(0), "0%");
    }
}
