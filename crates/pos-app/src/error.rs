//! The façade's one error type: a closed set of codes that the app, the CLI and tests switch on,
//! and a message for people. This is the only place crate errors are converted.

use std::fmt;

use pos_core::business_day::BusinessDayError;
use pos_core::money::MoneyError;
use pos_core::order::OrderError;
use pos_core::refund::RefundError;
use pos_core::shift::ShiftError;
use pos_core::tax::TaxError;
use pos_core::tender::TenderError;
use pos_store::StoreError;
use serde::Serialize;

use crate::views::ApprovalRequestView;

/// What went wrong, as a machine-readable code. The set is closed: adding a code is an API change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request itself is wrong (quantity, amount, discount, CSV row, date…).
    InvalidInput,
    NotFound,
    /// The request conflicts with the register's state (a shift already open, an order already voided…).
    Conflict,
    NoOpenShift,
    InsufficientTender,
    RefundExceedsPaid,
    CurrencyMismatch,
    WrongPin,
    /// No such session: never signed in, signed out, or the staff member was deactivated.
    NotSignedIn,
    /// The session locked itself after idle time (or was locked); the same PIN unlocks it.
    SessionLocked,
    /// The signed-in staff member lacks the permission. Nothing changed; the refusal is audited.
    PermissionDenied,
    /// The override policy holds the action for a manager: `approval` says what to approve.
    ApprovalRequired,
    /// A back-office action: enter the PIN and a current authenticator code first.
    ElevationRequired,
    /// Too many wrong PINs: this staff member is locked until a manager unlocks them.
    AccountLocked,
    /// Too many wrong PINs on this register: only someone who may unlock staff can sign in.
    DeviceLocked,
    /// Too soon after a wrong PIN; the message says how long to wait.
    TooManyAttempts,
    WrongTotp,
    TotpNotEnrolled,
    /// The business day is closed: nothing more can be recorded on it until it is re-opened.
    DayClosed,
    /// `audit verify` found a fault; the message names the first bad sequence number.
    AuditChainBroken,
    /// The printer did not take the job (off, unplugged, out of paper…). The job stays queued.
    PrinterUnavailable,
    /// The terminal's answer was lost (timeout, broken connection) and it could not say what
    /// became of the payment: it stays pending, may have been charged, and is resolved when the
    /// terminal answers again. Never take the money another way meanwhile.
    TerminalUnavailable,
    /// The terminal declined, the customer cancelled, or the terminal could not be reached before
    /// anything was asked. Nothing was charged.
    PaymentNotApproved,
    /// The cloud service cannot be reached, or did not answer in time, or is overloaded: what
    /// waits to be sent stays in the outbox and goes later.
    CloudUnavailable,
    /// The cloud has revoked this register: nothing more is sent; it goes on selling.
    DeviceRevoked,
    /// The register is not enrolled with a cloud service.
    NotEnrolled,
    CredentialStoreUnavailable,
    KeyMissing,
    WrongKey,
    NotInitialised,
    AlreadyInitialised,
    DiskFull,
    ReadOnly,
    StoreDamaged,
    Internal,
}

impl ErrorCode {
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::NoOpenShift => "no_open_shift",
            ErrorCode::InsufficientTender => "insufficient_tender",
            ErrorCode::RefundExceedsPaid => "refund_exceeds_paid",
            ErrorCode::CurrencyMismatch => "currency_mismatch",
            ErrorCode::WrongPin => "wrong_pin",
            ErrorCode::NotSignedIn => "not_signed_in",
            ErrorCode::SessionLocked => "session_locked",
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::ApprovalRequired => "approval_required",
            ErrorCode::ElevationRequired => "elevation_required",
            ErrorCode::AccountLocked => "account_locked",
            ErrorCode::DeviceLocked => "device_locked",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::WrongTotp => "wrong_totp",
            ErrorCode::TotpNotEnrolled => "totp_not_enrolled",
            ErrorCode::DayClosed => "day_closed",
            ErrorCode::AuditChainBroken => "audit_chain_broken",
            ErrorCode::PrinterUnavailable => "printer_unavailable",
            ErrorCode::TerminalUnavailable => "terminal_unavailable",
            ErrorCode::PaymentNotApproved => "payment_not_approved",
            ErrorCode::CloudUnavailable => "cloud_unavailable",
            ErrorCode::DeviceRevoked => "device_revoked",
            ErrorCode::NotEnrolled => "not_enrolled",
            ErrorCode::CredentialStoreUnavailable => "credential_store_unavailable",
            ErrorCode::KeyMissing => "key_missing",
            ErrorCode::WrongKey => "wrong_key",
            ErrorCode::NotInitialised => "not_initialised",
            ErrorCode::AlreadyInitialised => "already_initialised",
            ErrorCode::DiskFull => "disk_full",
            ErrorCode::ReadOnly => "read_only",
            ErrorCode::StoreDamaged => "store_damaged",
            ErrorCode::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// With [`ErrorCode::ApprovalRequired`]: the request a manager can approve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<Box<ApprovalRequestView>>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError { code, message: message.into(), approval: None }
    }

    pub fn approval_required(request: ApprovalRequestView) -> AppError {
        let message =
            format!("{} of {} needs a manager's approval", request.action.replace('_', " "), request.amount_text);
        AppError { code: ErrorCode::ApprovalRequired, message, approval: Some(Box::new(request)) }
    }

    pub fn invalid(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::InvalidInput, message)
    }

    pub fn not_found(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::Conflict, message)
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

