//! What went wrong talking to the cloud, classified by how the caller must react
//! (see `docs/sync-protocol.md`, "The register's side").

use std::fmt;

/// How the caller reacts to a [`SyncError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The network failed, the request timed out, or the service answered 5xx, 429, 408 or 409
    /// (or something that is not its API): back off and try again.
    Retryable,
    /// 401: the access token (or the signed challenge) was refused. Get a new token; if that is
    /// refused too, back off and try again later.
    Unauthorized,
    /// 403 `revoked`: the device was revoked. Stop; only a person can sort this out.
    Revoked,
    /// 403 otherwise: not allowed (for example an enrolment code that is not valid).
    Forbidden,
    /// 400, 413, 422 or another 4xx for the whole request: the request itself is wrong, which is a
    /// bug (or, for enrolment, bad input). Retrying the same request cannot help.
    Rejected,
    /// The client is set up wrongly: a URL that is not `https://` (or loopback `http://`), a CA
    /// file that does not read. Nothing was sent.
    Config,
}

/// An error of the sync client. The message names no secret: no token, no key, no signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncError {
    pub kind: ErrorKind,
    /// The HTTP status, when the service (or something in front of it) answered.
    pub status: Option<u16>,
    /// The service's error code (`unauthorized`, `revoked`, `invalid`, …), when it sent one.
    pub code: Option<String>,
    pub message: String,
}

impl SyncError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> SyncError {
        SyncError { kind, status: None, code: None, message: message.into() }
    }

    pub(crate) fn config(message: impl Into<String>) -> SyncError {
        SyncError::new(ErrorKind::Config, message)
    }

    /// Worth trying again after a pause (network trouble, an overloaded service, a refused token).
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::Retryable | ErrorKind::Unauthorized)
    }

    /// Classifies a service's answer: its status and, when the body is the API's error, its code.
    pub fn from_status(status: u16, code: Option<String>, message: String) -> SyncError {
        let kind = match status {
            401 => ErrorKind::Unauthorized,
            403 if code.as_deref() == Some("revoked") => ErrorKind::Revoked,
            403 => ErrorKind::Forbidden,
            // A device that is already enrolled stays so however often it asks.
            409 if code.as_deref() == Some("already_enrolled") => ErrorKind::Rejected,
            408 | 409 | 425 | 429 => ErrorKind::Retryable,
            500..=599 => ErrorKind::Retryable,
            _ => ErrorKind::Rejected,
        };
        SyncError { kind, status: Some(status), code, message }
    }
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.status, &self.code) {
            (Some(s), Some(c)) => write!(f, "{} (HTTP {s}, {c})", self.message),
            (Some(s), None) => write!(f, "{} (HTTP {s})", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for SyncError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(status: u16, code: &str) -> ErrorKind {
        SyncError::from_status(status, Some(code.into()), "x".into()).kind
    }

    #[test]
    fn statuses_are_classified_as_the_protocol_says() {
        assert_eq!(kind(401, "unauthorized"), ErrorKind::Unauthorized);
        assert_eq!(kind(403, "revoked"), ErrorKind::Revoked);
        assert_eq!(kind(403, "forbidden"), ErrorKind::Forbidden);
        assert_eq!(kind(409, "conflict"), ErrorKind::Retryable);
        assert_eq!(kind(409, "already_enrolled"), ErrorKind::Rejected);
        assert_eq!(kind(429, "rate_limited"), ErrorKind::Retryable);
        for s in [500, 502, 503, 504] {
            assert_eq!(kind(s, "unavailable"), ErrorKind::Retryable);
        }
        for s in [400, 404, 413, 422] {
            assert_eq!(kind(s, "invalid"), ErrorKind::Rejected);
        }
        assert!(SyncError::from_status(503, None, "x".into()).is_retryable());
        assert!(!SyncError::from_status(422, None, "x".into()).is_retryable());
        assert!(!SyncError::from_status(403, Some("revoked".into()), "x".into()).is_retryable());
    }
}
