//! Owners' and managers' sign-in to the cloud service.
//!
//! - Passwords: at least 12 characters with at least three of four character classes, refused
//!   when a breached-password corpus ([`crate::breach`]) or the bundled common list knows them;
//!   stored as Argon2id (m=19456 KiB, t=2, p=1, OWASP's minimum).
//! - TOTP (RFC 6238: SHA-1, 6 digits, 30 s, one step either side): required for owners, optional
//!   for managers; a step is never accepted twice (`totp_last_step`).
//! - Sign-in is limited twice, independently: per account (5 consecutive failures lock it for
//!   15 minutes, even for the right password) and per client address (20 failures in a 15-minute
//!   window answer 429 for any email). Unknown emails get the same answer as wrong passwords, after
//!   the same Argon2 work.
//! - Sessions: a random bearer token of which only the SHA-256 is stored; they end when signed
//!   out, revoked from another session, idle for `Config::session_idle_seconds`, or
//!   [`SESSION_MAX_SECONDS`] after sign-in. The [`Owner`] extractor authenticates a request.
//!
//! The tenant of a request comes only from the session (or, at sign-in, from the email through the
//! `owner_tenant` lookup), never from the path, query or body.

use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, Params, Version};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_postgres::Client;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::http::{bearer, now_unix};
use crate::state::{AppState, Config};

/// Shortest password accepted, in characters.
pub const PASSWORD_MIN_CHARS: usize = 12;
/// Longest password accepted, in bytes (a bound on work, far above any passphrase).
pub const PASSWORD_MAX_BYTES: usize = 1024;
/// Consecutive failed sign-ins that lock an account...
pub const ACCOUNT_MAX_FAILURES: i32 = 5;
/// ...for this long.
pub const ACCOUNT_LOCK_SECONDS: i64 = 15 * 60;
/// Failed sign-ins from one address (an IPv4 address or an IPv6 /64) within one window...
pub const IP_MAX_FAILURES: i32 = 20;
/// ...of this length, after which that address gets 429 until the window ends.
pub const IP_WINDOW_SECONDS: i64 = 15 * 60;
/// A session ends this long after sign-in however active it is.
pub const SESSION_MAX_SECONDS: i64 = 12 * 60 * 60;
/// The issuer authenticator apps show next to the account.
pub const TOTP_ISSUER: &str = "POS Cloud";
/// 160 bits, as RFC 4226 recommends.
const TOTP_SECRET_BYTES: usize = 20;

pub fn routes() -> Router<AppState> {
    // Compute the stand-in hash now, so the first sign-in with an unknown email costs what any
    // other does.
    let _ = dummy_hash();
    Router::new()
        .route("/v1/owner/login", post(login))
        .route("/v1/owner/logout", post(logout))
        .route("/v1/owner/sessions", get(list_sessions))
        .route("/v1/owner/sessions/revoke", post(revoke_session))
}

// ---------------------------------------------------------------------------------------------
// Roles, emails, passwords
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Manager,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Manager => "manager",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text.trim().to_ascii_lowercase().as_str() {
            "owner" => Some(Role::Owner),
            "manager" => Some(Role::Manager),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An email as stored and looked up: trimmed and lower-cased; `None` when it is not plausibly
/// an address (one `@`, something either side, a dot in the domain, no spaces or controls).
pub fn normalise_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    plausible.then_some(email)
}

