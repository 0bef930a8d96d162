//! Reports for owners and managers, per venue or across the tenant's venues, in venue-local
//! business days. SQL only sums integers per group; every figure is derived by the same
//! aggregators the register uses (`pos_core::report`), so the numbers match to the cent.
//!
//! `GET /v1/reports/{daily,item-mix,tax,payments}?from=YYYY-MM-DD&to=YYYY-MM-DD[&venue=ID][&format=csv]`
//! (owner session). Without `venue`, all the tenant's venues together (they must share a currency).
//! The venue id is a filter inside the tenant the session belongs to; row-level security keeps
//! another tenant's venue invisible.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::civil::Date;
use pos_core::money::Currency;
use pos_core::report::{
    DailySummary, Flow, ItemMixTotals, RefundFigures, SaleFigures, SalesTotals, ShiftCashFacts, TaxExportTotals,
    cash_summary, reconcile,
};
use pos_core::shift::{CashCount, CashMovementKind};
use pos_core::tax::PriceMode;
use pos_core::tender::TenderKind;
use serde::Deserialize;
use tokio_postgres::Transaction;
use uuid::Uuid;

use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::owner::Owner;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/reports/daily", get(daily))
        .route("/v1/reports/item-mix", get(item_mix))
        .route("/v1/reports/tax", get(tax))
        .route("/v1/reports/payments", get(payments))
}

#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    pub from: String,
    pub to: Option<String>,
    pub venue: Option<Uuid>,
    #[serde(default)]
    pub format: Option<String>,
}

/// The venues a report covers, with what the aggregators need to know about them.
struct Scope {
    venues: Vec<Uuid>,
    label: String,
    currency: Currency,
    price_mode: PriceMode,
    time_zone: String,
    cutoff: i32,
    from: Date,
    to: Date,
}

fn date(s: &str) -> ApiResult<Date> {
    s.parse().map_err(|_| ApiError::invalid(format!("{s:?} is not a date (YYYY-MM-DD)")))
}

async fn scope(tx: &Transaction<'_>, q: &ReportQuery) -> ApiResult<Scope> {
    let from = date(&q.from)?;
    let to = q.to.as_deref().map(date).transpose()?.unwrap_or(from);
    if to < from {
        return Err(ApiError::invalid(format!("the range starts ({from}) after it ends ({to})")));
    }
    if from.until(to).map_or(true, |span| span.get_days() > 366) {
        return Err(ApiError::invalid("a report covers at most 366 days"));
    }
    let rows = tx
        .query(
            "SELECT id, name, currency, prices_include_tax, time_zone, day_cutoff_hour FROM venues \
             WHERE $1::uuid IS NULL OR id = $1 ORDER BY name",
            &[&q.venue],
        )
        .await?;
    let first = rows.first().ok_or_else(|| ApiError::not_found("no such venue"))?;
    let currency: String = first.get(2);
    if rows.iter().any(|r| r.get::<_, String>(2) != currency || r.get::<_, bool>(3) != first.get::<_, bool>(3)) {
        return Err(ApiError::invalid(
            "these venues use different currencies or price bases: ask for one venue at a time",
        ));
    }
    Ok(Scope {
        venues: rows.iter().map(|r| r.get(0)).collect(),
        label: if rows.len() == 1 { first.get(1) } else { format!("{} venues", rows.len()) },
        currency: Currency::from_code(&currency).map_err(|_| ApiError::internal())?,
        price_mode: if first.get::<_, bool>(3) { PriceMode::TaxInclusive } else { PriceMode::TaxExclusive },
        time_zone: first.get(4),
        cutoff: first.get(5),
        from,
        to,
    })
}

fn tender(kind: &str) -> TenderKind {
    TenderKind::parse(kind).unwrap_or(TenderKind::Cash)
}

