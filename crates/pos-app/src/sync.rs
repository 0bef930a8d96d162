//! Cloud sync, the register's side: enrolment with a one-time code, pushing the outbox and the
//! audit chain exactly once, pulling catalog, staff and settings, and a background worker.
//!
//! The network is never waited on while the register is held: [`CloudSync`] takes the register
//! (through [`RegisterLock`]) only for each local step — read a batch, record what the cloud
//! acknowledged, apply a pull — each one transaction. A record is marked acknowledged only when
//! the cloud's answer for it says `stored` or `duplicate`; a crash between the cloud's commit and
//! ours leads to a re-push that the cloud answers `duplicate` (see `docs/sync-protocol.md`).

use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;
use pos_audit::Event;
use pos_auth::lockout::LockoutPolicy;
use pos_auth::overrides::OverridePolicy;
use pos_auth::permissions::{Permission, Permissions, Role};
use pos_core::tax::TaxTable;
use pos_store::SecretStore;
use pos_store::catalog::RateSpec;
use pos_store::sync::{CloudStaff, SyncState};
use pos_sync::api::{self, PullResponse, PushAuditEntry, PushRecord, PushRequest, PushResponse, RecordStatus};
use pos_sync::{CloudClient, DeviceClient, DeviceKey, ErrorKind, SyncError};
use serde::{Deserialize, Serialize};

use crate::catalog_import::{self, CatalogRow};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::register::Register;
use crate::security::{POLICY_SETTING, SecurityPolicy, Session};
use crate::views::OutboxStatus;

/// At most this many outbox records go in one push (the service's limit).
pub const PUSH_RECORDS: usize = api::MAX_PUSH_RECORDS;
/// At most this many audit entries go in one push (the service's limit).
pub const PUSH_AUDIT: usize = api::MAX_PUSH_AUDIT;
/// Payload bytes per push for records and for audit entries each, well under the service's 8 MiB
/// body limit even after JSON escaping.
const PUSH_BYTES: usize = 5 * 1024 * 1024 / 2;
/// How many quarantined records a status lists (the count is always complete).
const QUARANTINE_SHOWN: i64 = 50;

/// How the sync code reaches the register: briefly, once per local step, so no sale waits for the
/// network. The app implements it for whatever holds its register (a mutex); `&mut Register`
/// callers use [`CloudSync::sync_once`] and [`CloudSync::enroll`], which need none.
///
/// Never call [`SyncWorker::with_agent`] (or anything that waits for a sync round) while holding
/// the register: the round may be waiting for it.
pub trait RegisterLock {
    fn with_register<T>(&self, f: impl FnOnce(&mut Register) -> T) -> T;
}

impl RegisterLock for Mutex<Register> {
    fn with_register<T>(&self, f: impl FnOnce(&mut Register) -> T) -> T {
        // Every write is one transaction, so a panic elsewhere leaves nothing half-written.
        f(&mut self.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A register the caller holds for the whole call (posctl, tests).
struct Exclusive<'a>(RefCell<&'a mut Register>);

impl RegisterLock for Exclusive<'_> {
    fn with_register<T>(&self, f: impl FnOnce(&mut Register) -> T) -> T {
        f(&mut self.0.borrow_mut())
    }
}

/// What enrolment needs from the person enrolling.
#[derive(Debug, Clone, Copy)]
pub struct Enrolment<'a> {
    /// The service's address: `https://…` (plain `http://` only on loopback).
    pub cloud_url: &'a str,
    /// The one-time code from the cloud's owner console.
    pub code: &'a str,
    /// An extra trusted CA certificate (PEM) for a self-hosted service.
    pub ca_file: Option<&'a Path>,
}

/// Why a sync round did not finish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncFailure {
    /// The façade's error code: `not_enrolled`, `device_revoked`, `cloud_unavailable`,
    /// `invalid_input` (configuration), `key_missing`, `internal` (the cloud refused a request
    /// as malformed: a bug).
    pub code: ErrorCode,
    /// `not_enrolled`, `revoked`, `unreachable` (network, timeouts, 5xx, 429, 409),
    /// `unauthorized` (a token or signature refused), `rejected` (400/413/422: a bug; retried
    /// only after the longest back-off), `configuration` (URL, CA file, device key).
    pub kind: &'static str,
    pub message: String,
    /// The worker tries again after the back-off.
    pub retryable: bool,
}

impl SyncFailure {
    fn not_enrolled() -> SyncFailure {
        SyncFailure {
            code: ErrorCode::NotEnrolled,
            kind: "not_enrolled",
            message: "this register is not enrolled with a cloud service (posctl sync enroll)".into(),
            retryable: false,
        }
    }

    fn revoked(detail: Option<&str>) -> SyncFailure {
        SyncFailure {
            code: ErrorCode::DeviceRevoked,
            kind: "revoked",
            message: format!(
                "the cloud has revoked this register: nothing more is sent; sales go on and stay in the outbox{}",
                detail.map(|d| format!(" ({d})")).unwrap_or_default()
            ),
            retryable: false,
        }
    }

    fn from_sync(e: &SyncError) -> SyncFailure {
        let (code, kind) = match e.kind {
            ErrorKind::Retryable => (ErrorCode::CloudUnavailable, "unreachable"),
            ErrorKind::Unauthorized => (ErrorCode::CloudUnavailable, "unauthorized"),
            ErrorKind::Revoked => return SyncFailure::revoked(Some(&e.to_string())),
            ErrorKind::Forbidden | ErrorKind::Rejected => (ErrorCode::Internal, "rejected"),
            ErrorKind::Config if e.code.as_deref() == Some("key_missing") => (ErrorCode::KeyMissing, "configuration"),
            ErrorKind::Config => (ErrorCode::InvalidInput, "configuration"),
        };
        SyncFailure { code, kind, message: e.to_string(), retryable: e.is_retryable() }
    }

    /// The failure as the façade's error (for posctl's exit status).
    pub fn to_app_error(&self) -> AppError {
        AppError::new(self.code, self.message.clone())
    }
}