/// The password rules that need no lookup: length and character classes, and not built on the
/// email's name. The error is a sentence for the person choosing the password.
pub fn password_policy(password: &str, email: &str) -> Result<(), String> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(format!("a password needs at least {PASSWORD_MIN_CHARS} characters"));
    }
    if password.len() > PASSWORD_MAX_BYTES {
        return Err(format!("a password may be at most {PASSWORD_MAX_BYTES} bytes long"));
    }
    let (mut lower, mut upper, mut digit, mut other) = (false, false, false, false);
    for c in password.chars() {
        if c.is_lowercase() {
            lower = true;
        } else if c.is_uppercase() {
            upper = true;
        } else if c.is_ascii_digit() {
            digit = true;
        } else {
            other = true;
        }
    }
    if [lower, upper, digit, other].into_iter().filter(|&x| x).count() < 3 {
        return Err("a password needs at least three of: lower-case letters, upper-case letters, digits, \
                    other characters"
            .to_owned());
    }
    let name = email.split('@').next().unwrap_or_default().to_lowercase();
    if name.chars().count() >= 4 && password.to_lowercase().contains(&name) {
        return Err("a password must not contain the name of the email address".to_owned());
    }
    Ok(())
}

/// Every check a new password must pass: [`password_policy`], then the breached-password range
/// API (`Config::breached_password_api`) and the bundled list of common passwords.
pub async fn check_new_password(password: &str, email: &str, config: &Config) -> Result<(), OwnerError> {
    password_policy(password, email).map_err(OwnerError::WeakPassword)?;
    if crate::breach::check(password, config.breached_password_api.as_deref()).await.breached {
        return Err(OwnerError::BreachedPassword);
    }
    Ok(())
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("OWASP's Argon2 parameters are valid");
    Argon2::new(argon2::Algorithm::Argon2id, Version::V0x13, params)
}

/// An Argon2id PHC string for `password` with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, OwnerError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| OwnerError::Internal(format!("random salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| OwnerError::Internal(format!("salt: {e}")))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| OwnerError::Internal(format!("password hash: {e}")))
}

/// Whether `password` matches the PHC string `hash` (with the parameters the hash names).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash of nothing anyone knows, verified against when there is no account, so that unknown
/// emails take as long as wrong passwords.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        // Same parameters as every account's hash; salt and password are irrelevant, since the
        // result of verifying against it is thrown away.
        let salt = SaltString::from_b64("cG9zY2xvdWRkdW1teXNhbHQ").expect("a valid salt");
        argon2().hash_password(b"no account has this password", &salt).expect("hashing works").to_string()
    })
}

/// Argon2 off the async workers.
async fn verify_blocking(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&hash, &password)).await.unwrap_or(false)
}

// ---------------------------------------------------------------------------------------------
// TOTP
// ---------------------------------------------------------------------------------------------

/// The code for the step holding `unix_seconds` (for tests and tools): pos-auth's RFC 6238 code,
/// the same rules as at the register (SHA-1, 6 digits, 30 s).
pub fn totp_code(secret: &[u8], unix_seconds: u64) -> String {
    pos_auth::totp::code_at(secret, unix_seconds)
}

/// The step `code` belongs to, checking the current step and one either side; `None` when it
/// matches none of them or its step is not after `last_step` (a replay).
fn totp_step(secret: &[u8], code: &str, unix_seconds: u64, last_step: Option<i64>) -> Option<i64> {
    let last = last_step.map(|l| u64::try_from(l).unwrap_or(0));
    pos_auth::totp::verify(secret, code, unix_seconds, last).ok().and_then(|step| i64::try_from(step).ok())
}

/// The `otpauth://` URI an authenticator app enrols from.
pub fn otpauth_uri(secret: &[u8], account: &str) -> String {
    pos_auth::totp::otpauth_uri(secret, TOTP_ISSUER, account)
}

// ---------------------------------------------------------------------------------------------
// Creating accounts (the admin command)
// ---------------------------------------------------------------------------------------------

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    #[error("the email address is not valid")]
    InvalidEmail,
    #[error("the role must be \"owner\" or \"manager\"")]
    InvalidRole,
    #[error("{0}")]
    WeakPassword(String),
    #[error("this password appears in a list of breached or common passwords; choose another")]
    BreachedPassword,
    #[error("an account with this email address already exists")]
    EmailTaken,
    #[error("no such tenant")]
    UnknownTenant,
    #[error("no such account in this tenant")]
    UnknownAccount,
    #[error("database: {0}")]
    Database(String),
    #[error("{0}")]
    Internal(String),
}

