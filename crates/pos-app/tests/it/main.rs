//! Integration tests of the register façade (`pos-app`), run as one test binary.
//!
//! Every test makes its own encrypted store in a temporary directory with an in-memory secret store
//! and a manual clock; nothing touches the OS credential store or the system clock.

mod support;

mod audit;
mod bad_input;
mod catalog_import;
mod outbox;
mod payments;
mod printing;
mod refunds;
mod reports_dst;
mod sales;
mod security;
mod shifts;
mod store_files;
mod sync;