/// What one pull brought and what of it was applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PullSummary {
    /// Tax classes created or changed, by name.
    pub taxes: Vec<String>,
    /// SKUs created or updated.
    pub catalog: usize,
    /// SKUs the cloud switched off.
    pub deactivated: usize,
    /// Staff members created or updated.
    pub staff: usize,
    /// Settings applied, by name.
    pub settings: Vec<String>,
    /// Items not applied, each with why (an unknown tax class, an invalid setting…). They come
    /// again when they change in the cloud.
    pub skipped: Vec<String>,
}

/// The outcome of [`CloudSync::sync_once`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncSummary {
    pub enrolled: bool,
    /// The round reached the cloud and finished.
    pub online: bool,
    /// Push requests the cloud answered.
    pub pushes: u32,
    /// Outbox records sent (a record sent again after a lost answer counts again).
    pub records_pushed: usize,
    pub stored: usize,
    pub duplicates: usize,
    /// Records marked acknowledged here.
    pub acknowledged: usize,
    /// Records the cloud rejected, now quarantined.
    pub quarantined: usize,
    pub audit_pushed: usize,
    /// The highest audit entry the cloud holds.
    pub audit_held_through: u64,
    /// The cloud's word on audit entries that did not continue its copy of the chain.
    pub audit_fault: Option<String>,
    pub pulled: PullSummary,
    /// The pull cursor after this round.
    pub cursor: i64,
    /// Unacknowledged records left (quarantined ones included).
    pub outbox_depth: i64,
    /// When the worker tries again after a failure (venue-local time).
    pub next_attempt_at: Option<String>,
    pub error: Option<SyncFailure>,
}

/// A quarantined outbox record, as a manager sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantineView {
    pub seq: i64,
    pub op_id: String,
    pub kind: String,
    pub code: String,
    pub message: String,
    pub at: String,
}

/// The register's sync status, for the status bar, `posctl sync status` and a manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    pub enrolled: bool,
    /// The last round reached the cloud and finished, and the device is not revoked.
    pub online: bool,
    pub revoked: bool,
    pub cloud_url: Option<String>,
    pub ca_file: Option<String>,
    pub device_id: String,
    pub tenant_id: Option<String>,
    pub venue_id: Option<String>,
    pub venue_name: Option<String>,
    pub enrolled_at: Option<String>,
    pub outbox: OutboxStatus,
    /// Records the cloud rejected, kept here and left out of pushes.
    pub quarantined: i64,
    /// The first of them (at most 50).
    pub quarantine: Vec<QuarantineView>,
    pub audit_head: u64,
    pub audit_held_through: u64,
    pub audit_fault: Option<String>,
    pub pull_cursor: i64,
    pub last_push_at: Option<String>,
    pub last_pull_at: Option<String>,
    pub last_success_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    pub next_attempt_at: Option<String>,
}

/// One push, as read from the store: the request and what each record was.
#[derive(Debug, Clone)]
struct PushBatch {
    request: PushRequest,
}

/// What recording a push's answer did.
#[derive(Debug, Clone, Copy, Default)]
struct PushOutcome {
    stored: usize,
    duplicates: usize,
    acknowledged: usize,
    quarantined: usize,
}

/// Why a round stopped: the cloud's answer (recorded and backed off) or a local failure (returned).
enum Stop {
    Cloud(SyncError),
    Local(AppError),
}

impl From<SyncError> for Stop {
    fn from(e: SyncError) -> Stop {
        Stop::Cloud(e)
    }
}

impl From<AppError> for Stop {
    fn from(e: AppError) -> Stop {
        Stop::Local(e)
    }
}

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

fn from_micros(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // Without randomness the back-off is simply its ceiling.
    if getrandom::fill(&mut b).is_err() {
        return u64::MAX;
    }
    u64::from_le_bytes(b)
}

/// The sync client of one register: the connection to the cloud and the device key, held in
/// memory between rounds. Make one per process; the device key is read from the credential store
/// when first needed.
pub struct CloudSync {
    secrets: Arc<dyn SecretStore>,
    device: Option<(String, DeviceClient)>,
}

impl std::fmt::Debug for CloudSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudSync").field("connected", &self.device.is_some()).finish_non_exhaustive()
    }
}

impl CloudSync {
    /// `secrets` is where the device key is kept: the OS credential store, as for the store's keys.
    pub fn new(secrets: Arc<dyn SecretStore>) -> CloudSync {
        CloudSync { secrets, device: None }
    }

    /// Enrols this register with the cloud: owner only, with back-office access (PIN and
    /// authenticator code). A new device key goes to the credential store; the enrolment is
    /// audited (`cloud_enrolled`).
    pub fn enroll(&mut self, reg: &mut Register, session: &Session, enrolment: &Enrolment) -> AppResult<SyncStatus> {
        self.enroll_shared(&Exclusive(RefCell::new(reg)), session, enrolment)
    }

    /// [`CloudSync::enroll`] without holding the register while the cloud is asked.
    pub fn enroll_shared(
        &mut self,
        lock: &impl RegisterLock,
        session: &Session,
        enrolment: &Enrolment,
    ) -> AppResult<SyncStatus> {
        let ca_file = match enrolment.ca_file {
            Some(p) => Some(
                std::fs::canonicalize(p)
                    .map_err(|e| AppError::invalid(format!("the CA certificate file {}: {e}", p.display())))?,
            ),
            None => None,
        };
        let client = CloudClient::new(enrolment.cloud_url, ca_file.as_deref()).map_err(enrol_error)?;
        let code = enrolment.code.trim();
        if code.is_empty() {
            return Err(AppError::invalid("the enrolment code is empty"));
        }
        let who = lock.with_register(|r| r.prepare_enrolment(session))?;
        let key = DeviceKey::generate().map_err(enrol_error)?;
        // The key is kept before the cloud learns its public half, so a lost answer never leaves
        // an enrolled device without its key.
        pos_store::sync::save_device_key(self.secrets.as_ref(), &who.store_id, &key.seed())?;
        let request = api::EnrollRequest {
            code: code.to_owned(),
            device_id: who.device_id.clone(),
            device_name: who.device_name.clone(),
            device_public_key: key.public_key_hex(),
            audit_public_key: who.audit_public_key.clone(),
        };
        let response = match client.enroll(&request) {
            Ok(r) => r,
            Err(e) => {
                if !e.is_retryable() {
                    let _ = pos_store::sync::delete_device_key(self.secrets.as_ref(), &who.store_id);
                }
                let err = enrol_error(e);
                lock.with_register(|r| r.audit_enrolment_refused(session, enrolment.cloud_url, &err));
                return Err(err);
            }
        };
        if response.device_id != who.device_id {
            return Err(AppError::new(
                ErrorCode::Internal,
                format!("the cloud enrolled device {} instead of {}", response.device_id, who.device_id),
            ));
        }
        let ca_text = ca_file.as_ref().map(|p| p.display().to_string());
        lock.with_register(|r| r.record_enrolment(session, client.base_url(), ca_text.as_deref(), &response))?;
        let key_id = connection_key(client.base_url(), ca_text.as_deref(), &who.device_id);
        self.device = Some((key_id, DeviceClient::new(client, who.device_id, key)));
        lock.with_register(|r| r.sync_status())
    }