impl From<OwnerError> for ApiError {
    fn from(e: OwnerError) -> ApiError {
        match e {
            OwnerError::InvalidEmail | OwnerError::InvalidRole | OwnerError::WeakPassword(_) => {
                ApiError::invalid(e.to_string())
            }
            OwnerError::BreachedPassword => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "breached_password", e.to_string())
            }
            OwnerError::EmailTaken => ApiError::new(StatusCode::CONFLICT, "email_taken", e.to_string()),
            OwnerError::UnknownTenant | OwnerError::UnknownAccount => ApiError::not_found(e.to_string()),
            OwnerError::Database(_) | OwnerError::Internal(_) => {
                eprintln!("owner: {e}");
                ApiError::internal()
            }
        }
    }
}

/// A new account. `totp_uri` (owners) holds the TOTP secret: show it once, to the person only.
#[derive(Clone, PartialEq, Eq)]
pub struct CreatedOwner {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    /// The `otpauth://` provisioning URI (scan as a QR code, or type its secret); `None` for a
    /// manager, who signs in without TOTP.
    pub totp_uri: Option<String>,
}

impl std::fmt::Debug for CreatedOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedOwner")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("totp_uri", &self.totp_uri.as_ref().map(|_| "otpauth://.."))
            .finish()
    }
}

/// Creates an owner or a manager of `tenant`. The password must pass [`check_new_password`];
/// an owner gets a fresh TOTP secret, returned as a provisioning URI. Run as the database owner
/// (the service role may not create accounts).
pub async fn create_owner(
    client: &mut Client,
    tenant: Uuid,
    email: &str,
    password: &str,
    role: &str,
    config: &Config,
) -> Result<CreatedOwner, OwnerError> {
    let email = normalise_email(email).ok_or(OwnerError::InvalidEmail)?;
    let role = Role::parse(role).ok_or(OwnerError::InvalidRole)?;
    check_new_password(password, &email, config).await?;
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| OwnerError::Internal(e.to_string()))??;
    let secret = match role {
        Role::Owner => Some(new_totp_secret()?),
        Role::Manager => None,
    };
    let id = Uuid::new_v4();
    let tx = db::tenant_tx(client, tenant).await.map_err(|e| OwnerError::Database(e.message))?;
    tx.execute(
        "INSERT INTO owners (tenant_id, id, email, role, password_hash, totp_secret) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&tenant, &id, &email, &role.as_str(), &hash, &secret],
    )
    .await
    .map_err(|e| match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => OwnerError::EmailTaken,
        Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => OwnerError::UnknownTenant,
        _ => OwnerError::Database(db::describe(&e)),
    })?;
    tx.commit().await.map_err(|e| OwnerError::Database(db::describe(&e)))?;
    let totp_uri = secret.map(|s| otpauth_uri(&s, &email));
    Ok(CreatedOwner { id, email, role, totp_uri })
}

fn new_totp_secret() -> Result<Vec<u8>, OwnerError> {
    let mut secret = vec![0u8; TOTP_SECRET_BYTES];
    getrandom::fill(&mut secret).map_err(|e| OwnerError::Internal(format!("random secret: {e}")))?;
    Ok(secret)
}

/// Gives the account `email` of `tenant` a fresh TOTP secret and returns its provisioning URI:
/// enrols a manager (who then needs a code to sign in), or replaces an owner's lost
/// authenticator. The previous secret stops working at once. Run as the database owner.
pub async fn enable_totp(client: &mut Client, tenant: Uuid, email: &str) -> Result<String, OwnerError> {
    let email = normalise_email(email).ok_or(OwnerError::InvalidEmail)?;
    let secret = new_totp_secret()?;
    let tx = db::tenant_tx(client, tenant).await.map_err(|e| OwnerError::Database(e.message))?;
    let n = tx
        // The tenant is named as well as set: an admin connection may be a superuser, which
        // row-level security does not restrict.
        .execute(
            "UPDATE owners SET totp_secret = $2, totp_last_step = NULL WHERE email = $1 AND tenant_id = $3",
            &[&email, &secret, &tenant],
        )
        .await
        .map_err(|e| OwnerError::Database(db::describe(&e)))?;
    if n == 0 {
        return Err(OwnerError::UnknownAccount);
    }
    tx.commit().await.map_err(|e| OwnerError::Database(db::describe(&e)))?;
    Ok(otpauth_uri(&secret, &email))
}

