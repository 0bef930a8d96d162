//! Staff security in the façade: sessions and auto-lock, PIN checks with lockout, permission
//! checks, manager overrides with single-use grants, TOTP and back-office elevation, and the
//! audit entries all of them write. Every public operation of the register goes through
//! [`Register::authorize`] (or a fresh PIN check) before it touches anything.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use pos_audit::{Ed25519Signer, Entry, Event, Position, Signer as _};
use pos_auth::lockout::{Attempts, LockoutPolicy, PinGate};
use pos_auth::overrides::{Decision, Grant, OverrideAction, OverrideKind, OverridePolicy, decide, may_approve};
use pos_auth::permissions::{Permission, Permissions, Role};
use pos_auth::totp::{self, TotpError};
use pos_core::money::format_minor;
use pos_store::Transaction;
use pos_store::security::{NewStaff, StaffSecurity};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{AppError, AppResult, ErrorCode};
use crate::pin;
use crate::register::Register;
use crate::views::{
    ApprovalGrantView, ApprovalRequestView, ApproverView, AuditExportView, AuditVerifyView, SessionView,
    StaffAdminView, TotpEnrolmentView,
};

/// The venue's security settings. Stored in the encrypted store; changed only through
/// [`Register::set_security_policy`] (back office).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityPolicy {
    pub overrides: OverridePolicy,
    pub staff_lockout: LockoutPolicy,
    pub device_lockout: LockoutPolicy,
    /// A session locks itself after this much idle time; its open orders stay.
    pub auto_lock_secs: u32,
    /// How long PIN + TOTP keep back-office actions open.
    pub elevation_secs: u32,
}

impl SecurityPolicy {
    pub const DEFAULT: SecurityPolicy = SecurityPolicy {
        overrides: OverridePolicy::DEFAULT,
        staff_lockout: LockoutPolicy::STAFF_DEFAULT,
        device_lockout: LockoutPolicy::DEVICE_DEFAULT,
        auto_lock_secs: 120,
        elevation_secs: 300,
    };

    pub fn validate(&self) -> AppResult<()> {
        self.overrides.validate().map_err(AppError::invalid)?;
        self.staff_lockout.validate().map_err(AppError::invalid)?;
        self.device_lockout.validate().map_err(AppError::invalid)?;
        if !(15..=3600).contains(&self.auto_lock_secs) {
            return Err(AppError::invalid("auto-lock is 15 seconds to an hour"));
        }
        if !(30..=3600).contains(&self.elevation_secs) {
            return Err(AppError::invalid("back-office access lasts 30 seconds to an hour"));
        }
        Ok(())
    }
}

pub(crate) const POLICY_SETTING: &str = "security_policy";

/// A signed-in staff member at this register. Only [`Register::sign_in`] makes one; what they may
/// do is looked up by the register on every call, never taken from here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    token: u64,
    staff_id: i64,
    name: String,
    role: String,
}

impl Session {
    pub fn staff_id(&self) -> i64 {
        self.staff_id
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn role(&self) -> &str {
        &self.role
    }
}

/// What the register remembers about a session.
#[derive(Debug, Clone)]
pub(crate) struct SessionState {
    staff_id: i64,
    last_active_us: i64,
    locked: bool,
    elevated_until_us: Option<i64>,
}

/// A request waiting for a manager.
#[derive(Debug, Clone)]
pub(crate) struct PendingApproval {
    id: String,
    action: OverrideAction,
    requested_by: i64,
    expires_at_us: i64,
}

/// An approval granted and not yet used.
#[derive(Debug, Clone)]
pub(crate) struct ActiveGrant {
    id: String,
    grant: Grant,
}

/// In-memory security state of the register process.
#[derive(Default)]
pub(crate) struct SecurityState {
    sessions: std::collections::HashMap<u64, SessionState>,
    pending: Vec<PendingApproval>,
    grants: Vec<ActiveGrant>,
    totp_pending: std::collections::HashMap<i64, Zeroizing<Vec<u8>>>,
}

/// Who is acting, as the register knows them (looked up fresh for each call).
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    pub id: i64,
    pub name: String,
    pub perms: Permissions,
    pub max_discount_bp: u32,
}

/// A grant that let an action proceed: consumed when the action commits.
#[derive(Debug, Clone)]
pub(crate) struct Approval {
    grant_id: String,
    pub approver_id: i64,
    pub approver_name: String,
    pub reason: String,
}

impl Approval {
    /// Adds the approver and their reason to an audit event, when there was an approval.
    pub fn stamp_opt(approval: Option<&Approval>, event: Event) -> Event {
        match approval {
            Some(a) => event.approver(a.approver_id, &a.approver_name).detail("approval_reason", a.reason.clone()),
            None => event,
        }
    }
}

/// Writes audit entries: numbers, chains and signs them inside the caller's transaction.
pub(crate) struct Auditor {
    signer: Ed25519Signer,
    device: String,
}

impl Auditor {
    pub fn new(seed: &[u8; 32], device: String) -> Auditor {
        Auditor { signer: Ed25519Signer::from_seed(seed), device }
    }

    pub fn public_key_hex(&self) -> String {
        hex::encode(self.signer.public_key())
    }

    pub fn device(&self) -> &str {
        &self.device
    }

    /// Appends `event` (with its approver, if a grant allowed it) and commits `tx`: the last step
    /// of every audited write. The caller then uses the grant up with [`Register::consume`].
    pub fn commit(
        &self,
        tx: Transaction,
        at: Timestamp,
        offset: &str,
        event: Event,
        approval: Option<&Approval>,
    ) -> AppResult<Entry> {
        let entry = self.append(&tx, at, offset, &Approval::stamp_opt(approval, event))?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        Ok(entry)
    }

    /// Appends `event` as the next entry of the chain, in `tx`.
    pub fn append(&self, tx: &Transaction, at: Timestamp, offset: &str, event: &Event) -> AppResult<Entry> {
        let (seq, prev) = match pos_store::security::audit_head(tx)? {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, pos_audit::GENESIS.to_owned()),
        };
        let at = at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        let entry =
            pos_audit::seal(event, &Position { device: &self.device, seq, at: &at, offset, prev: &prev }, &self.signer)
                .map_err(|e| AppError::new(ErrorCode::Internal, format!("audit entry: {e}")))?;
        pos_store::security::audit_append(
            tx,
            &pos_store::security::AuditRow {
                seq: entry.seq,
                body: entry.body.clone(),
                hash: entry.hash.clone(),
                signature: entry.signature.clone(),
            },
        )?;
        Ok(entry)
    }
}