/// Sales, voids and refunds of the scope's days (or of some shifts) into `totals`.
async fn feed_sales(
    tx: &Transaction<'_>,
    s: &Scope,
    shifts: Option<&[String]>,
    totals: &mut SalesTotals,
) -> ApiResult<()> {
    let (from, to) = (s.from.to_string(), s.to.to_string());
    let none: Vec<String> = Vec::new();
    let shift_list = shifts.unwrap_or(&none);
    let by_shift = shifts.is_some();
    // The same filter for orders and refunds: venues, and business days or shifts.
    let filter = "venue_id = ANY($1) AND CASE WHEN $4 THEN shift_id = ANY($5) ELSE business_day BETWEEN $2::text::date AND $3::text::date END";
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 5] = [&s.venues, &from, &to, &by_shift, &shift_list];

    let row = tx
        .query_one(
            &format!(
                "SELECT count(*) FILTER (WHERE voided_at IS NULL), coalesce(sum(subtotal) FILTER (WHERE voided_at IS NULL), 0)::bigint, \
                 coalesce(sum(discount_total) FILTER (WHERE voided_at IS NULL), 0)::bigint, \
                 coalesce(sum(total) FILTER (WHERE voided_at IS NULL), 0)::bigint, \
                 coalesce(sum(rounding) FILTER (WHERE voided_at IS NULL), 0)::bigint, \
                 count(*) FILTER (WHERE voided_at IS NOT NULL), coalesce(sum(total) FILTER (WHERE voided_at IS NOT NULL), 0)::bigint \
                 FROM orders WHERE {filter}"
            ),
            &params,
        )
        .await?;
    totals.add_sales(SaleFigures {
        orders: row.get(0),
        gross: row.get(1),
        discounts: row.get(2),
        total: row.get(3),
        rounding: row.get(4),
    });
    let (mut void_count, mut voided): (i64, i64) = (row.get(5), row.get(6));
    if !by_shift {
        let v = tx
            .query_one(
                "SELECT count(*), coalesce(sum(total), 0)::bigint FROM unpaid_voids \
                 WHERE venue_id = ANY($1) AND business_day BETWEEN $2::text::date AND $3::text::date",
                &[&s.venues, &from, &to],
            )
            .await?;
        void_count += v.get::<_, i64>(0);
        voided += v.get::<_, i64>(1);
    }
    totals.add_voids(void_count, voided);

    for r in tx
        .query(
            &format!(
                "SELECT t.code, t.rate_ppm, sum(t.base)::bigint, sum(t.tax)::bigint FROM orders o JOIN order_taxes t USING (tenant_id, order_id) \
                 WHERE o.voided_at IS NULL AND o.{filter} GROUP BY t.code, t.rate_ppm ORDER BY t.code, t.rate_ppm"
            ),
            &params,
        )
        .await?
    {
        totals.add_tax(Flow::Sale, &r.get::<_, String>(0), r.get(1), r.get(2), r.get(3));
    }
    for r in tx
        .query(
            &format!(
                "SELECT p.kind, sum(p.amount)::bigint FROM orders o JOIN payments p USING (tenant_id, order_id) \
                 WHERE o.voided_at IS NULL AND o.{filter} GROUP BY p.kind ORDER BY p.kind"
            ),
            &params,
        )
        .await?
    {
        totals.add_tender(Flow::Sale, tender(&r.get::<_, String>(0)), r.get(1));
    }

    let r = tx
        .query_one(
            &format!(
                "SELECT count(*), coalesce(sum(amount), 0)::bigint, coalesce(sum(total), 0)::bigint, coalesce(sum(rounding), 0)::bigint \
                 FROM refunds WHERE {filter}"
            ),
            &params,
        )
        .await?;
    totals.add_refunds(RefundFigures { refunds: r.get(0), amount: r.get(1), total: r.get(2), rounding: r.get(3) });
    for r in tx
        .query(
            &format!(
                "SELECT t.code, t.rate_ppm, sum(t.base)::bigint, sum(t.tax)::bigint FROM refunds r JOIN refund_taxes t USING (tenant_id, refund_id) \
                 WHERE r.{filter} GROUP BY t.code, t.rate_ppm ORDER BY t.code, t.rate_ppm"
            ),
            &params,
        )
        .await?
    {
        totals.add_tax(Flow::Refund, &r.get::<_, String>(0), r.get(1), r.get(2), r.get(3));
    }
    for r in tx
        .query(
            &format!(
                "SELECT p.kind, sum(p.amount)::bigint FROM refunds r JOIN refund_payouts p USING (tenant_id, refund_id) \
                 WHERE r.{filter} GROUP BY p.kind ORDER BY p.kind"
            ),
            &params,
        )
        .await?
    {
        totals.add_tender(Flow::Refund, tender(&r.get::<_, String>(0)), r.get(1));
    }
    Ok(())
}

