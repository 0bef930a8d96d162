//! The register's encrypted local store: SQLCipher with a raw 256-bit key from the OS credential
//! store, numbered migrations, and the repositories that read and write it.
//!
//! This is the only crate that speaks SQL. Write functions take a `&Transaction` that the caller
//! (`pos-app`) opened with [`Store::write`]; read functions take a `&Connection`.

pub mod catalog;
pub mod codec;
mod db;
mod error;
pub mod keys;
pub mod orders;
pub mod outbox;
pub mod printing;
pub mod reports;
pub mod security;
pub mod shifts;
pub mod sync;
mod walbuf;

pub use db::{APPLICATION_ID, DB_FILE, META_FILE, Store, StoreMeta, schema_version_supported};
pub use error::StoreError;
pub use keys::{OsCredentialStore, RecoverySecret, SecretStore};
pub use rusqlite::{Connection, Transaction};

#[cfg(feature = "test-support")]
pub use keys::MemorySecretStore;