    /// One sync round with the register held throughout (posctl, tests).
    pub fn sync_once(&mut self, reg: &mut Register) -> AppResult<SyncSummary> {
        self.sync_once_shared(&Exclusive(RefCell::new(reg)))
    }

    /// One sync round: push every pending record (500 at a time) and the audit entries the cloud
    /// lacks, then pull and apply what changed, then push the audit entry of that. The register is
    /// held only for the local steps. Problems with the cloud end the round early and come back in
    /// [`SyncSummary::error`] (and are recorded, with the next attempt's time); an `Err` is a
    /// local failure (the store could not be read or written).
    pub fn sync_once_shared(&mut self, lock: &impl RegisterLock) -> AppResult<SyncSummary> {
        let mut summary = SyncSummary::default();
        let Some(state) = lock.with_register(|r| r.sync_state())? else {
            summary.error = Some(SyncFailure::not_enrolled());
            summary.outbox_depth = lock.with_register(|r| r.outbox_status())?.depth;
            return Ok(summary);
        };
        summary.enrolled = true;
        summary.cursor = state.pull_cursor;
        summary.audit_held_through = state.audit_held_through;
        if state.revoked {
            summary.error = Some(SyncFailure::revoked(None));
            summary.outbox_depth = lock.with_register(|r| r.outbox_status())?.depth;
            return Ok(summary);
        }
        let result = self.round(lock, &state, &mut summary);
        let after = match result {
            Ok(()) => {
                summary.online = true;
                lock.with_register(|r| r.record_sync_success())?
            }
            Err(Stop::Local(e)) => return Err(e),
            Err(Stop::Cloud(e)) => {
                if e.kind == ErrorKind::Unauthorized || e.kind == ErrorKind::Revoked {
                    // The token is no good; the next round signs a new challenge.
                    self.device = None;
                }
                summary.error = Some(SyncFailure::from_sync(&e));
                lock.with_register(|r| r.record_sync_failure(&e))?
            }
        };
        lock.with_register(|r| -> AppResult<()> {
            summary.outbox_depth = r.outbox_status()?.depth;
            summary.next_attempt_at = after.next_attempt_at.map(|t| r.local(from_micros(t)));
            Ok(())
        })?;
        summary.cursor = after.pull_cursor;
        summary.audit_held_through = after.audit_held_through;
        summary.audit_fault = after.audit_fault;
        Ok(summary)
    }

    /// The connection for `state`, made (and the device key read) when first needed.
    fn device(&mut self, lock: &impl RegisterLock, state: &SyncState) -> Result<&mut DeviceClient, Stop> {
        let id = connection_key(&state.cloud_url, state.ca_file.as_deref(), &state.device_id);
        if self.device.as_ref().is_none_or(|(k, _)| *k != id) {
            let store_id = lock.with_register(|r| r.store.store_id().to_owned());
            let seed = pos_store::sync::load_device_key(self.secrets.as_ref(), &store_id)?.ok_or_else(|| {
                Stop::Cloud(SyncError {
                    kind: ErrorKind::Config,
                    status: None,
                    code: Some("key_missing".into()),
                    message: "the credential store has no sync key for this register, so it cannot prove itself to \
                              the cloud; its sales stay in the outbox (the cloud must enrol it again)"
                        .into(),
                })
            })?;
            let client = CloudClient::new(&state.cloud_url, state.ca_file.as_deref().map(Path::new))?;
            self.device = Some((id, DeviceClient::new(client, state.device_id.clone(), DeviceKey::from_seed(&seed))));
        }
        Ok(&mut self.device.as_mut().expect("just set").1)
    }

    fn round(&mut self, lock: &impl RegisterLock, state: &SyncState, summary: &mut SyncSummary) -> Result<(), Stop> {
        let device = self.device(lock, state)?;
        let mut held = state.audit_held_through;
        push_all(device, lock, &mut held, summary)?;
        let pulled = device.pull(state.pull_cursor)?;
        let changed = lock.with_register(|r| r.apply_pull(&pulled, &mut summary.pulled))?;
        if changed {
            // The pull's own audit entry goes up too.
            push_all(device, lock, &mut held, summary)?;
        }
        Ok(())
    }
}

impl From<pos_store::StoreError> for Stop {
    fn from(e: pos_store::StoreError) -> Stop {
        Stop::Local(e.into())
    }
}

/// Which connection a state needs; a change (re-enrolment elsewhere) makes a new one.
fn connection_key(url: &str, ca_file: Option<&str>, device: &str) -> String {
    format!("{url}\n{}\n{device}", ca_file.unwrap_or(""))
}

/// Pushes until nothing is left or a push makes no progress (a chain fault the cloud keeps
/// refusing, say).
fn push_all(
    device: &mut DeviceClient,
    lock: &impl RegisterLock,
    held: &mut u64,
    summary: &mut SyncSummary,
) -> Result<(), Stop> {
    loop {
        let batch = lock.with_register(|r| r.next_push_batch(*held))?;
        if batch.request.records.is_empty() && batch.request.audit.is_empty() {
            return Ok(());
        }
        let response = device.push(&batch.request)?;
        check_results(&batch, &response)?;
        summary.pushes += 1;
        summary.records_pushed += batch.request.records.len();
        summary.audit_pushed += batch.request.audit.len();
        let outcome = lock.with_register(|r| r.record_push(&batch, &response))?;
        summary.stored += outcome.stored;
        summary.duplicates += outcome.duplicates;
        summary.acknowledged += outcome.acknowledged;
        summary.quarantined += outcome.quarantined;
        let progressed = outcome.acknowledged + outcome.quarantined > 0 || response.audit.held_through > *held;
        *held = response.audit.held_through;
        if !progressed {
            return Ok(());
        }
    }
}

