//! Exponential back-off with full jitter: after the n-th consecutive failure, wait a uniformly
//! random time between zero and `min(cap, base · 2^(n-1))`. Integers only (the workspace denies
//! float arithmetic); the random number comes from the caller, so this stays pure and testable.

use std::time::Duration;

/// The ceiling after the first failure.
pub const BACKOFF_BASE: Duration = Duration::from_secs(1);
/// The ceiling never grows past this.
pub const BACKOFF_CAP: Duration = Duration::from_secs(5 * 60);

/// How long to wait after `failures` consecutive failures (0 means none: no wait). `random` is any
/// uniformly random 64-bit number.
pub fn backoff_delay(failures: u32, random: u64) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    let base = BACKOFF_BASE.as_millis() as u64;
    let cap = BACKOFF_CAP.as_millis() as u64;
    // 2^19 s is far past the cap, so the shift never overflows and the ceiling is already capped.
    let ceiling = base.saturating_mul(1u64 << (failures - 1).min(19)).min(cap);
    Duration::from_millis(random % (ceiling + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_up_to_the_cap() {
        let max = |n| backoff_delay(n, u64::MAX - 1).max(backoff_delay(n, u64::MAX));
        assert_eq!(backoff_delay(0, 12345), Duration::ZERO);
        // The largest value below the ceiling + 1 is the ceiling itself.
        let ceiling = |n: u32| {
            let c = 1000u64 * (1 << (n - 1).min(19));
            Duration::from_millis(c.min(300_000))
        };
        for n in 1..40 {
            assert!(max(n) <= ceiling(n), "failure {n}");
            assert_eq!(backoff_delay(n, ceiling(n).as_millis() as u64), ceiling(n), "failure {n}");
            assert_eq!(backoff_delay(n, ceiling(n).as_millis() as u64 + 1), Duration::ZERO, "failure {n}");
        }
        assert_eq!(ceiling(1), Duration::from_secs(1));
        assert_eq!(ceiling(2), Duration::from_secs(2));
        assert_eq!(ceiling(9), Duration::from_secs(256));
        assert_eq!(ceiling(10), BACKOFF_CAP);
        assert!(backoff_delay(u32::MAX, u64::MAX) <= BACKOFF_CAP);
    }

    #[test]
    fn full_jitter_spreads_over_the_whole_range() {
        // A simple generator is enough to see both ends of the range used.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut low = false;
        let mut high = false;
        for _ in 0..1000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let d = backoff_delay(3, x);
            assert!(d <= Duration::from_secs(4));
            low |= d < Duration::from_millis(500);
            high |= d > Duration::from_millis(3500);
        }
        assert!(low && high);
    }
}