fn respond<T: serde::Serialize>(
    report: &T,
    csv: impl FnOnce(&T) -> String,
    format: Option<&str>,
) -> ApiResult<Response> {
    match format {
        None | Some("json") => {
            Ok(axum::Json(serde_json::to_value(report).map_err(|_| ApiError::internal())?).into_response())
        }
        Some("csv") => Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv(report)).into_response()),
        Some(other) => Err(ApiError::invalid(format!("unknown format {other:?}: json or csv"))),
    }
}

async fn daily(State(state): State<AppState>, owner: Owner, Query(q): Query<ReportQuery>) -> ApiResult<Response> {
    let mut client = state.pool.get().await?;
    let tx = db::tenant_tx(&mut client, owner.tenant).await?;
    let s = scope(&tx, &q).await?;
    if s.from != s.to {
        return Err(ApiError::invalid("the daily summary covers one business day: give `from` only"));
    }
    let mut totals = SalesTotals::new(s.currency, s.price_mode);
    feed_sales(&tx, &s, None, &mut totals).await?;
    tx.commit().await?;
    let rule = pos_core::business_day::BusinessDayRule::new(&s.time_zone, i64::from(s.cutoff))
        .map_err(|_| ApiError::internal())?;
    let (start, end) = rule.bounds(s.from).map_err(|_| ApiError::internal())?;
    let local = |t: jiff::Timestamp| rule.local(t).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
    let report = DailySummary {
        report: "daily",
        venue: s.label,
        business_day: s.from,
        time_zone: s.time_zone.clone(),
        from: local(start),
        to: local(end),
        summary: totals.summary(),
    };
    respond(&report, DailySummary::to_csv, q.format.as_deref())
}

async fn item_mix(State(state): State<AppState>, owner: Owner, Query(q): Query<ReportQuery>) -> ApiResult<Response> {
    let mut client = state.pool.get().await?;
    let tx = db::tenant_tx(&mut client, owner.tenant).await?;
    let s = scope(&tx, &q).await?;
    let (from, to) = (s.from.to_string(), s.to.to_string());
    let inclusive = s.price_mode == PriceMode::TaxInclusive;
    let mut mix = ItemMixTotals::default();
    // The register names the category "(none)" when it has none.
    for r in tx
        .query(
            "SELECT coalesce(nullif(l.category, ''), '(none)'), l.product_id, min(l.product), sum(l.qty_milli)::bigint, \
                 sum(l.amount - CASE WHEN $4 THEN l.tax ELSE 0 END)::bigint \
             FROM orders o JOIN order_lines l USING (tenant_id, order_id) \
             WHERE o.venue_id = ANY($1) AND o.business_day BETWEEN $2::text::date AND $3::text::date AND o.voided_at IS NULL \
             GROUP BY 1, l.product_id",
            &[&s.venues, &from, &to, &inclusive],
        )
        .await?
    {
        mix.add(&r.get::<_, String>(0), r.get(1), &r.get::<_, String>(2), r.get(3), r.get(4));
    }
    for r in tx
        .query(
            "SELECT coalesce(nullif(l.category, ''), '(none)'), l.product_id, min(l.product), sum(rl.qty_milli)::bigint, \
                 sum(rl.amount - CASE WHEN $4 THEN rl.tax ELSE 0 END)::bigint \
             FROM refunds r JOIN refund_lines rl USING (tenant_id, refund_id) \
             JOIN order_lines l ON l.tenant_id = r.tenant_id AND l.order_id = r.order_id AND l.line_no = rl.line_no \
             WHERE r.venue_id = ANY($1) AND r.business_day BETWEEN $2::text::date AND $3::text::date \
             GROUP BY 1, l.product_id",
            &[&s.venues, &from, &to, &inclusive],
        )
        .await?
    {
        mix.add(&r.get::<_, String>(0), r.get(1), &r.get::<_, String>(2), -r.get::<_, i64>(3), -r.get::<_, i64>(4));
    }
    tx.commit().await?;
    let report = mix.finish(s.currency, &s.label, s.from, s.to);
    respond(&report, pos_core::report::ItemMix::to_csv, q.format.as_deref())
}