/// Each result must name the record pushed at its place; otherwise nothing is taken as acknowledged.
fn check_results(batch: &PushBatch, response: &PushResponse) -> Result<(), SyncError> {
    let matches = batch.request.records.len() == response.results.len()
        && batch.request.records.iter().zip(&response.results).all(|(p, r)| p.op_id == r.op_id && p.seq == r.seq);
    if matches {
        Ok(())
    } else {
        Err(SyncError::new(
            ErrorKind::Retryable,
            "the cloud's answer does not match the records pushed; nothing is taken as acknowledged",
        ))
    }
}

/// Enrolment's errors in the façade's terms.
fn enrol_error(e: SyncError) -> AppError {
    let code = match e.kind {
        ErrorKind::Config => ErrorCode::InvalidInput,
        // The one-time code is not valid, used, or expired.
        ErrorKind::Forbidden => ErrorCode::InvalidInput,
        ErrorKind::Revoked => ErrorCode::DeviceRevoked,
        ErrorKind::Rejected if e.code.as_deref() == Some("already_enrolled") => ErrorCode::Conflict,
        ErrorKind::Rejected if e.status == Some(404) => ErrorCode::CloudUnavailable,
        ErrorKind::Rejected => ErrorCode::Internal,
        ErrorKind::Retryable | ErrorKind::Unauthorized => ErrorCode::CloudUnavailable,
    };
    AppError::new(code, format!("enrolment failed: {e}"))
}

/// What enrolment needs to know about this register.
struct EnrollingDevice {
    store_id: String,
    device_id: String,
    device_name: String,
    audit_public_key: String,
}

/// A setting document as the cloud sends it (`docs/sync-protocol.md`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockoutSetting {
    staff: Option<LockoutPolicy>,
    device: Option<LockoutPolicy>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AutoLockSetting {
    Seconds(u32),
    Fields { auto_lock_secs: Option<u32>, elevation_secs: Option<u32> },
}

fn apply_setting(policy: &mut SecurityPolicy, name: &str, value: &serde_json::Value) -> Result<(), String> {
    let bad = |e: serde_json::Error| format!("setting {name}: {e}");
    match name {
        "override_policy" => policy.overrides = OverridePolicy::deserialize(value).map_err(bad)?,
        "lockout" => {
            let l = LockoutSetting::deserialize(value).map_err(bad)?;
            if let Some(s) = l.staff {
                policy.staff_lockout = s;
            }
            if let Some(d) = l.device {
                policy.device_lockout = d;
            }
        }
        "auto_lock" => match AutoLockSetting::deserialize(value).map_err(bad)? {
            AutoLockSetting::Seconds(s) => policy.auto_lock_secs = s,
            AutoLockSetting::Fields { auto_lock_secs, elevation_secs } => {
                if let Some(s) = auto_lock_secs {
                    policy.auto_lock_secs = s;
                }
                if let Some(s) = elevation_secs {
                    policy.elevation_secs = s;
                }
            }
        },
        other => return Err(format!("setting {other}: not one the register knows")),
    }
    policy.validate().map_err(|e| format!("setting {name}: {}", e.message))
}

fn staff_problem(s: &api::StaffMember) -> Option<String> {
    let name = s.name.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Some("a staff name needs 1 to 60 printable characters".into());
    }
    if Role::parse(&s.role).is_none() {
        return Some(format!("unknown role {:?}", s.role));
    }
    if s.max_discount_bp > 10_000 {
        return Some("max_discount_bp is at most 10000".into());
    }
    if s.id.trim().is_empty() || s.id.len() > 64 {
        return Some("the cloud id is empty or too long".into());
    }
    None
}

impl Register {
    /// Where this register stands with the cloud; `None` before enrolment.
    pub fn sync_state(&self) -> AppResult<Option<SyncState>> {
        Ok(pos_store::sync::load_state(self.store.conn())?)
    }

    /// The register's sync status. Needs no sign-in: it shows no sale, key or secret.
    pub fn sync_status(&self) -> AppResult<SyncStatus> {
        let conn = self.store.conn();
        let state = pos_store::sync::load_state(conn)?;
        let (quarantine, quarantined) = pos_store::sync::quarantined(conn, QUARANTINE_SHOWN)?;
        let audit_head = pos_store::security::audit_head(conn)?.map_or(0, |(seq, _)| seq);
        let t = |us: Option<i64>| us.map(|us| self.local(from_micros(us)));
        let quarantine = quarantine
            .into_iter()
            .map(|q| QuarantineView {
                seq: q.seq,
                op_id: q.op_id,
                kind: q.kind,
                code: q.code,
                message: q.message,
                at: self.local(from_micros(q.at)),
            })
            .collect();
        let outbox = self.outbox_status()?;
        let device_id = self.auditor.device().to_owned();
        Ok(match state {
            None => SyncStatus {
                enrolled: false,
                online: false,
                revoked: false,
                cloud_url: None,
                ca_file: None,
                device_id,
                tenant_id: None,
                venue_id: None,
                venue_name: None,
                enrolled_at: None,
                outbox,
                quarantined,
                quarantine,
                audit_head,
                audit_held_through: 0,
                audit_fault: None,
                pull_cursor: 0,
                last_push_at: None,
                last_pull_at: None,
                last_success_at: None,
                last_attempt_at: None,
                last_error: None,
                consecutive_failures: 0,
                next_attempt_at: None,
            },
            Some(s) => SyncStatus {
                enrolled: true,
                online: !s.revoked && s.consecutive_failures == 0 && s.last_success_at.is_some(),
                revoked: s.revoked,
                cloud_url: Some(s.cloud_url),
                ca_file: s.ca_file,
                device_id,
                tenant_id: Some(s.tenant_id),
                venue_id: Some(s.venue_id),
                venue_name: Some(s.venue_name),
                enrolled_at: t(Some(s.enrolled_at)),
                outbox,
                quarantined,
                quarantine,
                audit_head,
                audit_held_through: s.audit_held_through,
                audit_fault: s.audit_fault,
                pull_cursor: s.pull_cursor,
                last_push_at: t(s.last_push_at),
                last_pull_at: t(s.last_pull_at),
                last_success_at: t(s.last_success_at),
                last_attempt_at: t(s.last_attempt_at),
                last_error: s.last_error,
                consecutive_failures: s.consecutive_failures,
                next_attempt_at: t(s.next_attempt_at),
            },
        })
    }