// ---------------------------------------------------------------------------------------------
// Sign-in
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Serialize, Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// The 6-digit code; required for owners and for managers who enrolled TOTP.
    #[serde(default)]
    pub totp: Option<String>,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest").field("email", &self.email).finish_non_exhaustive()
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <session_token>`.
    pub session_token: String,
    /// The session ends after this many seconds without a request.
    pub expires_idle_s: u64,
}

impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginResponse").field("expires_idle_s", &self.expires_idle_s).finish_non_exhaustive()
    }
}

/// One answer for an unknown email, a wrong password, a wrong or replayed code and a locked
/// account, so that none of them tells an attacker which it was.
fn bad_credentials() -> ApiError {
    ApiError::unauthorized(
        "the email, password or code is wrong, or the account is locked for a while after repeated failures",
    )
}

/// The key the per-address limit counts under: an IPv4 address (also when mapped into IPv6), or
/// the /64 prefix of an IPv6 address (one subscriber usually holds a whole /64).
pub fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The client behind a request: its peer, unless the peer is a trusted proxy, in which case the
/// nearest address in `X-Forwarded-For` that is not itself a trusted proxy. Entries left of an
/// unreadable one are not believed (anyone can write them), so such a request counts for its
/// proxy's address.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let canonical = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| canonical(*t) == canonical(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if is_trusted(ip) => continue,
            Ok(ip) => return ip,
            Err(_) => return peer,
        }
    }
    peer
}

/// Counts an attempt from `ip` before it is made, so that concurrent attempts cannot slip past
/// the limit together; `false` when the address is over its limit for the current window (that
/// attempt is then not counted). A failure keeps its count; [`release_ip_attempt`] gives back the
/// count of an attempt that did not fail.
async fn reserve_ip_attempt(client: &Client, ip: &str) -> ApiResult<bool> {
    let failures: i32 = client
        .query_one(
            "INSERT INTO login_attempts_ip AS a (ip, window_start, failures) VALUES ($1, now(), 1) \
             ON CONFLICT (ip) DO UPDATE SET \
               failures = CASE WHEN a.window_start <= now() - $2::bigint * interval '1 second' \
                               THEN 1 ELSE a.failures + 1 END, \
               window_start = CASE WHEN a.window_start <= now() - $2::bigint * interval '1 second' \
                                   THEN now() ELSE a.window_start END \
             RETURNING failures",
            &[&ip, &IP_WINDOW_SECONDS],
        )
        .await?
        .get(0);
    // Now and then, forget windows that ended long ago.
    let mut dice = [0u8; 1];
    if getrandom::fill(&mut dice).is_ok() && dice[0] == 0 {
        client.execute("DELETE FROM login_attempts_ip WHERE window_start < now() - interval '1 day'", &[]).await?;
    }
    if failures > IP_MAX_FAILURES {
        release_ip_attempt(client, ip).await?;
        return Ok(false);
    }
    Ok(true)
}

async fn release_ip_attempt(client: &Client, ip: &str) -> ApiResult<()> {
    client.execute("UPDATE login_attempts_ip SET failures = greatest(failures - 1, 0) WHERE ip = $1", &[&ip]).await?;
    Ok(())
}

enum Attempt {
    SignedIn(String),
    /// The password was right; the account needs a TOTP code and none was sent.
    TotpRequired,
    Failed,
}

/// `POST /v1/owner/login`.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let ip = ip_key(client_ip(peer.ip(), &headers, &state.config.trusted_proxies));
    let mut client = state.pool.get().await?;
    if !reserve_ip_attempt(&client, &ip).await? {
        return Err(ApiError::too_many("too many failed sign-ins from this address; try again later"));
    }
    let tenant: Option<Uuid> = match normalise_email(&req.email) {
        Some(email) if req.password.len() <= PASSWORD_MAX_BYTES => {
            client.query_one("SELECT owner_tenant($1)", &[&email]).await?.get(0)
        }
        _ => None,
    };
    let attempt = match tenant {
        Some(tenant) => attempt(&mut client, tenant, &req, &ip).await?,
        None => {
            verify_blocking(dummy_hash().to_owned(), req.password.clone()).await;
            Attempt::Failed
        }
    };
    // Only a sign-in gives the address its attempt back. "A code is needed" tells the caller
    // the password was right, so it stays counted like a failure: guessing passwords through it
    // is held to the same per-address limit.
    if matches!(attempt, Attempt::SignedIn(_)) {
        release_ip_attempt(&client, &ip).await?;
    }
    match attempt {
        Attempt::SignedIn(session_token) => {
            Ok(Json(LoginResponse { session_token, expires_idle_s: state.config.session_idle_seconds }))
        }
        Attempt::TotpRequired => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "totp_required",
            "this account needs the 6-digit code from its authenticator app",
        )),
        Attempt::Failed => Err(bad_credentials()),
    }
}

/// One sign-in attempt on an account of `tenant`. The account's row stays locked (FOR UPDATE)
/// for the whole attempt, so concurrent attempts are counted one after another.
async fn attempt(client: &mut Client, tenant: Uuid, req: &LoginRequest, ip: &str) -> ApiResult<Attempt> {
    let email = normalise_email(&req.email).unwrap_or_default();
    let tx = db::tenant_tx(client, tenant).await?;
    let row = tx
        .query_opt(
            "SELECT id, role, password_hash, totp_secret, totp_last_step, coalesce(locked_until > now(), false) \
             FROM owners WHERE email = $1 FOR UPDATE",
            &[&email],
        )
        .await?;
    let Some(row) = row else {
        verify_blocking(dummy_hash().to_owned(), req.password.clone()).await;
        return Ok(Attempt::Failed);
    };
    let id: Uuid = row.get(0);
    let role: String = row.get(1);
    let hash: String = row.get(2);
    let secret: Option<Vec<u8>> = row.get(3);
    let last_step: Option<i64> = row.get(4);
    let locked: bool = row.get(5);

    // The hash is verified whatever else is known, so every failure costs the same.
    let password_ok = verify_blocking(hash, req.password.clone()).await;
    if locked {
        // Not counted again: the lock runs out ACCOUNT_LOCK_SECONDS after it started.
        return Ok(Attempt::Failed);
    }
    if !password_ok {
        count_failure(&tx, id).await?;
        tx.commit().await?;
        return Ok(Attempt::Failed);
    }
    let step = match (&secret, req.totp.as_deref().map(str::trim).filter(|c| !c.is_empty())) {
        (None, _) if role == "owner" => {
            // The schema forbids an owner without a secret; refuse rather than skip MFA.
            eprintln!("owner {id} has no TOTP secret");
            return Err(ApiError::internal());
        }
        (None, _) => None,
        (Some(_), None) => return Ok(Attempt::TotpRequired),
        (Some(secret), Some(code)) => {
            let now = u64::try_from(now_unix()).unwrap_or_default();
            match totp_step(secret, code, now, last_step) {
                Some(step) => Some(step),
                None => {
                    count_failure(&tx, id).await?;
                    tx.commit().await?;
                    return Ok(Attempt::Failed);
                }
            }
        }
    };

    tx.execute(
        "UPDATE owners SET failed_logins = 0, locked_until = NULL, totp_last_step = coalesce($2, totp_last_step) \
         WHERE id = $1",
        &[&id, &step],
    )
    .await?;
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|_| ApiError::internal())?;
    let token = data_encoding::BASE64URL_NOPAD.encode(&raw);
    tx.execute(
        "INSERT INTO owner_sessions (tenant_id, id, token_hash, owner_id, mfa, ip) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&tenant, &Uuid::new_v4(), &session_token_hash(&token), &id, &step.is_some(), &ip],
    )
    .await?;
    tx.commit().await?;
    Ok(Attempt::SignedIn(token))
}

/// One more consecutive failure; the one that reaches the limit locks the account and starts
/// the count again.
async fn count_failure(tx: &tokio_postgres::Transaction<'_>, id: Uuid) -> ApiResult<()> {
    tx.execute(
        "UPDATE owners SET \
           locked_until = CASE WHEN failed_logins + 1 >= $2 \
                               THEN now() + $3::bigint * interval '1 second' ELSE locked_until END, \
           failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END \
         WHERE id = $1",
        &[&id, &ACCOUNT_MAX_FAILURES, &ACCOUNT_LOCK_SECONDS],
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

/// What is stored of a session token: its SHA-256.
pub fn session_token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The signed-in owner or manager behind a request (`Authorization: Bearer <session token>`).
/// Tenant, account and role come from the session alone. Extracting it counts as activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub tenant: Uuid,
    pub owner_id: Uuid,
    pub role: Role,
    /// The session (its id, not its token).
    pub session_id: Uuid,
    /// Whether this session's sign-in passed a TOTP check.
    pub mfa: bool,
}

impl Owner {
    /// Refuses unless this session signed in with TOTP (financial exports require it).
    pub fn require_mfa(&self) -> ApiResult<()> {
        if self.mfa {
            Ok(())
        } else {
            Err(ApiError::forbidden("this needs a session signed in with an authenticator code"))
        }
    }

    /// Refuses unless this is an owner (not a manager).
    pub fn require_owner(&self) -> ApiResult<()> {
        if self.role == Role::Owner { Ok(()) } else { Err(ApiError::forbidden("only an owner may do this")) }
    }
}

impl FromRequestParts<AppState> for Owner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Owner, ApiError> {
        let ended =
            || ApiError::unauthorized("the session has ended (signed out, revoked or idle too long); sign in again");
        let token =
            bearer(parts).ok_or_else(|| ApiError::unauthorized("sign in first: a session token is required"))?;
        if token.is_empty() || token.len() > 128 {
            return Err(ended());
        }
        let hash = session_token_hash(token);
        let mut client = state.pool.get().await?;
        let tenant: Option<Uuid> = client.query_one("SELECT owner_session_tenant($1)", &[&hash]).await?.get(0);
        let tenant = tenant.ok_or_else(ended)?;
        let idle = i64::try_from(state.config.session_idle_seconds).unwrap_or(i64::MAX / 2);
        let tx = db::tenant_tx(&mut client, tenant).await?;
        let row = tx
            .query_opt(
                "UPDATE owner_sessions s SET last_seen_at = now() FROM owners o \
                 WHERE s.token_hash = $1 AND s.revoked_at IS NULL \
                   AND s.last_seen_at > now() - $2::bigint * interval '1 second' \
                   AND s.created_at > now() - $3::bigint * interval '1 second' \
                   AND o.tenant_id = s.tenant_id AND o.id = s.owner_id \
                 RETURNING s.id, s.owner_id, o.role, s.mfa",
                &[&hash, &idle, &SESSION_MAX_SECONDS],
            )
            .await?;
        let row = row.ok_or_else(ended)?;
        tx.commit().await?;
        let role: String = row.get(2);
        Ok(Owner {
            tenant,
            session_id: row.get(0),
            owner_id: row.get(1),
            role: Role::parse(&role).ok_or_else(ApiError::internal)?,
            mfa: row.get(3),
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedOut {
    pub signed_out: bool,
}

/// `POST /v1/owner/logout`: ends the current session.
pub async fn logout(State(state): State<AppState>, owner: Owner) -> ApiResult<Json<SignedOut>> {
    let mut client = state.pool.get().await?;
    let tx = db::tenant_tx(&mut client, owner.tenant).await?;
    tx.execute(
        "UPDATE owner_sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        &[&owner.session_id],
    )
    .await?;
    tx.commit().await?;
    Ok(Json(SignedOut { signed_out: true }))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: Uuid,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub last_seen_at: String,
    pub ip: String,
    pub mfa: bool,
    /// The session this request came with.
    pub current: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
}

fn rfc3339(unix_seconds: i64) -> String {
    jiff::Timestamp::from_second(unix_seconds).map(|t| t.to_string()).unwrap_or_default()
}

/// `GET /v1/owner/sessions`: the caller's own sessions that are still usable, newest first.
pub async fn list_sessions(State(state): State<AppState>, owner: Owner) -> ApiResult<Json<SessionList>> {
    let idle = i64::try_from(state.config.session_idle_seconds).unwrap_or(i64::MAX / 2);
    let mut client = state.pool.get().await?;
    let tx = db::tenant_tx(&mut client, owner.tenant).await?;
    let rows = tx
        .query(
            "SELECT id, extract(epoch FROM created_at)::bigint, extract(epoch FROM last_seen_at)::bigint, ip, mfa \
             FROM owner_sessions \
             WHERE owner_id = $1 AND revoked_at IS NULL \
               AND last_seen_at > now() - $2::bigint * interval '1 second' \
               AND created_at > now() - $3::bigint * interval '1 second' \
             ORDER BY created_at DESC, id",
            &[&owner.owner_id, &idle, &SESSION_MAX_SECONDS],
        )
        .await?;
    tx.commit().await?;
    let sessions = rows
        .iter()
        .map(|r| {
            let id: Uuid = r.get(0);
            SessionInfo {
                id,
                created_at: rfc3339(r.get(1)),
                last_seen_at: rfc3339(r.get(2)),
                ip: r.get(3),
                mfa: r.get(4),
                current: id == owner.session_id,
            }
        })
        .collect();
    Ok(Json(SessionList { sessions }))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RevokeRequest {
    pub session_id: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Revoked {
    pub revoked: Uuid,
}

/// `POST /v1/owner/sessions/revoke`: ends one of the caller's own sessions (for instance one left
/// signed in on another computer).
pub async fn revoke_session(
    State(state): State<AppState>,
    owner: Owner,
    Json(req): Json<RevokeRequest>,
) -> ApiResult<Json<Revoked>> {
    let mut client = state.pool.get().await?;
    let tx = db::tenant_tx(&mut client, owner.tenant).await?;
    let n = tx
        .execute(
            "UPDATE owner_sessions SET revoked_at = now() WHERE id = $1 AND owner_id = $2 AND revoked_at IS NULL",
            &[&req.session_id, &owner.owner_id],
        )
        .await?;
    tx.commit().await?;
    if n == 0 {
        return Err(ApiError::not_found("no such active session of yours"));
    }
    Ok(Json(Revoked { revoked: req.session_id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_taken_from_forwarded_for_only_behind_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let headers = |values: &[&str]| {
            let mut h = HeaderMap::new();
            for v in values {
                h.append("x-forwarded-for", v.parse().unwrap());
            }
            h
        };
        let lb = [ip("10.0.0.5"), ip("10.0.0.6")];
        let fwd = headers(&["198.51.100.7"]);
        assert_eq!(client_ip(ip("203.0.113.9"), &fwd, &lb), ip("203.0.113.9"), "an untrusted peer's header is ignored");
        assert_eq!(client_ip(ip("10.0.0.5"), &fwd, &lb), ip("198.51.100.7"));
        assert_eq!(client_ip(ip("::ffff:10.0.0.5"), &fwd, &lb), ip("198.51.100.7"), "mapped form of a trusted proxy");
        // The client may write anything on the left; the nearest untrusted hop is the one believed.
        let spoofed = headers(&["1.2.3.4, 198.51.100.7, 10.0.0.6"]);
        assert_eq!(client_ip(ip("10.0.0.5"), &spoofed, &lb), ip("198.51.100.7"));
        let two_headers = headers(&["1.2.3.4", "198.51.100.8"]);
        assert_eq!(client_ip(ip("10.0.0.5"), &two_headers, &lb), ip("198.51.100.8"));
        let garbage = headers(&["1.2.3.4, not-an-address"]);
        assert_eq!(client_ip(ip("10.0.0.5"), &garbage, &lb), ip("10.0.0.5"));
        assert_eq!(client_ip(ip("10.0.0.5"), &HeaderMap::new(), &lb), ip("10.0.0.5"));
        assert_eq!(client_ip(ip("10.0.0.5"), &fwd, &[]), ip("10.0.0.5"), "no proxy trusted by default");
    }

    #[test]
    fn password_rules() {
        let e = "oskar@example.org";
        assert!(password_policy("Short1!", e).is_err());
        assert!(password_policy("alllowercaseletters", e).is_err());
        assert!(password_policy("lowercase and digits 123", e).is_ok(), "lower, digit, other");
        assert!(password_policy("Lower and UPPER only", e).is_ok(), "lower, upper, other (space)");
        assert!(password_policy("LowerAndUpperOnly", e).is_err());
        assert!(password_policy("Tram-Linie-47", e).is_ok());
        assert!(password_policy("Oskar-Linie-47", e).is_err(), "contains the email's name");
        assert!(password_policy(&format!("Aa1{}", "x".repeat(PASSWORD_MAX_BYTES)), e).is_err());
    }

    #[test]
    fn emails_are_normalised() {
        assert_eq!(normalise_email("  Oskar@Example.ORG ").as_deref(), Some("oskar@example.org"));
        for bad in ["", "oskar", "@example.org", "oskar@example", "oskar@.org", "os kar@example.org", "a@b@c.org"] {
            assert_eq!(normalise_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn argon2id_with_owasp_parameters() {
        let h = hash_password("Tram-Linie-47").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password(&h, "Tram-Linie-47"));
        assert!(!verify_password(&h, "Tram-Linie-48"));
        assert!(!verify_password("not a hash", "x"));
        assert!(dummy_hash().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }

    #[test]
    fn totp_rfc_6238_and_no_replay() {
        // RFC 6238 appendix B, SHA-1: the last six digits of the published eight.
        let secret = b"12345678901234567890";
        assert_eq!(totp_code(secret, 59), "287082");
        assert_eq!(totp_code(secret, 1_111_111_109), "081804");
        let t = 1_111_111_111u64;
        let now = (t / 30) as i64;
        let code = totp_code(secret, t);
        assert_eq!(totp_step(secret, &code, t, None), Some(now));
        assert_eq!(totp_step(secret, &code, t, Some(now)), None, "replay");
        assert_eq!(totp_step(secret, &totp_code(secret, t - 30), t, None), Some(now - 1));
        assert_eq!(totp_step(secret, &totp_code(secret, t + 30), t, Some(now)), Some(now + 1));
        assert_eq!(totp_step(secret, &totp_code(secret, t - 60), t, None), None, "two steps old");
        assert_eq!(totp_step(secret, "12345", t, None), None);
    }

    #[test]
    fn addresses_are_keyed() {
        assert_eq!(ip_key("203.0.113.9".parse().unwrap()), "203.0.113.9");
        assert_eq!(ip_key("::ffff:203.0.113.9".parse().unwrap()), "203.0.113.9");
        assert_eq!(ip_key("2001:db8:1:2:3:4:5:6".parse().unwrap()), "2001:db8:1:2::/64");
    }

    #[test]
    fn provisioning_uri() {
        let uri = otpauth_uri(b"12345678901234567890", "oskar@example.org");
        assert_eq!(
            uri,
            "otpauth://totp/POS%20Cloud:oskar%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=POS%20Cloud&algorithm=SHA1&digits=6&period=30"
        );
    }
}
