//! The register's façade: the only way in for the desktop app, `posctl` and the tests.
//!
//! Each use case checks its input, computes with `pos-core`, and writes through `pos-store` in one
//! transaction that carries the domain rows and the outbox record together.

mod catalog_import;
mod clock;
mod counter;
pub mod demo;
mod error;
mod payments;
mod pin;
mod printing;
mod register;
mod security;
pub mod sync;
pub mod views;

pub use catalog_import::{CatalogRow, read_catalog_csv};
pub use clock::{Clock, ManualClock, SystemClock};
pub use counter::{CategoryView, PaymentPreview, PrinterQueueView, StatusView};
pub use error::{AppError, AppResult, ErrorCode};
pub use payments::{CardPaymentStart, CardPaymentView, TERMINAL_SETTING, ask_terminal};
pub use printing::{
    NewPrinter, PrintJobView, PrintTask, PrinterStatusView, PrinterView, RECEIPT_FOOTER_SETTING,
    RECEIPT_HEADER_SETTING, RenderFormat,
};
pub use register::{ItemRef, OrderRef, PaymentsScope, Register, StaffSetup, TaxClassSetup, VenueSetup, format_amount};
pub use security::{SecurityPolicy, Session, StaffAccess};
pub use sync::{
    CloudSync, Enrolment, PullSummary, QuarantineView, RegisterLock, SyncFailure, SyncStatus, SyncSummary, SyncWorker,
    WorkerConfig,
};

pub use pos_pdf;
pub use pos_print;
pub use pos_terminal;

pub use pos_audit;
pub use pos_auth;

pub use pos_core;
pub use pos_store::{OsCredentialStore, RecoverySecret, SecretStore};

#[cfg(feature = "test-support")]
pub use pos_store::{MemorySecretStore, Store};
