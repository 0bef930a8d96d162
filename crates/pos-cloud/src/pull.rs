//! Data that flows down to registers — tax classes, catalog, staff, settings — and
//! `GET /v1/sync/pull`.
//!
//! Every write takes a version from one sequence. A write holds its venue's advisory lock
//! exclusively and a pull holds it shared, so a pull never hands out a cursor past a version
//! whose transaction has not yet committed (which would make the register skip it forever).

use axum::Json;
use axum::extract::{Query, State};
use pos_sync_protocol::api::{CatalogItem, PullResponse, Setting, StaffMember, TaxClassDef, TaxRateDef, VenueSettings};
use serde::Deserialize;
use tokio_postgres::Transaction;
use uuid::Uuid;

use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::http::Device;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct PullQuery {
    #[serde(default)]
    pub cursor: i64,
}

/// The advisory-lock key of a venue's downstream data.
fn venue_lock(venue: Uuid) -> i64 {
    let b = venue.as_bytes();
    i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) ^ 0x5043_4c44
}

pub async fn pull(
    State(state): State<AppState>,
    device: Device,
    Query(q): Query<PullQuery>,
) -> ApiResult<Json<PullResponse>> {
    if q.cursor < 0 {
        return Err(ApiError::invalid("cursor must not be negative"));
    }
    let mut client = state.pool.get().await?;
    let tx = db::tenant_tx(&mut client, device.tenant).await?;
    tx.execute("SELECT pg_advisory_xact_lock_shared($1)", &[&venue_lock(device.venue)]).await?;
    let response = changes_since(&tx, device.venue, q.cursor).await?;
    tx.commit().await?;
    Ok(Json(response))
}

/// Everything of `venue` with a version above `cursor`.
pub async fn changes_since(tx: &Transaction<'_>, venue: Uuid, cursor: i64) -> ApiResult<PullResponse> {
    let mut out = PullResponse { cursor, ..PullResponse::default() };
    for r in tx
        .query(
            "SELECT name, rates, version FROM tax_classes WHERE venue_id = $1 AND version > $2 ORDER BY version",
            &[&venue, &cursor],
        )
        .await?
    {
        let rates: Vec<TaxRateDef> = serde_json::from_value(r.get(1)).map_err(|e| {
            eprintln!("a stored tax class does not parse: {e}");
            ApiError::internal()
        })?;
        out.taxes.push(TaxClassDef { name: r.get(0), rates });
        out.cursor = out.cursor.max(r.get(2));
    }
    for r in tx
        .query(
            "SELECT sku, product, variant, category, price, tax_class, barcodes, weighed, active, version \
             FROM catalog_items WHERE venue_id = $1 AND version > $2 ORDER BY version",
            &[&venue, &cursor],
        )
        .await?
    {
        out.catalog.push(CatalogItem {
            sku: r.get(0),
            product: r.get(1),
            variant: r.get(2),
            category: r.get(3),
            price: r.get(4),
            tax_class: r.get(5),
            barcodes: r.get(6),
            weighed: r.get(7),
            active: r.get(8),
        });
        out.cursor = out.cursor.max(r.get(9));
    }
    for r in tx
        .query(
            "SELECT id, name, role, permissions, max_discount_bp, totp_required, active, pin_hash, version \
             FROM staff WHERE venue_id = $1 AND version > $2 ORDER BY version",
            &[&venue, &cursor],
        )
        .await?
    {
        out.staff.push(StaffMember {
            id: r.get::<_, Uuid>(0).to_string(),
            name: r.get(1),
            role: r.get(2),
            permissions: r.get::<_, i64>(3) as u64,
            max_discount_bp: r.get::<_, i32>(4) as u32,
            totp_required: r.get(5),
            active: r.get(6),
            pin_hash: r.get(7),
        });
        out.cursor = out.cursor.max(r.get(8));
    }
    for r in tx
        .query(
            "SELECT name, value, version FROM settings WHERE venue_id = $1 AND version > $2 ORDER BY version",
            &[&venue, &cursor],
        )
        .await?
    {
        out.settings.push(Setting { name: r.get(0), value: r.get(1) });
        out.cursor = out.cursor.max(r.get(2));
    }
    if cursor == 0 {
        let name: Option<String> =
            tx.query_opt("SELECT name FROM venues WHERE id = $1", &[&venue]).await?.map(|r| r.get(0));
        out.venue = name.map(|name| VenueSettings { name });
    }
    Ok(out)
}

