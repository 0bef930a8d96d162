//! Integration tests for `pos-core`: one test binary, one module per area.
//!
//! The oracles in these tests are written independently of the crate's own arithmetic (see
//! `support::oracle`), so a change in the crate's rounding or tax rules shows up as a failure.

mod business_day;
mod money;
mod order;
mod refund;
mod report;
mod support;
mod tax;
mod tender;