fn random_u64() -> AppResult<u64> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(|e| AppError::new(ErrorCode::Internal, format!("random: {e}")))?;
    Ok(u64::from_le_bytes(b))
}

fn totp_seal_key(pepper: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(pepper).expect("HMAC takes any key length");
    mac.update(b"pos-register totp-seal v1");
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// Encrypts a TOTP secret for the store: ChaCha20-Poly1305 under a key derived from the PIN
/// pepper (which only the credential store holds), bound to the staff member.
fn seal_totp(pepper: &[u8; 32], staff_id: i64, secret: &[u8]) -> AppResult<Vec<u8>> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&totp_seal_key(pepper)[..]));
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).map_err(|e| AppError::new(ErrorCode::Internal, format!("random: {e}")))?;
    let aad = format!("staff:{staff_id}");
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret, aad: aad.as_bytes() })
        .map_err(|_| AppError::new(ErrorCode::Internal, "could not seal the TOTP secret"))?;
    Ok([&nonce[..], &ct].concat())
}

fn open_totp(pepper: &[u8; 32], staff_id: i64, sealed: &[u8]) -> AppResult<Zeroizing<Vec<u8>>> {
    if sealed.len() < 12 + 16 {
        return Err(AppError::new(ErrorCode::StoreDamaged, "a stored TOTP secret is damaged"));
    }
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&totp_seal_key(pepper)[..]));
    let aad = format!("staff:{staff_id}");
    let plain = cipher
        .decrypt(Nonce::from_slice(&sealed[..12]), Payload { msg: &sealed[12..], aad: aad.as_bytes() })
        .map_err(|_| AppError::new(ErrorCode::StoreDamaged, "a stored TOTP secret does not open"))?;
    Ok(Zeroizing::new(plain))
}

fn unix_secs(t: Timestamp) -> u64 {
    u64::try_from(t.as_second()).unwrap_or(0)
}

fn attempts_of(s: &StaffSecurity) -> Attempts {
    Attempts { failures: s.pin_failures, last_failure_us: s.pin_last_failure_at, locked: s.pin_locked }
}

fn gate_error(gate: PinGate, who: &str) -> Option<AppError> {
    match gate {
        PinGate::Open => None,
        PinGate::Wait { seconds } => Some(AppError::new(
            ErrorCode::TooManyAttempts,
            format!("too many wrong PINs{who}: try again in {seconds} s"),
        )),
        PinGate::Locked if who.is_empty() => {
            Some(AppError::new(ErrorCode::AccountLocked, "this staff member is locked: a manager must unlock them"))
        }
        PinGate::Locked => Some(AppError::new(
            ErrorCode::DeviceLocked,
            "this register is locked after too many wrong PINs: a manager must sign in to unlock it",
        )),
    }
}

/// A staff member's role, permissions, discount limit and TOTP requirement, as the back office sets them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccess {
    pub role: Role,
    pub permissions: Permissions,
    pub max_discount_bp: u32,
    pub totp_required: bool,
}

impl StaffAccess {
    /// The role's preset.
    pub fn preset(role: Role) -> StaffAccess {
        StaffAccess {
            role,
            permissions: role.preset(),
            max_discount_bp: role.max_discount_bp(),
            totp_required: role.totp_required_by_default(),
        }
    }
}

impl Register {
    pub(crate) fn now_us(&self) -> i64 {
        self.clock.now().as_microsecond()
    }

    pub(crate) fn offset(&self, t: Timestamp) -> String {
        self.venue.day.local(t).strftime("%:z").to_string()
    }

    pub(crate) fn reload_staff(&mut self) -> AppResult<()> {
        self.staff = pos_store::security::all_staff(self.store.conn())?;
        Ok(())
    }

    pub(crate) fn staff_row(&self, id: i64) -> Option<&StaffSecurity> {
        self.staff.iter().find(|s| s.id == id)
    }

    /// Writes one audit entry in its own transaction (refusals, sign-ins, failures).
    pub(crate) fn audit_alone(&mut self, event: Event) -> AppResult<Entry> {
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        let entry = self.auditor.append(&tx, now, &offset, &event)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        Ok(entry)
    }

    /// Audits a refusal and returns it. If even the audit cannot be written, the refusal stands.
    fn refuse(&mut self, event: Event, err: AppError) -> AppError {
        let _ = self.audit_alone(event.detail("error", err.code.as_str()));
        err
    }

    // ---- sessions ----------------------------------------------------------------------------

    /// Checks the session and, when `perm` is given, that its staff member holds it (and, for a
    /// back-office permission, that they entered PIN and TOTP recently). A refusal is audited
    /// and changes nothing else.
    /// Locks the session if it has been idle longer than the policy allows. Returns whether it
    /// is locked, and whether that happened just now. Does not count as activity.
    fn idle_lock(&mut self, session: &Session) -> AppResult<(bool, bool)> {
        let now = self.now_us();
        let auto_lock = i64::from(self.policy.auto_lock_secs) * 1_000_000;
        let Some(state) = self.security.sessions.get_mut(&session.token) else {
            return Err(AppError::new(ErrorCode::NotSignedIn, "not signed in: sign in with your PIN"));
        };
        if state.staff_id != session.staff_id {
            return Err(AppError::new(ErrorCode::NotSignedIn, "not signed in: sign in with your PIN"));
        }
        if !state.locked && now - state.last_active_us > auto_lock {
            state.locked = true;
            state.elevated_until_us = None;
            let ev = Event::new("session_locked", "ok")
                .actor(session.staff_id, &session.name)
                .detail("cause", "idle")
                .detail("idle_secs", (now - state.last_active_us) / 1_000_000);
            let _ = self.audit_alone(ev);
            return Ok((true, true));
        }
        Ok((state.locked, false))
    }

    /// Whether the session is locked now (locking it once it has been idle too long). A status
    /// display may poll this: unlike every other call it does not count as activity, so the
    /// auto-lock still fires while the window is open.
    pub fn session_locked(&mut self, session: &Session) -> AppResult<bool> {
        Ok(self.idle_lock(session)?.0)
    }