/// Creates or replaces catalog items of `venue` (inside a tenant transaction). Returns how many.
pub async fn put_catalog(tx: &Transaction<'_>, tenant: Uuid, venue: Uuid, items: &[CatalogItem]) -> ApiResult<usize> {
    for item in items {
        let fields = [&item.sku, &item.product, &item.category, &item.price, &item.tax_class];
        if fields.iter().any(|f| f.trim().is_empty()) {
            return Err(ApiError::invalid(format!(
                "catalog item {:?}: sku, product, category, price and tax_class are required",
                item.sku
            )));
        }
        if fields.iter().any(|f| f.len() > 200) || item.variant.len() > 200 || item.barcodes.len() > 20 {
            return Err(ApiError::invalid(format!("catalog item {:?}: a field is too long", item.sku)));
        }
    }
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&venue_lock(venue)]).await?;
    let stmt = tx
        .prepare(
            "INSERT INTO catalog_items (tenant_id, venue_id, sku, product, variant, category, price, tax_class, barcodes, weighed, active) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (tenant_id, venue_id, sku) DO UPDATE SET product = excluded.product, variant = excluded.variant, \
                 category = excluded.category, price = excluded.price, tax_class = excluded.tax_class, \
                 barcodes = excluded.barcodes, weighed = excluded.weighed, active = excluded.active, \
                 version = nextval('catalog_version')",
        )
        .await?;
    for i in items {
        tx.execute(
            &stmt,
            &[
                &tenant,
                &venue,
                &i.sku.trim(),
                &i.product,
                &i.variant,
                &i.category,
                &i.price,
                &i.tax_class,
                &i.barcodes,
                &i.weighed,
                &i.active,
            ],
        )
        .await?;
    }
    Ok(items.len())
}

/// Creates or replaces tax classes of `venue`, each whole. A class that fails
/// [`TaxClassDef::problem`] refuses the whole request.
pub async fn put_taxes(tx: &Transaction<'_>, tenant: Uuid, venue: Uuid, classes: &[TaxClassDef]) -> ApiResult<usize> {
    for (i, c) in classes.iter().enumerate() {
        if let Some(why) = c.problem() {
            return Err(ApiError::invalid(why));
        }
        if classes[..i].iter().any(|o| o.name.trim() == c.name.trim()) {
            return Err(ApiError::invalid(format!("tax class {:?} appears twice", c.name)));
        }
    }
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&venue_lock(venue)]).await?;
    let stmt = tx
        .prepare(
            "INSERT INTO tax_classes (tenant_id, venue_id, name, rates) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, venue_id, name) DO UPDATE SET rates = excluded.rates, version = nextval('catalog_version')",
        )
        .await?;
    for c in classes {
        let rates = serde_json::to_value(&c.rates).map_err(|_| ApiError::internal())?;
        tx.execute(&stmt, &[&tenant, &venue, &c.name.trim(), &rates]).await?;
    }
    Ok(classes.len())
}

/// Creates or replaces a named setting of `venue`.
pub async fn put_setting(
    tx: &Transaction<'_>,
    tenant: Uuid,
    venue: Uuid,
    name: &str,
    value: &serde_json::Value,
) -> ApiResult<()> {
    if !["override_policy", "lockout", "auto_lock"].contains(&name) {
        return Err(ApiError::invalid(format!("unknown setting {name:?}")));
    }
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&venue_lock(venue)]).await?;
    tx.execute(
        "INSERT INTO settings (tenant_id, venue_id, name, value) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, venue_id, name) DO UPDATE SET value = excluded.value, version = nextval('catalog_version')",
        &[&tenant, &venue, &name, value],
    )
    .await?;
    Ok(())
}

/// Creates or replaces a staff member of `venue`.
pub async fn put_staff(tx: &Transaction<'_>, tenant: Uuid, venue: Uuid, s: &StaffMember) -> ApiResult<Uuid> {
    let id = Uuid::parse_str(&s.id).map_err(|_| ApiError::invalid("staff id is not a UUID"))?;
    if s.name.trim().is_empty() || s.name.len() > 100 {
        return Err(ApiError::invalid("a staff name needs 1 to 100 characters"));
    }
    if s.max_discount_bp > 10_000 {
        return Err(ApiError::invalid("max_discount_bp is at most 10000"));
    }
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&venue_lock(venue)]).await?;
    tx.execute(
        "INSERT INTO staff (tenant_id, venue_id, id, name, role, permissions, max_discount_bp, totp_required, active, pin_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, role = excluded.role, permissions = excluded.permissions, \
             max_discount_bp = excluded.max_discount_bp, totp_required = excluded.totp_required, active = excluded.active, \
             pin_hash = coalesce(excluded.pin_hash, staff.pin_hash), version = nextval('catalog_version')",
        &[
            &tenant,
            &venue,
            &id,
            &s.name.trim(),
            &s.role,
            &(s.permissions as i64),
            &(s.max_discount_bp as i32),
            &s.totp_required,
            &s.active,
            &s.pin_hash,
        ],
    )
    .await?;
    Ok(id)
}