    /// The sync status with the records the cloud refused, for whoever approves overrides
    /// (managers and owners; a PIN is enough, no back-office code): the app's cloud page.
    pub fn sync_overview(&mut self, session: &Session) -> AppResult<SyncStatus> {
        self.authorize(session, Some(Permission::ApproveOverrides), "sync_overview")?;
        self.sync_status()
    }

    /// Sends a record the cloud refused again with the next push, for when the cloud's side has
    /// been fixed. The cloud checks it afresh (and stores it at most once); if it refuses it again,
    /// it is quarantined again. Audited.
    pub fn retry_quarantined(&mut self, session: &Session, seq: i64) -> AppResult<SyncStatus> {
        let actor = self.authorize(session, Some(Permission::ApproveOverrides), "sync_retry")?;
        let at = self.clock.now();
        let offset = self.offset(at);
        let tx = self.store.write()?;
        let (op_id, code) = pos_store::sync::release_quarantine(&tx, seq)?
            .ok_or_else(|| AppError::not_found(format!("outbox record {seq} is not quarantined")))?;
        let ev = Event::new("sync_retry", "ok")
            .actor(actor.id, &actor.name)
            .subject("outbox_seq", seq)
            .subject("op_id", op_id)
            .detail("refused_with", code);
        self.auditor.append(&tx, at, &offset, &ev)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        self.sync_status()
    }

    /// Whether the background worker should run a round now: enrolled, not revoked, not backing
    /// off, and something to push, or `poked`, or no pull for `pull_every`.
    pub fn sync_due(&self, pull_every: Duration, poked: bool) -> AppResult<bool> {
        let conn = self.store.conn();
        let Some(s) = pos_store::sync::load_state(conn)? else { return Ok(false) };
        let now = micros(self.clock.now());
        if s.revoked || s.next_attempt_at.is_some_and(|t| t > now) {
            return Ok(false);
        }
        if poked || s.consecutive_failures > 0 || pos_store::sync::has_pushable(conn)? {
            return Ok(true);
        }
        let head = pos_store::security::audit_head(conn)?.map_or(0, |(seq, _)| seq);
        if head > s.audit_held_through && s.audit_fault.is_none() {
            return Ok(true);
        }
        let every = i64::try_from(pull_every.as_micros()).unwrap_or(i64::MAX);
        Ok(s.last_pull_at.is_none_or(|t| now.saturating_sub(t) >= every))
    }

    /// Checks that `session` may enrol this register (the owner, with back-office access) and that
    /// it is not enrolled yet.
    fn prepare_enrolment(&mut self, session: &Session) -> AppResult<EnrollingDevice> {
        let actor = self.authorize(session, Some(Permission::ManageSettings), "cloud_enrolled")?;
        let is_owner = self.staff_row(actor.id).is_some_and(|s| s.role == Role::Owner.as_str());
        if !is_owner {
            let _ = self.audit_alone(
                Event::new("permission_denied", "refused")
                    .actor(actor.id, &actor.name)
                    .detail("operation", "cloud_enrolled")
                    .detail("why", "owner_only"),
            );
            return Err(AppError::new(
                ErrorCode::PermissionDenied,
                format!("{} may not enrol this register with the cloud: only the owner may", actor.name),
            ));
        }
        if let Some(s) = pos_store::sync::load_state(self.store.conn())? {
            return Err(AppError::conflict(format!(
                "this register is already enrolled with {} (venue {})",
                s.cloud_url, s.venue_name
            )));
        }
        let conn = self.store.conn();
        Ok(EnrollingDevice {
            store_id: self.store.store_id().to_owned(),
            device_id: self.auditor.device().to_owned(),
            device_name: pos_store::sync::device_name(conn)?.unwrap_or_else(|| "Register".into()),
            audit_public_key: self.auditor.public_key_hex(),
        })
    }

    fn audit_enrolment_refused(&mut self, session: &Session, url: &str, err: &AppError) {
        let ev = Event::new("cloud_enrolled", "refused")
            .actor(session.staff_id(), session.name())
            .detail("cloud_url", url)
            .detail("error", err.code.as_str());
        let _ = self.audit_alone(ev);
    }

    fn record_enrolment(
        &mut self,
        session: &Session,
        url: &str,
        ca_file: Option<&str>,
        r: &api::EnrollResponse,
    ) -> AppResult<()> {
        let now = self.clock.now();
        let offset = self.offset(now);
        let state = SyncState::enrolled(
            url.to_owned(),
            ca_file.map(str::to_owned),
            (r.device_id.clone(), r.tenant_id.clone(), r.venue_id.clone()),
            r.venue_name.clone(),
            micros(now),
        );
        let tx = self.store.write()?;
        pos_store::sync::insert_state(&tx, &state)?;
        let ev = Event::new("cloud_enrolled", "ok")
            .actor(session.staff_id(), session.name())
            .subject("venue", r.venue_id.clone())
            .detail("cloud_url", url)
            .detail("tenant", r.tenant_id.clone())
            .detail("venue_name", r.venue_name.clone());
        self.auditor.append(&tx, now, &offset, &ev)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        Ok(())
    }

