//! Integer rounding helpers. Every rounding in the product goes through here so the rule is one rule.

/// `num / den` rounded half away from zero (0.5 → 1, -0.5 → -1). `den` must be positive.
pub fn div_round_half_away(num: i128, den: i128) -> i128 {
    debug_assert!(den > 0);
    let q = num / den;
    let r = num % den;
    if 2 * r.abs() >= den { if num >= 0 { q + 1 } else { q - 1 } } else { q }
}

/// Rounds `minor` to the nearest multiple of `increment` (half away from zero).
pub fn round_to_increment(minor: i64, increment: i64) -> i64 {
    if increment <= 1 {
        return minor;
    }
    (div_round_half_away(minor as i128, increment as i128) * increment as i128) as i64
}

/// Splits `total` over `weights` in proportion, so the parts always add up to `total` exactly
/// (largest-remainder method; ties go to the earlier weight). Zero weights get zero unless all are zero,
/// in which case everything goes to the first part.
pub fn allocate(total: i64, weights: &[i64]) -> Vec<i64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let sum: i128 = weights.iter().map(|w| *w as i128).sum();
    if sum == 0 {
        let mut out = vec![0; weights.len()];
        out[0] = total;
        return out;
    }
    let mut parts: Vec<i64> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    let mut assigned: i128 = 0;
    for (i, w) in weights.iter().enumerate() {
        let exact = total as i128 * *w as i128;
        let floor = exact.div_euclid(sum);
        parts.push(floor as i64);
        assigned += floor;
        remainders.push((exact.rem_euclid(sum), i));
    }
    let mut left = total as i128 - assigned;
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders {
        if left <= 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn half_away_from_zero() {
        assert_eq!(div_round_half_away(5, 10), 1);
        assert_eq!(div_round_half_away(4, 10), 0);
        assert_eq!(div_round_half_away(-5, 10), -1);
        assert_eq!(div_round_half_away(-4, 10), 0);
        assert_eq!(round_to_increment(1002, 5), 1000);
        assert_eq!(round_to_increment(1003, 5), 1005);
        assert_eq!(round_to_increment(1025, 5), 1025);
    }

    #[test]
    fn allocation_examples() {
        assert_eq!(allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(allocate(-100, &[1, 1, 1]), vec![-33, -33, -34]);
        assert_eq!(allocate(10, &[0, 0]), vec![10, 0]);
    }

    proptest! {
        #[test]
        fn allocation_sums_to_total(total in -1_000_000i64..1_000_000, weights in prop::collection::vec(0i64..100_000, 1..20)) {
            let parts = allocate(total, &weights);
            prop_assert_eq!(parts.iter().sum::<i64>(), total);
            let sum: i64 = weights.iter().sum();
            if sum > 0 {
                for (p, w) in parts.iter().zip(&weights) {
                    // Each part is within one unit of its exact share.
                    let exact = total as i128 * *w as i128;
                    prop_assert!(((*p as i128) * sum as i128 - exact).abs() <= sum as i128);
                }
            }
        }
    }
}
