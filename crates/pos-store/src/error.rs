//! The store's errors. Messages say what happened and what to do; they never contain key material.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no OS credential store is reachable ({detail}). {fix}")]
    CredentialStoreUnavailable { detail: String, fix: &'static str },
    #[error(
        "the credential store has no key for this register's database; if the key was lost, restore it with `posctl recover` and the recovery secret shown at initialisation"
    )]
    KeyMissing,
    #[error(
        "the key in the credential store does not open {path}: the key is wrong or the file is not a register database"
    )]
    WrongKeyOrNotOurs { path: PathBuf },
    #[error("{path} is an unencrypted SQLite file, not a register database")]
    PlainSqliteFile { path: PathBuf },
    #[error("{path} is not a register database")]
    NotOurDatabase { path: PathBuf },
    #[error("no register store in {dir}: run `posctl --data-dir {dir} init` first", dir = dir.display())]
    NotInitialised { dir: PathBuf },
    #[error("{dir} already holds a register store", dir = dir.display())]
    AlreadyInitialised { dir: PathBuf },
    #[error("the database schema is version {found}, newer than this program understands ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("that recovery secret does not unlock this store")]
    BadRecoverySecret,
    #[error("the disk is full: nothing was saved, and earlier records are intact")]
    DiskFull,
    #[error("the data directory is read-only: nothing was saved")]
    ReadOnly,
    #[error("store file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("store metadata {path} is damaged: {detail}")]
    BadMetadata { path: PathBuf, detail: String },
    #[error("random number generator failed: {0}")]
    Random(String),
    #[error("{0}")]
    Integrity(String),
    #[error("database error: {0}")]
    Sql(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        use rusqlite::ffi::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::ReadOnly) | Some(ErrorCode::CannotOpen) => StoreError::ReadOnly,
            _ => {
                // SQLite reports a write past the file-size limit as a generic I/O error.
                if let rusqlite::Error::SqliteFailure(f, _) = &e
                    && f.code == ErrorCode::SystemIoFailure
                    && (f.extended_code & 0xff) == 10
                    && is_full_disk_errno()
                {
                    return StoreError::DiskFull;
                }
                StoreError::Sql(e)
            }
        }
    }
}

fn is_full_disk_errno() -> bool {
    matches!(std::io::Error::last_os_error().raw_os_error(), Some(28) | Some(27))
}