    /// The next push: pending records (quarantined ones left out) and the audit entries after
    /// `held`, each within the service's limits.
    fn next_push_batch(&self, held: u64) -> AppResult<PushBatch> {
        let conn = self.store.conn();
        let mut records = Vec::new();
        let mut bytes = 0;
        for r in pos_store::sync::pushable(conn, PUSH_RECORDS as i64)? {
            if !records.is_empty() && bytes + r.payload.len() > PUSH_BYTES {
                break;
            }
            bytes += r.payload.len();
            records.push(PushRecord {
                seq: r.seq,
                op_id: r.op_id,
                kind: r.kind,
                // Stored payloads are UTF-8 JSON; anything else fails the cloud's hash check and is
                // quarantined like any other record it refuses.
                payload: String::from_utf8(r.payload)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
                payload_hash: hex::encode(r.payload_hash),
            });
        }
        let mut audit = Vec::new();
        let mut bytes = 0;
        for e in pos_store::security::audit_entries(conn, held + 1, PUSH_AUDIT as i64)? {
            if !audit.is_empty() && bytes + e.body.len() > PUSH_BYTES {
                break;
            }
            bytes += e.body.len() + 192;
            audit.push(PushAuditEntry { seq: e.seq, body: e.body, hash: e.hash, signature: e.signature });
        }
        Ok(PushBatch { request: PushRequest { records, audit } })
    }

    /// Records a push's answer in one transaction: acknowledges exactly the records the cloud
    /// stored or already held, quarantines the ones it rejected, and notes how far it holds the
    /// audit chain.
    fn record_push(&mut self, batch: &PushBatch, response: &PushResponse) -> AppResult<PushOutcome> {
        let now = self.clock.now();
        let at = micros(now);
        let offset = self.offset(now);
        let mut outcome = PushOutcome::default();
        let mut acked: Vec<(i64, &str)> = Vec::new();
        for (rec, res) in batch.request.records.iter().zip(&response.results) {
            match res.status {
                RecordStatus::Stored => outcome.stored += 1,
                RecordStatus::Duplicate => outcome.duplicates += 1,
                RecordStatus::Rejected => {}
            }
            if res.acknowledged() {
                acked.push((rec.seq, &rec.op_id));
            }
        }
        let tx = self.store.write()?;
        outcome.acknowledged = pos_store::outbox::acknowledge(&tx, &acked, at)?;
        let mut quarantined_seqs: Vec<i64> = Vec::new();
        for (rec, res) in batch.request.records.iter().zip(&response.results) {
            if res.status == RecordStatus::Rejected {
                let code = res.code.as_deref().unwrap_or("rejected");
                let message = res.message.as_deref().unwrap_or("the cloud rejected this record");
                if pos_store::sync::quarantine(&tx, rec.seq, &rec.op_id, code, message, at)? {
                    quarantined_seqs.push(rec.seq);
                }
            }
        }
        outcome.quarantined = quarantined_seqs.len();
        let mut state = pos_store::sync::load_state(&tx)?
            .ok_or_else(|| AppError::conflict("the register is no longer enrolled"))?;
        state.audit_held_through = response.audit.held_through;
        state.audit_fault =
            response.audit.fault.as_ref().map(|f| format!("entry {}: {} ({})", f.seq, f.kind, f.detail));
        state.last_push_at = Some(at);
        pos_store::sync::save_state(&tx, &state)?;
        if outcome.acknowledged > 0 || outcome.quarantined > 0 {
            let mut ev = Event::new("sync_acknowledged", "ok")
                .detail("records", outcome.acknowledged as u64)
                .detail("quarantined", outcome.quarantined as u64);
            if !quarantined_seqs.is_empty() {
                ev = ev.detail("quarantined_seqs", quarantined_seqs.clone());
            }
            self.auditor.append(&tx, now, &offset, &ev)?;
        }
        tx.commit().map_err(pos_store::StoreError::from)?;
        Ok(outcome)
    }