pub type AppResult<T> = Result<T, AppError>;

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        let code = match &e {
            StoreError::CredentialStoreUnavailable { .. } => ErrorCode::CredentialStoreUnavailable,
            StoreError::KeyMissing => ErrorCode::KeyMissing,
            StoreError::WrongKeyOrNotOurs { .. }
            | StoreError::PlainSqliteFile { .. }
            | StoreError::NotOurDatabase { .. } => ErrorCode::WrongKey,
            StoreError::BadRecoverySecret => ErrorCode::WrongKey,
            StoreError::NotInitialised { .. } => ErrorCode::NotInitialised,
            StoreError::AlreadyInitialised { .. } => ErrorCode::AlreadyInitialised,
            StoreError::DiskFull => ErrorCode::DiskFull,
            StoreError::ReadOnly => ErrorCode::ReadOnly,
            StoreError::SchemaTooNew { .. } | StoreError::BadMetadata { .. } => ErrorCode::StoreDamaged,
            StoreError::Integrity(_) => ErrorCode::Conflict,
            StoreError::Sql(rusqlite_err) => {
                let text = rusqlite_err.to_string();
                if text.contains("database disk image is malformed") {
                    ErrorCode::StoreDamaged
                } else {
                    ErrorCode::Internal
                }
            }
            StoreError::Io { .. } | StoreError::Random(_) => ErrorCode::Internal,
        };
        AppError::new(code, e.to_string())
    }
}

impl From<OrderError> for AppError {
    fn from(e: OrderError) -> AppError {
        match e {
            OrderError::NoSuchLine(_) => AppError::not_found(e.to_string()),
            OrderError::Empty => AppError::conflict(e.to_string()),
            OrderError::Tax(t) => t.into(),
            _ => AppError::invalid(e.to_string()),
        }
    }
}

impl From<TaxError> for AppError {
    fn from(e: TaxError) -> AppError {
        AppError::new(ErrorCode::Internal, format!("tax configuration: {e}"))
    }
}

impl From<TenderError> for AppError {
    fn from(e: TenderError) -> AppError {
        let code = match e {
            TenderError::CurrencyMismatch { .. } => ErrorCode::CurrencyMismatch,
            TenderError::Insufficient { .. } => ErrorCode::InsufficientTender,
            _ => ErrorCode::InvalidInput,
        };
        AppError::new(code, e.to_string())
    }
}

impl From<RefundError> for AppError {
    fn from(e: RefundError) -> AppError {
        let code = match e {
            RefundError::ExceedsPaid { .. } | RefundError::QuantityExceeds { .. } => ErrorCode::RefundExceedsPaid,
            RefundError::NothingToRefund => ErrorCode::Conflict,
            RefundError::NoSuchLine(_) => ErrorCode::NotFound,
            _ => ErrorCode::InvalidInput,
        };
        AppError::new(code, e.to_string())
    }
}

impl From<ShiftError> for AppError {
    fn from(e: ShiftError) -> AppError {
        AppError::invalid(e.to_string())
    }
}

impl From<MoneyError> for AppError {
    fn from(e: MoneyError) -> AppError {
        let code = match e {
            MoneyError::CurrencyMismatch { .. } => ErrorCode::CurrencyMismatch,
            _ => ErrorCode::InvalidInput,
        };
        AppError::new(code, e.to_string())
    }
}

impl From<BusinessDayError> for AppError {
    fn from(e: BusinessDayError) -> AppError {
        AppError::invalid(e.to_string())
    }
}