    pub(crate) fn authorize(&mut self, session: &Session, perm: Option<Permission>, op: &str) -> AppResult<Actor> {
        self.sweep_approvals();
        let now = self.now_us();
        match self.idle_lock(session)? {
            (true, true) => {
                return Err(AppError::new(
                    ErrorCode::SessionLocked,
                    "locked after idle time: enter your PIN to unlock",
                ));
            }
            (true, false) => {
                return Err(AppError::new(
                    ErrorCode::SessionLocked,
                    "the register is locked: enter your PIN to unlock",
                ));
            }
            (false, _) => {}
        }
        let state = self.security.sessions.get_mut(&session.token).expect("checked by idle_lock");
        let elevated = state.elevated_until_us.is_some_and(|u| now < u);
        let staff = self.staff_row(session.staff_id).cloned();
        let Some(staff) = staff.filter(|s| s.active && !s.pin_locked) else {
            self.security.sessions.remove(&session.token);
            return Err(AppError::new(ErrorCode::NotSignedIn, "this staff member can no longer sign in"));
        };
        let actor = Actor {
            id: staff.id,
            name: staff.name.clone(),
            perms: Permissions::from_bits(staff.permissions),
            max_discount_bp: staff.max_discount_bp,
        };
        if let Some(p) = perm {
            let ev = || {
                Event::new("permission_denied", "refused")
                    .actor(actor.id, &actor.name)
                    .detail("operation", op)
                    .detail("permission", p.as_str())
            };
            if !actor.perms.contains(p) {
                let err = AppError::new(
                    ErrorCode::PermissionDenied,
                    format!("{} may not do this (needs the {p} permission)", actor.name),
                );
                return Err(self.refuse(ev().detail("why", "missing_permission"), err));
            }
            if p.is_back_office() && !elevated {
                let err = AppError::new(
                    ErrorCode::ElevationRequired,
                    "a back-office action: enter your PIN and a current authenticator code first",
                );
                return Err(self.refuse(ev().detail("why", "not_elevated"), err));
            }
        }
        if let Some(state) = self.security.sessions.get_mut(&session.token) {
            state.last_active_us = now;
        }
        Ok(actor)
    }

    /// Checks a PIN typed now, with the per-staff and per-device delays and locks. Failures are
    /// counted and audited; a success clears the counts.
    fn check_fresh_pin(&mut self, staff_id: i64, pin: &str, purpose: &str) -> AppResult<StaffSecurity> {
        let now = self.now_us();
        let policy = self.policy;
        let (df, dl, dlock) = pos_store::security::device_attempts(self.store.conn())?;
        let device = Attempts { failures: df, last_failure_us: dl, locked: dlock };
        let Some(staff) = self.staff_row(staff_id).filter(|s| s.active).cloned() else {
            return Err(AppError::not_found(format!("no active staff member #{staff_id}")));
        };
        let may_unlock = Permissions::from_bits(staff.permissions).contains(Permission::UnlockStaff);
        let device_gate = match device.gate(&policy.device_lockout, now) {
            PinGate::Locked if may_unlock => PinGate::Open,
            g => g,
        };
        if let Some(err) = gate_error(device_gate, " on this register") {
            let ev = Event::new("pin_attempt", "refused").actor(staff.id, &staff.name).detail("purpose", purpose);
            return Err(self.refuse(ev, err));
        }
        if let Some(err) = gate_error(attempts_of(&staff).gate(&policy.staff_lockout, now), "") {
            let ev = Event::new("pin_attempt", "refused").actor(staff.id, &staff.name).detail("purpose", purpose);
            return Err(self.refuse(ev, err));
        }
        let ok = pin::check_pin_format(pin).is_ok() && pin::verify_pin(self.store.pin_pepper(), pin, &staff.pin_hash);
        let at = self.clock.now();
        let offset = self.offset(at);
        if !ok {
            let s_after = attempts_of(&staff).after_failure(&policy.staff_lockout, now);
            let d_after = device.after_failure(&policy.device_lockout, now);
            let tx = self.store.write()?;
            pos_store::security::set_staff_attempts(
                &tx,
                staff.id,
                s_after.failures,
                s_after.last_failure_us,
                s_after.locked,
            )?;
            pos_store::security::set_device_attempts(&tx, d_after.failures, d_after.last_failure_us, d_after.locked)?;
            let ev = Event::new("pin_failed", "refused")
                .actor(staff.id, &staff.name)
                .detail("purpose", purpose)
                .detail("failures", s_after.failures)
                .detail("device_failures", d_after.failures);
            self.auditor.append(&tx, at, &offset, &ev)?;
            if s_after.locked && !staff.pin_locked {
                let ev =
                    Event::new("staff_locked", "ok").subject("staff", staff.id).detail("failures", s_after.failures);
                self.auditor.append(&tx, at, &offset, &ev)?;
            }
            if d_after.locked && !device.locked {
                let ev = Event::new("device_locked", "ok").detail("failures", d_after.failures);
                self.auditor.append(&tx, at, &offset, &ev)?;
            }
            tx.commit().map_err(pos_store::StoreError::from)?;
            self.reload_staff()?;
            if s_after.locked {
                return Err(AppError::new(
                    ErrorCode::AccountLocked,
                    "wrong PIN: this staff member is now locked until a manager unlocks them",
                ));
            }
            let left = policy.staff_lockout.lock_after.saturating_sub(s_after.failures);
            return Err(AppError::new(ErrorCode::WrongPin, format!("wrong PIN ({left} more before the lock)")));
        }
        if staff.pin_failures > 0 || device.failures > 0 {
            let tx = self.store.write()?;
            pos_store::security::set_staff_attempts(&tx, staff.id, 0, None, false)?;
            if device.locked {
                // Only someone who may unlock staff gets here while the device is locked.
                let ev = Event::new("device_unlocked", "ok").actor(staff.id, &staff.name);
                self.auditor.append(&tx, at, &offset, &ev)?;
            }
            pos_store::security::set_device_attempts(&tx, 0, None, false)?;
            tx.commit().map_err(pos_store::StoreError::from)?;
            self.reload_staff()?;
        }
        Ok(staff)
    }