    /// Applies a pull in one transaction — catalog through the catalog import's checks, staff by
    /// cloud id, settings into the security policy — audits it, and stores the new cursor. Items
    /// that do not pass the checks are skipped and named in `summary`. Returns whether anything
    /// changed.
    fn apply_pull(&mut self, pull: &PullResponse, summary: &mut PullSummary) -> AppResult<bool> {
        let now = self.clock.now();
        let offset = self.offset(now);
        let conn = self.store.conn();

        // Tax classes: each checked on its own, written before the catalog so that items may name
        // a class from the same answer.
        let mut taxes = Vec::new();
        for c in &pull.taxes {
            match c.problem() {
                Some(why) => summary.skipped.push(why),
                None => taxes.push(c),
            }
        }
        let mut class_names: Vec<String> = self.venue.taxes.classes().iter().map(|c| c.name.clone()).collect();
        for c in &taxes {
            if !class_names.iter().any(|n| n == c.name.trim()) {
                class_names.push(c.name.trim().to_owned());
            }
        }

        // Catalog: active items through the import's validation; inactive ones are switched off.
        let currency = self.venue.currency;
        let rows: Vec<(usize, CatalogRow)> = pull
            .catalog
            .iter()
            .enumerate()
            .filter(|(_, i)| i.active)
            .map(|(n, i)| {
                (
                    n,
                    CatalogRow {
                        line: n + 1,
                        sku: i.sku.clone(),
                        product: i.product.clone(),
                        variant: i.variant.clone(),
                        category: i.category.clone(),
                        price: i.price.clone(),
                        tax_class: i.tax_class.clone(),
                        barcodes: i.barcodes.clone(),
                        weighed: i.weighed,
                        unreadable: None,
                    },
                )
            })
            .collect();
        let all: Vec<CatalogRow> = rows.iter().map(|(_, r)| r.clone()).collect();
        let valid = match catalog_import::validate(&all, &class_names, currency, Some(conn)) {
            Ok(v) => v,
            Err(_) => {
                // Find the bad items one by one, then check the rest together again.
                let mut keep = Vec::new();
                for (_, row) in &rows {
                    match catalog_import::validate(std::slice::from_ref(row), &class_names, currency, Some(conn)) {
                        Ok(_) => keep.push(row.clone()),
                        Err(e) => summary.skipped.push(format!(
                            "catalog item {:?}: {}",
                            row.sku,
                            e.message.lines().skip(1).collect::<Vec<_>>().join("; ")
                        )),
                    }
                }
                match catalog_import::validate(&keep, &class_names, currency, Some(conn)) {
                    Ok(v) => v,
                    Err(e) => {
                        summary
                            .skipped
                            .push(format!("the catalog items (none applied): {}", e.message.replace('\n', "; ")));
                        Vec::new()
                    }
                }
            }
        };
        let inactive: Vec<&str> = pull.catalog.iter().filter(|i| !i.active).map(|i| i.sku.trim()).collect();

        // Staff: checked here, written by cloud id.
        let mut staff = Vec::new();
        for s in &pull.staff {
            if let Some(why) = staff_problem(s) {
                summary.skipped.push(format!("staff member {}: {why}", s.id));
                continue;
            }
            let pin_hash = match s.pin_hash.as_deref() {
                Some(h) if argon2::password_hash::PasswordHash::new(h).is_ok() => Some(h),
                Some(_) => {
                    summary
                        .skipped
                        .push(format!("staff member {}: the PIN hash is not a PHC string; PIN left as it was", s.id));
                    None
                }
                None => None,
            };
            staff.push((s, pin_hash));
        }

        // Settings: merged into the security policy, each checked on its own.
        let mut policy = self.policy;
        let mut settings = Vec::new();
        for s in &pull.settings {
            let mut trial = policy;
            match apply_setting(&mut trial, &s.name, &s.value) {
                Ok(()) => {
                    policy = trial;
                    settings.push(s.name.clone());
                }
                Err(why) => summary.skipped.push(why),
            }
        }

        let tx = self.store.write()?;
        let mut tax_changes = Vec::new();
        for c in &taxes {
            let rates: Vec<RateSpec> = c
                .rates
                .iter()
                .map(|r| RateSpec { code: &r.code, name: r.name.trim(), rate_ppm: i64::from(r.rate_ppm) })
                .collect();
            let change = pos_store::catalog::set_tax_class(&tx, c.name.trim(), &rates, micros(now))?;
            if !change.is_empty() {
                tax_changes.push(change);
            }
        }
        // The register must still be able to price every class afterwards.
        let tax_table = if tax_changes.is_empty() {
            None
        } else {
            Some(TaxTable::new(pos_store::catalog::load_tax_classes(&tx)?)?)
        };
        summary.taxes = tax_changes.iter().map(|c| c.class.clone()).collect();
        let imported = catalog_import::write(&tx, &valid)?;
        summary.catalog = imported.skus_created + imported.skus_updated;
        for code in &inactive {
            if pos_store::sync::set_sku_active(&tx, code, false)? {
                summary.deactivated += 1;
            }
        }
        let mut staff_changed: Vec<serde_json::Value> = Vec::new();
        for (s, pin_hash) in &staff {
            let role = Role::parse(&s.role).expect("checked");
            let (id, created) = pos_store::sync::upsert_cloud_staff(
                &tx,
                &CloudStaff {
                    cloud_id: s.id.trim(),
                    name: s.name.trim(),
                    role: role.as_str(),
                    permissions: Permissions::from_bits(s.permissions).bits(),
                    max_discount_bp: s.max_discount_bp,
                    totp_required: s.totp_required,
                    active: s.active,
                    pin_hash: *pin_hash,
                },
            )?;
            staff_changed.push(serde_json::json!({
                "id": id,
                "cloud_id": s.id.trim(),
                "created": created,
                "role": role.as_str(),
                "permissions": Permissions::from_bits(s.permissions).bits(),
                "active": s.active,
                "pin_changed": pin_hash.is_some(),
            }));
        }
        summary.staff = staff_changed.len();
        if !settings.is_empty() {
            let json = serde_json::to_string(&policy).expect("policy serialises");
            pos_store::security::put_setting(&tx, POLICY_SETTING, &json)?;
        }
        summary.settings = settings;
        let changed =
            summary.taxes.len() + summary.catalog + summary.deactivated + summary.staff + summary.settings.len() > 0;
        if changed || !summary.skipped.is_empty() {
            let mut ev = Event::new("cloud_pulled", "ok")
                .detail("cursor", pull.cursor)
                .detail("taxes", serde_json::to_value(&tax_changes).expect("tax changes serialise"))
                .detail("skus", summary.catalog as u64)
                .detail("skus_deactivated", summary.deactivated as u64)
                .detail("staff", serde_json::Value::Array(staff_changed))
                .detail("settings", summary.settings.clone());
            if !summary.skipped.is_empty() {
                ev = ev.detail("skipped", summary.skipped.len() as u64);
            }
            if !summary.settings.is_empty() {
                ev = ev.detail("policy", serde_json::to_value(policy).expect("policy serialises"));
            }
            self.auditor.append(&tx, now, &offset, &ev)?;
        }
        let mut state = pos_store::sync::load_state(&tx)?
            .ok_or_else(|| AppError::conflict("the register is no longer enrolled"))?;
        state.pull_cursor = state.pull_cursor.max(pull.cursor);
        state.last_pull_at = Some(micros(now));
        if let Some(v) = &pull.venue {
            state.venue_name = v.name.clone();
        }
        pos_store::sync::save_state(&tx, &state)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        if let Some(table) = tax_table {
            self.venue.taxes = table;
        }
        if summary.catalog + summary.deactivated > 0 {
            self.reload_catalog()?;
        }
        if summary.staff > 0 {
            self.reload_staff()?;
        }
        if !summary.settings.is_empty() {
            self.policy = policy;
        }
        Ok(changed || !summary.skipped.is_empty())
    }

    fn record_sync_success(&mut self) -> AppResult<SyncState> {
        let now = micros(self.clock.now());
        let tx = self.store.write()?;
        let mut s = pos_store::sync::load_state(&tx)?
            .ok_or_else(|| AppError::conflict("the register is no longer enrolled"))?;
        s.last_attempt_at = Some(now);
        s.last_success_at = Some(now);
        s.last_error = None;
        s.consecutive_failures = 0;
        s.next_attempt_at = None;
        pos_store::sync::save_state(&tx, &s)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        Ok(s)
    }