async fn tax(State(state): State<AppState>, owner: Owner, Query(q): Query<ReportQuery>) -> ApiResult<Response> {
    // A financial export: only from a session that passed a second factor.
    if !owner.mfa {
        return Err(ApiError::forbidden("the tax export needs a sign-in with an authenticator code"));
    }
    let mut client = state.pool.get().await?;
    let tx = db::tenant_tx(&mut client, owner.tenant).await?;
    let s = scope(&tx, &q).await?;
    let (from, to) = (s.from.to_string(), s.to.to_string());
    let mut t = TaxExportTotals::default();
    let queries = [
        (
            Flow::Sale,
            "SELECT o.business_day::text, t.code, t.rate_ppm, sum(t.base)::bigint, sum(t.tax)::bigint \
             FROM orders o JOIN order_taxes t USING (tenant_id, order_id) \
             WHERE o.venue_id = ANY($1) AND o.business_day BETWEEN $2::text::date AND $3::text::date AND o.voided_at IS NULL \
             GROUP BY o.business_day, t.code, t.rate_ppm",
        ),
        (
            Flow::Refund,
            "SELECT r.business_day::text, t.code, t.rate_ppm, sum(t.base)::bigint, sum(t.tax)::bigint \
             FROM refunds r JOIN refund_taxes t USING (tenant_id, refund_id) \
             WHERE r.venue_id = ANY($1) AND r.business_day BETWEEN $2::text::date AND $3::text::date \
             GROUP BY r.business_day, t.code, t.rate_ppm",
        ),
    ];
    for (flow, sql) in queries {
        for r in tx.query(sql, &[&s.venues, &from, &to]).await? {
            t.add(date(&r.get::<_, String>(0))?, flow, &r.get::<_, String>(1), r.get(2), r.get(3), r.get(4));
        }
    }
    tx.commit().await?;
    let report = t.finish(s.currency, &s.label, s.from, s.to);
    respond(&report, pos_core::report::TaxExport::to_csv, q.format.as_deref())
}

/// Expected against counted, per tender: the shifts opened on the scope's days, each shift's cash
/// from its float, cash sales and refunds, paid in and out, and its count at close.
async fn payments(State(state): State<AppState>, owner: Owner, Query(q): Query<ReportQuery>) -> ApiResult<Response> {
    let mut client = state.pool.get().await?;
    let tx = db::tenant_tx(&mut client, owner.tenant).await?;
    let s = scope(&tx, &q).await?;
    let (from, to) = (s.from.to_string(), s.to.to_string());
    let shifts = tx
        .query(
            "SELECT shift_id, amount FROM shift_events WHERE kind = 'opened' AND venue_id = ANY($1) \
             AND (detail->>'business_day')::date BETWEEN $2::text::date AND $3::text::date ORDER BY at",
            &[&s.venues, &from, &to],
        )
        .await?;
    let mut all = SalesTotals::new(s.currency, s.price_mode);
    let mut cash = Vec::with_capacity(shifts.len());
    for shift in &shifts {
        let id: String = shift.get(0);
        let mut totals = SalesTotals::new(s.currency, s.price_mode);
        let one = std::slice::from_ref(&id);
        feed_sales(&tx, &s, Some(one), &mut totals).await?;
        feed_sales(&tx, &s, Some(one), &mut all).await?;
        let mut movements = Vec::new();
        let mut count = None;
        for e in tx
            .query("SELECT kind, amount, detail, at::text FROM shift_events WHERE shift_id = $1 AND kind <> 'opened' ORDER BY at", &[&id])
            .await?
        {
            let kind: String = e.get(0);
            let detail: serde_json::Value = e.get(2);
            match kind.as_str() {
                "closed" => {
                    let pairs: Vec<(i64, i64)> = serde_json::from_value(detail["count"].clone()).unwrap_or_default();
                    count = Some(CashCount::new(s.currency, &pairs).map_err(|_| ApiError::internal())?);
                }
                other => {
                    let k = match other {
                        "paid_in" => CashMovementKind::PaidIn,
                        "paid_out" => CashMovementKind::PaidOut,
                        _ => continue,
                    };
                    movements.push((k, e.get(1), detail["reason"].as_str().unwrap_or_default().to_owned(), e.get(3)));
                }
            }
        }
        let facts = ShiftCashFacts { float: shift.get(1), movements, count };
        cash.push(cash_summary(s.currency, &totals, &facts));
    }
    tx.commit().await?;
    let label = if s.from == s.to {
        format!("business day {}", s.from)
    } else {
        format!("business days {} to {}", s.from, s.to)
    };
    let report = reconcile(&s.label, &label, s.currency, &all, &cash);
    respond(&report, pos_core::report::PaymentReconciliation::to_csv, q.format.as_deref())
}