    /// Checks a TOTP code for `staff` and records its step so it is never accepted again.
    fn check_totp(&mut self, staff: &StaffSecurity, code: &str, purpose: &str) -> AppResult<()> {
        let Some(sealed) = &staff.totp_sealed else {
            return Err(AppError::new(
                ErrorCode::TotpNotEnrolled,
                format!("{} has no authenticator enrolled", staff.name),
            ));
        };
        let secret = open_totp(self.store.pin_pepper(), staff.id, sealed)?;
        let now = self.clock.now();
        match totp::verify(&secret, code, unix_secs(now), staff.totp_last_step) {
            Ok(step) => {
                let offset = self.offset(now);
                let tx = self.store.write()?;
                if !pos_store::security::advance_totp_step(&tx, staff.id, step)? {
                    return Err(AppError::new(ErrorCode::WrongTotp, "this code was already used"));
                }
                let ev = Event::new("totp_accepted", "ok").actor(staff.id, &staff.name).detail("purpose", purpose);
                self.auditor.append(&tx, now, &offset, &ev)?;
                tx.commit().map_err(pos_store::StoreError::from)?;
                self.reload_staff()
            }
            Err(e) => {
                let ev = Event::new("totp_failed", "refused")
                    .actor(staff.id, &staff.name)
                    .detail("purpose", purpose)
                    .detail(
                        "why",
                        match e {
                            TotpError::Malformed => "malformed",
                            TotpError::Wrong => "wrong",
                            TotpError::Replayed => "replayed",
                        },
                    );
                Err(self.refuse(ev, AppError::new(ErrorCode::WrongTotp, e.to_string())))
            }
        }
    }

    /// Signs a staff member in with their PIN.
    pub fn sign_in(&mut self, staff_id: i64, pin: &str) -> AppResult<Session> {
        let staff = self.check_fresh_pin(staff_id, pin, "sign_in")?;
        let token = random_u64()?;
        let now = self.now_us();
        self.security
            .sessions
            .insert(token, SessionState { staff_id, last_active_us: now, locked: false, elevated_until_us: None });
        self.audit_alone(Event::new("sign_in", "ok").actor(staff.id, &staff.name))?;
        Ok(Session { token, staff_id, name: staff.name, role: staff.role })
    }

    /// Ends the session. Open orders stay for the next person.
    pub fn sign_out(&mut self, session: &Session) -> AppResult<()> {
        if self.security.sessions.remove(&session.token).is_none() {
            return Err(AppError::new(ErrorCode::NotSignedIn, "not signed in"));
        }
        self.audit_alone(Event::new("sign_out", "ok").actor(session.staff_id, &session.name))?;
        Ok(())
    }

    /// Locks the session now (the cashier steps away). The same PIN unlocks it.
    pub fn lock(&mut self, session: &Session) -> AppResult<()> {
        let state = self
            .security
            .sessions
            .get_mut(&session.token)
            .ok_or_else(|| AppError::new(ErrorCode::NotSignedIn, "not signed in"))?;
        if !state.locked {
            state.locked = true;
            state.elevated_until_us = None;
            self.audit_alone(
                Event::new("session_locked", "ok").actor(session.staff_id, &session.name).detail("cause", "manual"),
            )?;
        }
        Ok(())
    }

    /// Unlocks a locked session with its owner's PIN.
    pub fn unlock(&mut self, session: &Session, pin: &str) -> AppResult<()> {
        if !self.security.sessions.contains_key(&session.token) {
            return Err(AppError::new(ErrorCode::NotSignedIn, "not signed in"));
        }
        self.check_fresh_pin(session.staff_id, pin, "unlock")?;
        let now = self.now_us();
        if let Some(state) = self.security.sessions.get_mut(&session.token) {
            state.locked = false;
            state.last_active_us = now;
        }
        self.audit_alone(Event::new("session_unlocked", "ok").actor(session.staff_id, &session.name))?;
        Ok(())
    }

    /// What the signed-in person may do (for the UI to show or hide).
    pub fn session_view(&mut self, session: &Session) -> AppResult<SessionView> {
        let actor = self.authorize(session, None, "session_view")?;
        let staff = self.staff_row(actor.id).cloned().expect("authorized staff exists");
        let until = self.security.sessions.get(&session.token).and_then(|s| s.elevated_until_us);
        let now = self.now_us();
        Ok(SessionView {
            staff_id: actor.id,
            name: actor.name,
            role: staff.role.clone(),
            permissions: actor.perms.names().into_iter().map(String::from).collect(),
            max_discount_bp: actor.max_discount_bp,
            totp_enrolled: staff.totp_sealed.is_some(),
            elevated_until: until
                .filter(|u| *u > now)
                .map(|u| self.local(Timestamp::from_microsecond(u).unwrap_or(Timestamp::UNIX_EPOCH))),
        })
    }

    /// Opens back-office actions for a while: the session's own PIN, freshly, and a current
    /// authenticator code.
    pub fn elevate(&mut self, session: &Session, pin: &str, code: &str) -> AppResult<SessionView> {
        self.authorize(session, None, "elevate")?;
        let staff = self.check_fresh_pin(session.staff_id, pin, "elevate")?;
        self.check_totp(&staff, code, "elevate")?;
        let until = self.now_us() + i64::from(self.policy.elevation_secs) * 1_000_000;
        if let Some(state) = self.security.sessions.get_mut(&session.token) {
            state.elevated_until_us = Some(until);
        }
        self.audit_alone(Event::new("elevated", "ok").actor(staff.id, &staff.name))?;
        self.session_view(session)
    }

    /// Refuses (and audits) a back-office step taken without PIN + TOTP just now.
    pub(crate) fn require_elevated(&mut self, session: &Session, actor: &Actor, op: &str) -> AppResult<()> {
        if self.session_elevated(session) {
            return Ok(());
        }
        let ev = Event::new("permission_denied", "refused")
            .actor(actor.id, &actor.name)
            .detail("operation", op)
            .detail("why", "not_elevated");
        Err(self.refuse(
            ev,
            AppError::new(
                ErrorCode::ElevationRequired,
                "a back-office action: enter your PIN and a current authenticator code first",
            ),
        ))
    }

    fn session_elevated(&self, session: &Session) -> bool {
        let now = self.now_us();
        self.security.sessions.get(&session.token).and_then(|s| s.elevated_until_us).is_some_and(|u| now < u)
    }

    // ---- overrides ---------------------------------------------------------------------------

    fn amount_text(&self, action: &OverrideAction) -> String {
        if action.kind.amount_is_basis_points() {
            let bp = action.amount;
            if bp % 100 == 0 { format!("{}%", bp / 100) } else { format!("{}.{:02}%", bp / 100, bp % 100) }
        } else {
            format!("{} {}", format_minor(action.amount, self.venue.currency), self.venue.currency)
        }
    }

