//! Who may do what at the register: permission flags and role presets, PIN lockout, the manager
//! override policy and its single-use grants, and TOTP checks.
//!
//! Pure: no I/O and no clock. Time comes in as microseconds since the Unix epoch; the façade
//! (`pos-app`) stores what these functions decide.

pub mod lockout;
pub mod overrides;
pub mod permissions;
pub mod totp;

pub use lockout::{Attempts, LockoutPolicy, PinGate};
pub use overrides::{Decision, Grant, OverrideAction, OverrideKind, OverridePolicy, decide, may_approve};
pub use permissions::{Permission, Permissions, Role};