    /// Notes a failed round and when to try again: exponential back-off with full jitter for
    /// what may pass, the longest back-off for a request the cloud calls malformed (so a bug does
    /// not spin), never again for a revoked device.
    fn record_sync_failure(&mut self, e: &SyncError) -> AppResult<SyncState> {
        let at = self.clock.now();
        let now = micros(at);
        let offset = self.offset(at);
        let tx = self.store.write()?;
        let mut s = pos_store::sync::load_state(&tx)?
            .ok_or_else(|| AppError::conflict("the register is no longer enrolled"))?;
        s.last_attempt_at = Some(now);
        s.last_error = Some(e.to_string());
        s.consecutive_failures = s.consecutive_failures.saturating_add(1);
        let delay = match e.kind {
            ErrorKind::Revoked => {
                s.revoked = true;
                None
            }
            ErrorKind::Rejected | ErrorKind::Forbidden | ErrorKind::Config => Some(pos_sync::BACKOFF_CAP),
            ErrorKind::Retryable | ErrorKind::Unauthorized => {
                Some(pos_sync::backoff_delay(s.consecutive_failures, random_u64()))
            }
        };
        s.next_attempt_at = delay.map(|d| now.saturating_add(i64::try_from(d.as_micros()).unwrap_or(i64::MAX)));
        pos_store::sync::save_state(&tx, &s)?;
        if e.kind == ErrorKind::Revoked {
            let ev = Event::new("cloud_revoked", "ok").detail("detail", e.to_string());
            self.auditor.append(&tx, at, &offset, &ev)?;
        }
        tx.commit().map_err(pos_store::StoreError::from)?;
        Ok(s)
    }
}

/// Settings of the background worker.
#[derive(Debug, Clone, Copy)]
pub struct WorkerConfig {
    /// How often the worker looks for work when nobody pokes it.
    pub poll: Duration,
    /// How often it pulls when there is nothing to push.
    pub pull_every: Duration,
}

impl Default for WorkerConfig {
    fn default() -> WorkerConfig {
        WorkerConfig { poll: Duration::from_secs(5), pull_every: Duration::from_secs(60) }
    }
}

struct WorkerShared {
    agent: Mutex<CloudSync>,
    poked: Mutex<bool>,
    cond: Condvar,
    stop: AtomicBool,
    online: AtomicBool,
    last: Mutex<Option<Result<SyncSummary, AppError>>>,
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A thread that syncs in the background: it looks every few seconds (or when poked) whether a
/// round is due ([`Register::sync_due`]: something to push, or time to pull, and no back-off in
/// force) and runs one, holding the register only for the local steps. Dropping it stops it.
pub struct SyncWorker {
    shared: Arc<WorkerShared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for SyncWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncWorker").field("online", &self.online()).finish_non_exhaustive()
    }
}

impl SyncWorker {
    pub fn spawn<L: RegisterLock + Send + Sync + 'static>(
        lock: Arc<L>,
        agent: CloudSync,
        config: WorkerConfig,
    ) -> std::io::Result<SyncWorker> {
        let shared = Arc::new(WorkerShared {
            agent: Mutex::new(agent),
            poked: Mutex::new(false),
            cond: Condvar::new(),
            stop: AtomicBool::new(false),
            online: AtomicBool::new(false),
            last: Mutex::new(None),
        });
        let s = Arc::clone(&shared);
        let thread = std::thread::Builder::new().name("sync-worker".into()).spawn(move || {
            loop {
                let poked = {
                    let flag = guard(&s.poked);
                    let (mut flag, _) = s
                        .cond
                        .wait_timeout_while(flag, config.poll, |p| !*p && !s.stop.load(Ordering::SeqCst))
                        .unwrap_or_else(|e| e.into_inner());
                    std::mem::take(&mut *flag)
                };
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                match lock.with_register(|r| r.sync_due(config.pull_every, poked)) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        *guard(&s.last) = Some(Err(e));
                        continue;
                    }
                }
                let result = guard(&s.agent).sync_once_shared(&*lock);
                s.online.store(result.as_ref().is_ok_and(|r| r.online), Ordering::SeqCst);
                *guard(&s.last) = Some(result);
            }
        })?;
        Ok(SyncWorker { shared, thread: Some(thread) })
    }

    /// Asks for a round now (after a sale, say); a back-off in force still holds it.
    pub fn poke(&self) {
        *guard(&self.shared.poked) = true;
        self.shared.cond.notify_all();
    }

    /// Whether the last round reached the cloud and finished (for the status bar).
    pub fn online(&self) -> bool {
        self.shared.online.load(Ordering::SeqCst)
    }

    /// The outcome of the last round, if one ran.
    pub fn last_summary(&self) -> Option<Result<SyncSummary, AppError>> {
        guard(&self.shared.last).clone()
    }

    /// Runs `f` with the worker's sync client (to enrol, or to sync now), waiting for a round in
    /// progress. Never call it while holding the register.
    pub fn with_agent<T>(&self, f: impl FnOnce(&mut CloudSync) -> T) -> T {
        f(&mut guard(&self.shared.agent))
    }

    /// Stops the thread after the round in progress, if any.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.cond.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SyncWorker {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_merge_into_the_policy_and_bad_ones_are_refused() {
        let mut p = SecurityPolicy::DEFAULT;
        apply_setting(&mut p, "auto_lock", &serde_json::json!(300)).unwrap();
        assert_eq!(p.auto_lock_secs, 300);
        apply_setting(&mut p, "auto_lock", &serde_json::json!({"elevation_secs": 600})).unwrap();
        assert_eq!((p.auto_lock_secs, p.elevation_secs), (300, 600));
        let staff = serde_json::json!({"staff": {"free_failures": 2, "base_delay_secs": 10, "max_delay_secs": 600, "lock_after": 5}});
        apply_setting(&mut p, "lockout", &staff).unwrap();
        assert_eq!(p.staff_lockout.lock_after, 5);
        assert_eq!(p.device_lockout, SecurityPolicy::DEFAULT.device_lockout);
        let overrides = serde_json::to_value(OverridePolicy { order_void: false, ..OverridePolicy::DEFAULT }).unwrap();
        apply_setting(&mut p, "override_policy", &overrides).unwrap();
        assert!(!p.overrides.order_void);

        let mut q = SecurityPolicy::DEFAULT;
        assert!(apply_setting(&mut q, "auto_lock", &serde_json::json!(1)).is_err(), "out of range");
        assert!(apply_setting(&mut q, "lockout", &serde_json::json!({"cashier": {}})).is_err());
        assert!(apply_setting(&mut q, "printer", &serde_json::json!({})).is_err());
    }
}