    /// Whether `action` may go ahead for `actor`: `Ok(None)` on their own authority, `Ok(Some)`
    /// with a manager's unused grant for exactly this action, or an `approval_required` error
    /// carrying a new request.
    pub(crate) fn require_override(&mut self, actor: &Actor, action: OverrideAction) -> AppResult<Option<Approval>> {
        if decide(&self.policy.overrides, actor.perms, actor.max_discount_bp, &action) == Decision::Proceed {
            return Ok(None);
        }
        let now = self.now_us();
        if let Some(g) = self.security.grants.iter().find(|g| g.grant.permits(&action, actor.id, now)) {
            return Ok(Some(Approval {
                grant_id: g.id.clone(),
                approver_id: g.grant.approved_by,
                approver_name: self.staff_row(g.grant.approved_by).map_or_else(String::new, |s| s.name.clone()),
                reason: g.grant.reason.clone(),
            }));
        }
        // One open request per requester and action: asking again replaces it.
        self.security.pending.retain(|p| !(p.requested_by == actor.id && p.action == action));
        let id = uuid::Uuid::now_v7().to_string();
        let expires = now + i64::from(self.policy.overrides.grant_ttl_secs) * 1_000_000;
        let approvers = self
            .staff
            .iter()
            .filter(|s| {
                s.active
                    && !s.pin_locked
                    && s.id != actor.id
                    && may_approve(Permissions::from_bits(s.permissions), action.kind)
            })
            .map(|s| ApproverView {
                id: s.id,
                name: s.name.clone(),
                role: s.role.clone(),
                totp_required: s.totp_required || action.kind == OverrideKind::ReopenDay,
            })
            .collect();
        let view = ApprovalRequestView {
            request_id: id.clone(),
            action: action.kind.as_str().into(),
            amount: action.amount,
            amount_text: self.amount_text(&action),
            subject: action.subject.clone(),
            requested_by: actor.name.clone(),
            reasons: action.kind.reasons().iter().map(|r| (*r).to_owned()).collect(),
            approvers,
            expires_at: self.local(Timestamp::from_microsecond(expires).unwrap_or(Timestamp::UNIX_EPOCH)),
        };
        self.security.pending.push(PendingApproval { id, action, requested_by: actor.id, expires_at_us: expires });
        Err(AppError::approval_required(view))
    }

    /// Uses up a grant once the action it allowed has committed.
    pub(crate) fn consume(&mut self, approval: Option<&Approval>) {
        if let Some(a) = approval {
            self.security.grants.retain(|g| g.id != a.grant_id);
        }
    }

    fn override_event(&self, name: &str, outcome: &str, action: &OverrideAction, requester: i64) -> Event {
        let requester_name = self.staff_row(requester).map_or_else(String::new, |s| s.name.clone());
        let mut ev = Event::new(name, outcome)
            .actor(requester, &requester_name)
            .subject("target", action.subject.clone())
            .detail("override", action.kind.as_str());
        if action.kind.amount_is_basis_points() {
            ev = ev.detail("basis_points", action.amount);
        } else {
            ev = ev.amount(action.amount, &self.venue.currency.to_string());
        }
        ev
    }

