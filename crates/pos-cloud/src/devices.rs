//! Registers: enrolment with a one-time code, and access tokens that need the device key.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use pos_sync_protocol::api;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::http::now_unix;
use crate::state::AppState;
use crate::token::DeviceClaims;

/// An enrolment code as people type it: upper-case letters and digits, dashes and spaces ignored.
pub fn normalise_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

pub fn code_hash(code: &str) -> Vec<u8> {
    Sha256::digest(normalise_code(code).as_bytes()).to_vec()
}

fn key32(hex_text: &str, what: &str) -> ApiResult<[u8; 32]> {
    let bytes = hex::decode(hex_text).map_err(|_| ApiError::invalid(format!("{what} is not hex")))?;
    let key: [u8; 32] = bytes.try_into().map_err(|_| ApiError::invalid(format!("{what} is not 32 bytes")))?;
    VerifyingKey::from_bytes(&key).map_err(|_| ApiError::invalid(format!("{what} is not an Ed25519 key")))?;
    Ok(key)
}

fn device_uuid(text: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(text).map_err(|_| ApiError::invalid("device_id is not a UUID"))
}

/// Which tenant a device belongs to, before anything is authenticated.
async fn tenant_of_device(client: &tokio_postgres::Client, device: Uuid) -> ApiResult<Option<Uuid>> {
    Ok(client.query_one("SELECT device_tenant($1)", &[&device]).await?.get(0))
}

pub async fn enroll(
    State(state): State<AppState>,
    Json(req): Json<api::EnrollRequest>,
) -> ApiResult<Json<api::EnrollResponse>> {
    let device = device_uuid(&req.device_id)?;
    let name: String = req.device_name.trim().chars().filter(|c| !c.is_control()).take(100).collect();
    if name.is_empty() {
        return Err(ApiError::invalid("device_name is empty"));
    }
    let public_key = key32(&req.device_public_key, "device_public_key")?;
    let audit_key = key32(&req.audit_public_key, "audit_public_key")?;
    let hash = code_hash(&req.code);
    let refused = || ApiError::forbidden("the enrolment code is not valid, was already used, or has expired");

    let mut client = state.pool.get().await?;
    let tenant: Option<Uuid> = client.query_one("SELECT enrolment_code_tenant($1)", &[&hash]).await?.get(0);
    let tenant = tenant.ok_or_else(refused)?;
    let known = tenant_of_device(&client, device).await?.is_some();
    let tx = db::tenant_tx(&mut client, tenant).await?;
    if known {
        // A retry of an enrolment whose answer was lost: the same code, used by this very device
        // with the same keys, gets the same answer. Anything else is a second enrolment.
        let replay = tx
            .query_opt(
                "SELECT d.venue_id, v.name FROM enrolment_codes c \
                 JOIN devices d ON d.tenant_id = c.tenant_id AND d.id = c.used_by \
                 JOIN venues v ON v.tenant_id = d.tenant_id AND v.id = d.venue_id \
                 WHERE c.code_hash = $1 AND d.id = $2 AND d.public_key = $3 AND d.audit_public_key = $4 AND d.revoked_at IS NULL",
                &[&hash, &device, &&public_key[..], &&audit_key[..]],
            )
            .await?;
        tx.commit().await?;
        return match replay {
            Some(row) => Ok(Json(api::EnrollResponse {
                device_id: device.to_string(),
                tenant_id: tenant.to_string(),
                venue_id: row.get::<_, Uuid>(0).to_string(),
                venue_name: row.get(1),
            })),
            None => Err(ApiError::new(StatusCode::CONFLICT, "already_enrolled", "this device is already enrolled")),
        };
    }
    let row = tx
        .query_opt(
            "SELECT c.venue_id, v.name FROM enrolment_codes c JOIN venues v ON v.tenant_id = c.tenant_id AND v.id = c.venue_id \
             WHERE c.code_hash = $1 AND c.used_at IS NULL AND c.expires_at > now() FOR UPDATE OF c",
            &[&hash],
        )
        .await?
        .ok_or_else(refused)?;
    let venue: Uuid = row.get(0);
    let venue_name: String = row.get(1);
    tx.execute(
        "INSERT INTO devices (tenant_id, id, venue_id, name, public_key, audit_public_key) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&tenant, &device, &venue, &name, &&public_key[..], &&audit_key[..]],
    )
    .await?;
    tx.execute("UPDATE enrolment_codes SET used_at = now(), used_by = $2 WHERE code_hash = $1", &[&hash, &device])
        .await?;
    tx.commit().await?;
    Ok(Json(api::EnrollResponse {
        device_id: device.to_string(),
        tenant_id: tenant.to_string(),
        venue_id: venue.to_string(),
        venue_name,
    }))
}

