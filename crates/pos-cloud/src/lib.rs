//! The cloud service: tenants, venues and devices on PostgreSQL with row-level security;
//! exactly-once ingestion of registers' outboxes; catalog, staff and settings for registers to
//! pull; owner sign-in; reports computed by the same aggregators as the register.

pub mod admin;
pub mod audit;
pub mod breach;
pub mod db;
pub mod devices;
pub mod error;
pub mod http;
pub mod manage;
pub mod owner;
pub mod pull;
pub mod push;
pub mod reports;
pub mod state;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod token;