    /// Expired requests and grants are dropped and audited as abandoned.
    fn sweep_approvals(&mut self) {
        let now = self.now_us();
        let (expired_requests, live): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.security.pending).into_iter().partition(|p| p.expires_at_us <= now);
        self.security.pending = live;
        let (expired_grants, live): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.security.grants).into_iter().partition(|g| g.grant.expires_at_us <= now);
        self.security.grants = live;
        for p in expired_requests {
            let ev = self.override_event("override_abandoned", "expired", &p.action, p.requested_by);
            let _ = self.audit_alone(ev.subject("request", p.id).detail("stage", "request"));
        }
        for g in expired_grants {
            let ev = self.override_event("override_abandoned", "expired", &g.grant.action, g.grant.requested_by);
            let approver = self.staff_row(g.grant.approved_by).map_or_else(String::new, |s| s.name.clone());
            let ev = ev.approver(g.grant.approved_by, &approver).subject("request", g.id).detail("stage", "granted");
            let _ = self.audit_alone(ev);
        }
    }

    fn take_pending(&mut self, session: &Session, request_id: &str) -> AppResult<PendingApproval> {
        self.sweep_approvals();
        let i = self
            .security
            .pending
            .iter()
            .position(|p| p.id == request_id && p.requested_by == session.staff_id)
            .ok_or_else(|| AppError::not_found("no such approval request (it may have expired): ask again"))?;
        Ok(self.security.pending[i].clone())
    }

    /// A manager approves a pending request at the requester's register: their own PIN, typed
    /// now (an open session does not count), plus a code where required. The grant works once,
    /// for exactly that action and amount, within the policy's time.
    pub fn approve(
        &mut self,
        session: &Session,
        request_id: &str,
        approver_id: i64,
        pin: &str,
        totp_code: Option<&str>,
        reason: &str,
    ) -> AppResult<ApprovalGrantView> {
        self.authorize(session, None, "approve")?;
        let req = self.take_pending(session, request_id)?;
        let refused = |reg: &Register, why: &str| {
            reg.override_event("override_approved", "refused", &req.action, req.requested_by)
                .subject("request", req.id.clone())
                .detail("why", why.to_owned())
        };
        if approver_id == req.requested_by {
            let ev = refused(self, "self_approval");
            return Err(self.refuse(
                ev,
                AppError::new(ErrorCode::PermissionDenied, "a request cannot be approved by the person who made it"),
            ));
        }
        if !req.action.kind.reasons().contains(&reason) {
            return Err(AppError::invalid(format!("pick a reason: {}", req.action.kind.reasons().join(", "))));
        }
        let approver = self.check_fresh_pin(approver_id, pin, "approve")?;
        if !may_approve(Permissions::from_bits(approver.permissions), req.action.kind) {
            let ev = refused(self, "not_an_approver").approver(approver.id, &approver.name);
            return Err(self.refuse(
                ev,
                AppError::new(ErrorCode::PermissionDenied, format!("{} may not approve this", approver.name)),
            ));
        }
        if approver.totp_required || req.action.kind == OverrideKind::ReopenDay {
            let code = totp_code.ok_or_else(|| {
                AppError::new(ErrorCode::WrongTotp, format!("{} must also enter an authenticator code", approver.name))
            })?;
            self.check_totp(&approver, code, "approve")?;
        }
        let expires = self.now_us() + i64::from(self.policy.overrides.grant_ttl_secs) * 1_000_000;
        let grant = Grant {
            action: req.action.clone(),
            requested_by: req.requested_by,
            approved_by: approver.id,
            reason: reason.to_owned(),
            expires_at_us: expires,
        };
        let ev = self
            .override_event("override_approved", "approved", &req.action, req.requested_by)
            .approver(approver.id, &approver.name)
            .subject("request", req.id.clone())
            .reason(reason);
        self.audit_alone(ev)?;
        self.security.pending.retain(|p| p.id != req.id);
        self.security.grants.push(ActiveGrant { id: req.id.clone(), grant });
        Ok(ApprovalGrantView {
            request_id: req.id,
            action: req.action.kind.as_str().into(),
            amount_text: self.amount_text(&req.action),
            approved_by: approver.name,
            reason: reason.to_owned(),
            expires_at: self.local(Timestamp::from_microsecond(expires).unwrap_or(Timestamp::UNIX_EPOCH)),
        })
    }

    /// A manager refuses a pending request (with their PIN, so the denial is theirs).
    pub fn deny(&mut self, session: &Session, request_id: &str, approver_id: i64, pin: &str) -> AppResult<()> {
        self.authorize(session, None, "deny")?;
        let req = self.take_pending(session, request_id)?;
        let approver = self.check_fresh_pin(approver_id, pin, "deny")?;
        if approver.id == req.requested_by
            || !may_approve(Permissions::from_bits(approver.permissions), req.action.kind)
        {
            let ev = self
                .override_event("override_denied", "refused", &req.action, req.requested_by)
                .approver(approver.id, &approver.name)
                .subject("request", req.id.clone());
            return Err(self.refuse(
                ev,
                AppError::new(ErrorCode::PermissionDenied, format!("{} may not decide on this request", approver.name)),
            ));
        }
        let ev = self
            .override_event("override_denied", "denied", &req.action, req.requested_by)
            .approver(approver.id, &approver.name)
            .subject("request", req.id.clone());
        self.audit_alone(ev)?;
        self.security.pending.retain(|p| p.id != req.id);
        Ok(())
    }

    /// The requester gives up on a pending request.
    pub fn cancel_approval(&mut self, session: &Session, request_id: &str) -> AppResult<()> {
        self.authorize(session, None, "cancel_approval")?;
        let req = self.take_pending(session, request_id)?;
        let ev = self
            .override_event("override_abandoned", "cancelled", &req.action, req.requested_by)
            .subject("request", req.id.clone());
        self.audit_alone(ev)?;
        self.security.pending.retain(|p| p.id != req.id);
        Ok(())
    }

    // ---- staff administration (back office) ------------------------------------------------

    fn admin_view(s: &StaffSecurity) -> StaffAdminView {
        StaffAdminView {
            id: s.id,
            name: s.name.clone(),
            role: s.role.clone(),
            active: s.active,
            permissions: Permissions::from_bits(s.permissions).names().into_iter().map(String::from).collect(),
            max_discount_bp: s.max_discount_bp,
            pin_locked: s.pin_locked,
            pin_failures: s.pin_failures,
            totp_enrolled: s.totp_sealed.is_some(),
            totp_required: s.totp_required,
        }
    }

    pub fn staff_admin(&mut self, session: &Session) -> AppResult<Vec<StaffAdminView>> {
        self.authorize(session, Some(Permission::ManageStaff), "staff_list")?;
        Ok(self.staff.iter().map(Self::admin_view).collect())
    }

    /// Nobody hands out a permission they do not hold themselves.
    fn check_no_escalation(&mut self, actor: &Actor, wanted: Permissions, op: &str) -> AppResult<()> {
        let beyond: Vec<&str> = wanted.iter().filter(|p| !actor.perms.contains(*p)).map(Permission::as_str).collect();
        if beyond.is_empty() {
            return Ok(());
        }
        let ev = Event::new("permission_denied", "refused")
            .actor(actor.id, &actor.name)
            .detail("operation", op)
            .detail("why", "beyond_own_permissions")
            .detail("permissions", beyond.join(","));
        Err(self.refuse(
            ev,
            AppError::new(
                ErrorCode::PermissionDenied,
                format!("{} cannot grant permissions they do not hold: {}", actor.name, beyond.join(", ")),
            ),
        ))
    }

    pub fn add_staff(
        &mut self,
        session: &Session,
        name: &str,
        access: &StaffAccess,
        pin: &str,
    ) -> AppResult<StaffAdminView> {
        let actor = self.authorize(session, Some(Permission::ManageStaff), "staff_added")?;
        let name = clean_name(name)?;
        pin::check_pin_format(pin)?;
        check_discount_limit(access.max_discount_bp)?;
        self.check_no_escalation(&actor, access.permissions, "staff_added")?;
        let hash = pin::hash_pin(self.store.pin_pepper(), pin)?;
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        let id = pos_store::security::insert_staff(
            &tx,
            &NewStaff {
                name: &name,
                role: access.role.as_str(),
                pin_hash: &hash,
                permissions: access.permissions.bits(),
                max_discount_bp: access.max_discount_bp,
                totp_required: access.totp_required,
            },
        )?;
        let ev = Event::new("staff_added", "ok")
            .actor(actor.id, &actor.name)
            .subject("staff", id)
            .detail("name", name.clone())
            .detail("role", access.role.as_str())
            .detail("permissions", access.permissions.names().join(","))
            .detail("max_discount_bp", access.max_discount_bp);
        self.auditor.append(&tx, now, &offset, &ev)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        self.reload_staff()?;
        Ok(Self::admin_view(self.staff_row(id).expect("just added")))
    }

    fn target_staff(&self, id: i64) -> AppResult<StaffSecurity> {
        self.staff_row(id).cloned().ok_or_else(|| AppError::not_found(format!("no staff member #{id}")))
    }

    /// Whether, after a change, someone active could still manage staff.
    fn keeps_a_staff_manager(&self, changed: i64, still_manages: bool) -> bool {
        still_manages
            || self.staff.iter().any(|s| {
                s.id != changed && s.active && Permissions::from_bits(s.permissions).contains(Permission::ManageStaff)
            })
    }

    /// Sets a staff member's role, permission flags, discount limit and TOTP requirement.
    pub fn set_staff_access(
        &mut self,
        session: &Session,
        staff_id: i64,
        access: &StaffAccess,
    ) -> AppResult<StaffAdminView> {
        let actor = self.authorize(session, Some(Permission::ManageStaff), "staff_changed")?;
        let target = self.target_staff(staff_id)?;
        check_discount_limit(access.max_discount_bp)?;
        let before = Permissions::from_bits(target.permissions);
        self.check_no_escalation(&actor, before, "staff_changed")?;
        // Only what changes must be within the actor's own permissions.
        let added = Permissions::from_bits(access.permissions.bits() & !before.bits());
        let removed = Permissions::from_bits(before.bits() & !access.permissions.bits());
        self.check_no_escalation(&actor, Permissions::from_bits(added.bits() | removed.bits()), "staff_changed")?;
        if !self.keeps_a_staff_manager(staff_id, access.permissions.contains(Permission::ManageStaff) && target.active)
        {
            return Err(AppError::conflict("nobody would be left who can manage staff"));
        }
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        pos_store::security::set_permissions(
            &tx,
            staff_id,
            access.role.as_str(),
            access.permissions.bits(),
            access.max_discount_bp,
            access.totp_required,
        )?;
        let ev = Event::new("staff_changed", "ok")
            .actor(actor.id, &actor.name)
            .subject("staff", staff_id)
            .detail("role_before", target.role.clone())
            .detail("role", access.role.as_str())
            .detail("granted", added.names().join(","))
            .detail("revoked", removed.names().join(","))
            .detail("max_discount_bp", access.max_discount_bp)
            .detail("totp_required", access.totp_required);
        self.auditor.append(&tx, now, &offset, &ev)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        self.reload_staff()?;
        Ok(Self::admin_view(self.staff_row(staff_id).expect("exists")))
    }

    pub fn reset_pin(&mut self, session: &Session, staff_id: i64, new_pin: &str) -> AppResult<()> {
        let actor = self.authorize(session, Some(Permission::ManageStaff), "pin_reset")?;
        let target = self.target_staff(staff_id)?;
        // Resetting someone's PIN lets you act as them: only over people you out-rank.
        self.check_no_escalation(&actor, Permissions::from_bits(target.permissions), "pin_reset")?;
        let hash = pin::hash_pin(self.store.pin_pepper(), new_pin)?;
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        pos_store::security::set_pin_hash(&tx, staff_id, &hash)?;
        pos_store::security::set_staff_attempts(&tx, staff_id, 0, None, false)?;
        let ev = Event::new("pin_reset", "ok").actor(actor.id, &actor.name).subject("staff", staff_id);
        self.auditor.append(&tx, now, &offset, &ev)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        self.reload_staff()
    }

    pub fn set_staff_active(&mut self, session: &Session, staff_id: i64, active: bool) -> AppResult<()> {
        let actor = self.authorize(session, Some(Permission::ManageStaff), "staff_changed")?;
        let target = self.target_staff(staff_id)?;
        self.check_no_escalation(&actor, Permissions::from_bits(target.permissions), "staff_changed")?;
        if !active && !self.keeps_a_staff_manager(staff_id, false) {
            return Err(AppError::conflict("nobody would be left who can manage staff"));
        }
        if target.id == actor.id && !active {
            return Err(AppError::conflict("you cannot deactivate yourself"));
        }
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        pos_store::security::set_active(&tx, staff_id, active)?;
        let ev = Event::new(if active { "staff_activated" } else { "staff_deactivated" }, "ok")
            .actor(actor.id, &actor.name)
            .subject("staff", staff_id);
        self.auditor.append(&tx, now, &offset, &ev)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        self.reload_staff()?;
        if !active {
            self.security.sessions.retain(|_, s| s.staff_id != staff_id);
        }
        Ok(())
    }

    /// Lifts a staff member's PIN lock (a manager or the owner at the register).
    pub fn unlock_staff(&mut self, session: &Session, staff_id: i64) -> AppResult<()> {
        let actor = self.authorize(session, Some(Permission::UnlockStaff), "staff_unlocked")?;
        self.target_staff(staff_id)?;
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        pos_store::security::set_staff_attempts(&tx, staff_id, 0, None, false)?;
        let ev = Event::new("staff_unlocked", "ok").actor(actor.id, &actor.name).subject("staff", staff_id);
        self.auditor.append(&tx, now, &offset, &ev)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        self.reload_staff()
    }

    /// Starts TOTP enrolment: your own while you have none, anyone's with back-office access.
    pub fn begin_totp_enrolment(&mut self, session: &Session, staff_id: i64) -> AppResult<TotpEnrolmentView> {
        let own_first =
            staff_id == session.staff_id && self.staff_row(staff_id).is_some_and(|s| s.totp_sealed.is_none());
        let perm = if own_first { None } else { Some(Permission::ManageStaff) };
        let actor = self.authorize(session, perm, "totp_enrolment")?;
        let target = self.target_staff(staff_id)?;
        if !own_first {
            self.check_no_escalation(&actor, Permissions::from_bits(target.permissions), "totp_enrolment")?;
        }
        let mut secret = Zeroizing::new(vec![0u8; totp::SECRET_LEN]);
        getrandom::fill(&mut secret[..]).map_err(|e| AppError::new(ErrorCode::Internal, format!("random: {e}")))?;
        let uri = totp::otpauth_uri(&secret, &self.venue.name, &target.name);
        let view = TotpEnrolmentView {
            staff_id,
            qr_svg: totp::qr_svg(&uri).map_err(|e| AppError::new(ErrorCode::Internal, e))?,
            otpauth_uri: uri,
            secret_base32: totp::secret_base32(&secret),
        };
        self.security.totp_pending.insert(staff_id, secret);
        Ok(view)
    }

    /// Finishes enrolment with a first code from the authenticator.
    pub fn confirm_totp_enrolment(&mut self, session: &Session, staff_id: i64, code: &str) -> AppResult<()> {
        let own_first =
            staff_id == session.staff_id && self.staff_row(staff_id).is_some_and(|s| s.totp_sealed.is_none());
        let perm = if own_first { None } else { Some(Permission::ManageStaff) };
        let actor = self.authorize(session, perm, "totp_enrolment")?;
        let secret = self
            .security
            .totp_pending
            .get(&staff_id)
            .cloned()
            .ok_or_else(|| AppError::not_found("no enrolment in progress for this staff member"))?;
        let now = self.clock.now();
        let step = match totp::verify(&secret, code, unix_secs(now), None) {
            Ok(step) => step,
            Err(e) => {
                let ev = Event::new("totp_enrolled", "refused")
                    .actor(actor.id, &actor.name)
                    .subject("staff", staff_id)
                    .detail("why", "wrong_code");
                return Err(
                    self.refuse(ev, AppError::new(ErrorCode::WrongTotp, format!("{e}: enrolment not finished")))
                );
            }
        };
        let sealed = seal_totp(self.store.pin_pepper(), staff_id, &secret)?;
        let offset = self.offset(now);
        let tx = self.store.write()?;
        pos_store::security::set_totp(&tx, staff_id, Some(&sealed), Some(step))?;
        let ev = Event::new("totp_enrolled", "ok").actor(actor.id, &actor.name).subject("staff", staff_id);
        self.auditor.append(&tx, now, &offset, &ev)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        self.security.totp_pending.remove(&staff_id);
        self.reload_staff()
    }

    // ---- settings ------------------------------------------------------------------------------

    pub fn security_policy(&self) -> SecurityPolicy {
        self.policy
    }

    pub fn set_security_policy(&mut self, session: &Session, policy: &SecurityPolicy) -> AppResult<()> {
        let actor = self.authorize(session, Some(Permission::ManageSettings), "settings_changed")?;
        policy.validate()?;
        let json = serde_json::to_string(policy).expect("policy serialises");
        let before = serde_json::to_value(self.policy).expect("policy serialises");
        let now = self.clock.now();
        let offset = self.offset(now);
        let tx = self.store.write()?;
        pos_store::security::put_setting(&tx, POLICY_SETTING, &json)?;
        let ev = Event::new("settings_changed", "ok")
            .actor(actor.id, &actor.name)
            .subject("setting", POLICY_SETTING)
            .detail("before", before)
            .detail("after", serde_json::to_value(policy).expect("policy serialises"));
        self.auditor.append(&tx, now, &offset, &ev)?;
        tx.commit().map_err(pos_store::StoreError::from)?;
        self.policy = *policy;
        Ok(())
    }

    // ---- the audit chain ---------------------------------------------------------------------

    fn audit_rows(&self) -> AppResult<Vec<Entry>> {
        let mut out = Vec::new();
        let mut from = 1;
        loop {
            let rows = pos_store::security::audit_entries(self.store.conn(), from, 50_000)?;
            let Some(last) = rows.last() else { break };
            from = last.seq + 1;
            out.extend(rows.into_iter().map(|r| Entry {
                seq: r.seq,
                body: r.body,
                hash: r.hash,
                signature: r.signature,
            }));
        }
        Ok(out)
    }

    /// Checks the whole chain: sequence, links, hashes and signatures with the device key from
    /// the credential store. Changes nothing; needs no sign-in (it reveals no entry). Reads the
    /// chain a chunk at a time, each chunk anchored on the last entry of the one before, so memory
    /// stays flat however long the chain grows.
    pub fn verify_audit(&self) -> AppResult<AuditVerifyView> {
        const CHUNK: i64 = 20_000;
        let stored_key = pos_store::security::audit_public_key(self.store.conn())?;
        let key = self.auditor.public_key_hex();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut pk = [0u8; 32];
        hex::decode_to_slice(&key, &mut pk).expect("our own key is 32 bytes");
        let mut anchor = pos_audit::Anchor::genesis();
        let mut v =
            pos_audit::Verification { entries: 0, first_seq: None, last_seq: None, last_hash: None, fault: None };
        loop {
            let chunk: Vec<Entry> = pos_store::security::audit_entries(self.store.conn(), anchor.next_seq, CHUNK)?
                .into_iter()
                .map(|r| Entry { seq: r.seq, body: r.body, hash: r.hash, signature: r.signature })
                .collect();
            if chunk.is_empty() {
                break;
            }
            let part = pos_audit::verify(&chunk, &anchor, self.auditor.device(), &pk, None, threads);
            v.entries += part.entries;
            v.first_seq = v.first_seq.or(part.first_seq);
            v.last_seq = part.last_seq;
            v.last_hash = part.last_hash.clone();
            if part.fault.is_some() {
                v.fault = part.fault;
                break;
            }
            let last = chunk.last().expect("not empty");
            anchor = pos_audit::Anchor { next_seq: last.seq + 1, prev_hash: last.hash.clone() };
        }
        let mut fault = v.fault;
        if fault.is_none() && stored_key.as_deref() != Some(key.as_str()) {
            fault = Some(pos_audit::Fault {
                seq: 1,
                kind: pos_audit::FaultKind::BadSignature,
                detail: "the public key recorded in the store is not this device's key".into(),
            });
        }
        Ok(AuditVerifyView {
            ok: fault.is_none(),
            device: self.auditor.device().to_owned(),
            public_key: key,
            entries: v.entries,
            last_seq: v.last_seq,
            last_hash: v.last_hash,
            fault,
        })
    }

    /// The chain for an auditor (back office). The export itself is audited.
    pub fn export_audit(&mut self, session: &Session) -> AppResult<AuditExportView> {
        let actor = self.authorize(session, Some(Permission::ViewAuditLog), "audit_export")?;
        let entries = self.audit_rows()?;
        let ev = Event::new("audit_export", "ok")
            .actor(actor.id, &actor.name)
            .detail("entries", entries.len() as u64)
            .detail("last_seq", entries.last().map_or(0, |e| e.seq));
        self.audit_alone(ev)?;
        Ok(AuditExportView {
            format: "pos-audit-chain/1",
            device: self.auditor.device().to_owned(),
            public_key: self.auditor.public_key_hex(),
            entries,
        })
    }
}

fn clean_name(name: &str) -> AppResult<String> {
    let n: String = name.trim().chars().filter(|c| !c.is_control()).take(80).collect();
    if n.is_empty() {
        return Err(AppError::invalid("a staff member needs a name"));
    }
    Ok(n)
}

fn check_discount_limit(bp: u32) -> AppResult<()> {
    if bp > 10_000 {
        return Err(AppError::invalid("a discount limit is at most 100%"));
    }
    Ok(())
}
