//! PIN guessing: increasing delays after failures and a lock after a configurable count, kept
//! per staff member and per device.

use serde::{Deserialize, Serialize};

/// How many wrong PINs are free, how the delay grows after that, and when the lock falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutPolicy {
    /// Failures allowed before any delay.
    pub free_failures: u32,
    /// The first delay, doubled with each further failure.
    pub base_delay_secs: u32,
    pub max_delay_secs: u32,
    /// At this many consecutive failures the account (or device) locks until a manager unlocks it.
    pub lock_after: u32,
}

impl LockoutPolicy {
    pub const STAFF_DEFAULT: LockoutPolicy =
        LockoutPolicy { free_failures: 3, base_delay_secs: 5, max_delay_secs: 300, lock_after: 6 };
    pub const DEVICE_DEFAULT: LockoutPolicy =
        LockoutPolicy { free_failures: 5, base_delay_secs: 5, max_delay_secs: 300, lock_after: 15 };

    pub fn validate(&self) -> Result<(), String> {
        if self.lock_after == 0 || self.lock_after > 100 {
            return Err("the lock must fall after 1 to 100 failures".into());
        }
        if self.free_failures > self.lock_after {
            return Err("free failures cannot exceed the lock count".into());
        }
        if self.base_delay_secs > self.max_delay_secs || self.max_delay_secs > 3600 {
            return Err("delays must be at most an hour, the first no longer than the longest".into());
        }
        Ok(())
    }

    /// The wait imposed after `failures` consecutive failures.
    pub fn delay_secs(&self, failures: u32) -> u32 {
        if failures < self.free_failures.max(1) {
            return 0;
        }
        let doublings = (failures - self.free_failures.max(1)).min(20);
        self.base_delay_secs.saturating_mul(1 << doublings).min(self.max_delay_secs)
    }
}

/// The consecutive failures recorded for one staff member or for the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Attempts {
    pub failures: u32,
    /// When the last failure happened (µs since the epoch).
    pub last_failure_us: Option<i64>,
    pub locked: bool,
}

/// Whether a PIN may be tried now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinGate {
    Open,
    /// Too soon after the last failure.
    Wait {
        seconds: u32,
    },
    Locked,
}

impl Attempts {
    pub fn gate(&self, policy: &LockoutPolicy, now_us: i64) -> PinGate {
        if self.locked {
            return PinGate::Locked;
        }
        let delay = policy.delay_secs(self.failures);
        match self.last_failure_us {
            Some(last) if delay > 0 => {
                let until = last.saturating_add(i64::from(delay) * 1_000_000);
                if now_us < until {
                    // Round up so "wait 0 seconds" is never said.
                    let left = (until - now_us).div_euclid(1_000_000) + 1;
                    PinGate::Wait { seconds: u32::try_from(left).unwrap_or(u32::MAX).min(delay) }
                } else {
                    PinGate::Open
                }
            }
            _ => PinGate::Open,
        }
    }

    /// The state after one more wrong PIN.
    #[must_use]
    pub fn after_failure(&self, policy: &LockoutPolicy, now_us: i64) -> Attempts {
        let failures = self.failures.saturating_add(1);
        Attempts { failures, last_failure_us: Some(now_us), locked: self.locked || failures >= policy.lock_after }
    }

    /// The state after a correct PIN (or an unlock).
    pub fn cleared() -> Attempts {
        Attempts::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    #[test]
    fn delays_double_then_cap_and_the_lock_falls() {
        let p = LockoutPolicy { free_failures: 3, base_delay_secs: 5, max_delay_secs: 30, lock_after: 7 };
        let delays: Vec<u32> = (0..8).map(|n| p.delay_secs(n)).collect();
        assert_eq!(delays, [0, 0, 0, 5, 10, 20, 30, 30]);
        let mut a = Attempts::default();
        let mut now = 0;
        for i in 0..7 {
            assert_eq!(a.gate(&p, now), PinGate::Open, "attempt {i}");
            a = a.after_failure(&p, now);
            now += i64::from(p.delay_secs(a.failures)) * S;
        }
        assert!(a.locked);
        assert_eq!(a.gate(&p, now + 3600 * S), PinGate::Locked);
    }

    #[test]
    fn a_try_inside_the_delay_is_refused_with_the_time_left() {
        let p = LockoutPolicy::STAFF_DEFAULT;
        let a = Attempts { failures: 3, last_failure_us: Some(100 * S), locked: false };
        assert_eq!(a.gate(&p, 100 * S), PinGate::Wait { seconds: 5 });
        assert_eq!(a.gate(&p, 104 * S + S / 2), PinGate::Wait { seconds: 1 });
        assert_eq!(a.gate(&p, 105 * S), PinGate::Open);
    }
}
