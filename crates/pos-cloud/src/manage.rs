//! Back office in the cloud for owners and managers: the catalog, staff and settings that flow
//! down to registers, the registers themselves, and the records the service refused.
//!
//! A venue named in a path is a filter inside the session's tenant: row-level security makes
//! another tenant's venue simply not exist here (404).

use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use pos_sync_protocol::api::{CatalogItem, StaffMember, TaxClassDef};
use serde::Serialize;
use tokio_postgres::Transaction;
use uuid::Uuid;

use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::owner::{Owner, Role};
use crate::pull;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/venues/{venue}/taxes", put(put_taxes))
        .route("/v1/venues/{venue}/catalog", put(put_catalog))
        .route("/v1/venues/{venue}/staff", put(put_staff))
        .route("/v1/venues/{venue}/settings/{name}", put(put_setting))
        .route("/v1/devices", get(devices))
        .route("/v1/rejected", get(rejected))
}

async fn venue_exists(tx: &Transaction<'_>, venue: Uuid) -> ApiResult<()> {
    match tx.query_opt("SELECT 1 FROM venues WHERE id = $1", &[&venue]).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found("no such venue")),
    }
}

fn owner_only(o: &Owner) -> ApiResult<()> {
    if o.role != Role::Owner {
        return Err(ApiError::forbidden("only an owner may change taxes, staff and settings"));
    }
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct Changed {
    pub changed: usize,
}

async fn put_catalog(
    State(state): State<AppState>,
    owner: Owner,
    Path(venue): Path<Uuid>,
    Json(items): Json<Vec<CatalogItem>>,
) -> ApiResult<Json<Changed>> {
    if items.len() > 10_000 {
        return Err(ApiError::invalid("at most 10,000 items per request"));
    }
    let mut client = state.pool.get().await?;
    let tx = db::tenant_tx(&mut client, owner.tenant).await?;
    venue_exists(&tx, venue).await?;
    let changed = pull::put_catalog(&tx, owner.tenant, venue, &items).await?;
    tx.commit().await?;
    Ok(Json(Changed { changed }))
}

async fn put_taxes(
    State(state): State<AppState>,
    owner: Owner,
    Path(venue): Path<Uuid>,
    Json(classes): Json<Vec<TaxClassDef>>,
) -> ApiResult<Json<Changed>> {
    owner_only(&owner)?;
    if classes.len() > 100 {
        return Err(ApiError::invalid("at most 100 tax classes per request"));
    }
    let mut client = state.pool.get().await?;
    let tx = db::tenant_tx(&mut client, owner.tenant).await?;
    venue_exists(&tx, venue).await?;
    let changed = pull::put_taxes(&tx, owner.tenant, venue, &classes).await?;
    tx.commit().await?;
    Ok(Json(Changed { changed }))
}

async fn put_staff(
    State(state): State<AppState>,
    owner: Owner,
    Path(venue): Path<Uuid>,
    Json(staff): Json<Vec<StaffMember>>,
) -> ApiResult<Json<Changed>> {
    owner_only(&owner)?;
    if staff.len() > 1000 {
        return Err(ApiError::invalid("at most 1,000 staff per request"));
    }
    let mut client = state.pool.get().await?;
    let tx = db::tenant_tx(&mut client, owner.tenant).await?;
    venue_exists(&tx, venue).await?;
    for s in &staff {
        pull::put_staff(&tx, owner.tenant, venue, s).await?;
    }
    tx.commit().await?;
    Ok(Json(Changed { changed: staff.len() }))
}

async fn put_setting(
    State(state): State<AppState>,
    owner: Owner,
    Path((venue, name)): Path<(Uuid, String)>,
    Json(value): Json<serde_json::Value>,
) -> ApiResult<Json<Changed>> {
    owner_only(&owner)?;
    let mut client = state.pool.get().await?;
    let tx = db::tenant_tx(&mut client, owner.tenant).await?;
    venue_exists(&tx, venue).await?;
    pull::put_setting(&tx, owner.tenant, venue, &name, &value).await?;
    tx.commit().await?;
    Ok(Json(Changed { changed: 1 }))
}

#[derive(Debug, Serialize)]
pub struct DeviceView {
    pub id: Uuid,
    pub venue: Uuid,
    pub name: String,
    pub enrolled_at: String,
    pub revoked_at: Option<String>,
    pub last_seen_at: Option<String>,
    pub orders: i64,
    pub audit_held_through: i64,
    pub audit_fault: Option<serde_json::Value>,
}

async fn devices(State(state): State<AppState>, owner: Owner) -> ApiResult<Json<Vec<DeviceView>>> {
    let mut client = state.pool.get().await?;
    let tx = db::tenant_tx(&mut client, owner.tenant).await?;
    let rows = tx
        .query(
            "SELECT d.id, d.venue_id, d.name, d.enrolled_at::text, d.revoked_at::text, d.last_seen_at::text, \
                 (SELECT count(*) FROM orders o WHERE o.device_id = d.id), d.audit_held_through, d.audit_fault \
             FROM devices d ORDER BY d.enrolled_at",
            &[],
        )
        .await?;
    tx.commit().await?;
    Ok(Json(
        rows.iter()
            .map(|r| DeviceView {
                id: r.get(0),
                venue: r.get(1),
                name: r.get(2),
                enrolled_at: r.get(3),
                revoked_at: r.get(4),
                last_seen_at: r.get(5),
                orders: r.get(6),
                audit_held_through: r.get(7),
                audit_fault: r.get(8),
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize)]
pub struct RejectedView {
    pub device: Uuid,
    pub op_id: String,
    pub seq: i64,
    pub code: String,
    pub message: String,
    pub received_at: String,
}

async fn rejected(State(state): State<AppState>, owner: Owner) -> ApiResult<Json<Vec<RejectedView>>> {
    let mut client = state.pool.get().await?;
    let tx = db::tenant_tx(&mut client, owner.tenant).await?;
    let rows = tx
        .query(
            "SELECT device_id, op_id, seq, code, message, received_at::text FROM rejected_ops ORDER BY id DESC LIMIT 1000",
            &[],
        )
        .await?;
    tx.commit().await?;
    Ok(Json(
        rows.iter()
            .map(|r| RejectedView {
                device: r.get(0),
                op_id: r.get(1),
                seq: r.get(2),
                code: r.get(3),
                message: r.get(4),
                received_at: r.get(5),
            })
            .collect(),
    ))
}