pub async fn challenge(
    State(state): State<AppState>,
    Json(req): Json<api::ChallengeRequest>,
) -> ApiResult<Json<api::ChallengeResponse>> {
    let device = device_uuid(&req.device_id)?;
    let mut client = state.pool.get().await?;
    let tenant = tenant_of_device(&client, device).await?.ok_or_else(|| ApiError::unauthorized("unknown device"))?;
    let tx = db::tenant_tx(&mut client, tenant).await?;
    let revoked: bool =
        tx.query_one("SELECT revoked_at IS NOT NULL FROM devices WHERE id = $1", &[&device]).await?.get(0);
    if revoked {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "revoked", "this device has been revoked"));
    }
    let mut challenge = [0u8; 32];
    getrandom::fill(&mut challenge).map_err(|_| ApiError::internal())?;
    let seconds = i32::try_from(state.config.challenge_seconds).unwrap_or(i32::MAX);
    tx.execute("DELETE FROM device_challenges WHERE device_id = $1 AND expires_at < now()", &[&device]).await?;
    tx.execute(
        "INSERT INTO device_challenges (tenant_id, challenge, device_id, expires_at) \
         VALUES ($1, $2, $3, now() + $4::int * interval '1 second')",
        &[&tenant, &&challenge[..], &device, &seconds],
    )
    .await?;
    tx.commit().await?;
    Ok(Json(api::ChallengeResponse { challenge: hex::encode(challenge), expires_in_s: state.config.challenge_seconds }))
}

pub async fn token(
    State(state): State<AppState>,
    Json(req): Json<api::TokenRequest>,
) -> ApiResult<Json<api::TokenResponse>> {
    let device = device_uuid(&req.device_id)?;
    let refused = || ApiError::unauthorized("the challenge is unknown, used or expired, or the signature is wrong");
    let challenge = hex::decode(&req.challenge).map_err(|_| refused())?;
    let signature: [u8; 64] = hex::decode(&req.signature).ok().and_then(|b| b.try_into().ok()).ok_or_else(refused)?;
    let mut client = state.pool.get().await?;
    let tenant = tenant_of_device(&client, device).await?.ok_or_else(refused)?;
    let tx = db::tenant_tx(&mut client, tenant).await?;
    // Single use: the challenge is consumed whether or not the signature verifies.
    let live = tx
        .query_opt(
            "DELETE FROM device_challenges WHERE challenge = $1 AND device_id = $2 RETURNING expires_at > now()",
            &[&challenge, &device],
        )
        .await?;
    let row = tx
        .query_one("SELECT public_key, venue_id, revoked_at IS NOT NULL FROM devices WHERE id = $1", &[&device])
        .await?;
    tx.commit().await?;
    if live.map(|r| r.get::<_, bool>(0)) != Some(true) {
        return Err(refused());
    }
    if row.get::<_, bool>(2) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "revoked", "this device has been revoked"));
    }
    let public_key: Vec<u8> = row.get(0);
    let key = <[u8; 32]>::try_from(public_key.as_slice())
        .ok()
        .and_then(|k| VerifyingKey::from_bytes(&k).ok())
        .ok_or_else(ApiError::internal)?;
    key.verify(&api::token_message(&req.device_id, &req.challenge), &Signature::from_bytes(&signature))
        .map_err(|_| refused())?;
    let seconds = state.config.access_token_seconds.min(api::ACCESS_TOKEN_SECONDS);
    let claims = DeviceClaims { tid: tenant, vid: row.get(1), did: device, exp: now_unix() + seconds as i64 };
    Ok(Json(api::TokenResponse { access_token: state.tokens.issue(&claims), expires_in_s: seconds }))
}
