//! `POST /v1/sync/push`: a register's outbox records and audit entries, stored exactly once.
//!
//! One transaction per push. It first locks the device's row, so pushes from one device are
//! applied one at a time; then claims every record's `(device, op_id)` in `sync_ops` and applies
//! only the records it newly claimed. A retry finds its claim and is answered `duplicate`; the same
//! id with another payload is `rejected` (`hash_mismatch`). Records that fail validation are
//! `rejected` (`invalid`) and logged in `rejected_ops`; the rest of the batch goes on. Nothing is
//! acknowledged unless the transaction committed.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use pos_sync_protocol::api::{self, PushRequest, PushResponse, RecordResult, RecordStatus};
use pos_sync_protocol::{Operation, SaleRecorded};
use sha2::{Digest, Sha256};
use tokio_postgres::Transaction;
use uuid::Uuid;

use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::http::Device;
use crate::state::AppState;

/// The largest amount or quantity accepted in any field: far above any real sale, far below
/// where sums could overflow.
const MAX_ABS: i64 = 1_000_000_000_000;
const MAX_LINES: usize = 2000;
const MAX_TEXT: usize = 500;

pub async fn push(State(state): State<AppState>, device: Device, body: Bytes) -> ApiResult<Json<PushResponse>> {
    let req: PushRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed", format!("the body is not a push request: {e}"))
    })?;
    if req.records.len() > api::MAX_PUSH_RECORDS || req.audit.len() > api::MAX_PUSH_AUDIT {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("at most {} records and {} audit entries per push", api::MAX_PUSH_RECORDS, api::MAX_PUSH_AUDIT),
        ));
    }
    let mut client = state.pool.get().await?;
    let tx = db::tenant_tx(&mut client, device.tenant).await?;
    let response = ingest(&tx, device, &req).await?;
    tx.commit().await?;
    Ok(Json(response))
}

/// A record that passed validation, ready to claim and apply.
struct Valid<'a> {
    index: usize,
    op_id: Uuid,
    rec: &'a api::PushRecord,
    hash: [u8; 32],
    op: Operation,
}

/// Applies a push inside `tx` (already scoped to the device's tenant).
pub async fn ingest(tx: &Transaction<'_>, device: Device, req: &PushRequest) -> ApiResult<PushResponse> {
    let dev = tx
        .query_opt(
            "SELECT audit_held_through, audit_last_hash, audit_public_key, venue_id FROM devices WHERE id = $1 FOR UPDATE",
            &[&device.device],
        )
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown device"))?;

    let mut results: Vec<Option<RecordResult>> = vec![None; req.records.len()];
    let mut valid = Vec::with_capacity(req.records.len());
    let mut rejected: Vec<(usize, &'static str, String)> = Vec::new();
    for (index, rec) in req.records.iter().enumerate() {
        match validate(rec) {
            Ok((op_id, hash, op)) => valid.push(Valid { index, op_id, rec, hash, op }),
            Err(message) => rejected.push((index, "invalid", message)),
        }
    }

    // An order or refund id that another operation already carried cannot be stored twice.
    let entity = |v: &Valid| match &v.op {
        Operation::SaleRecorded(s) => Some(uuid_of(&s.order_id)),
        Operation::RefundRecorded(r) => Some(uuid_of(&r.refund_id)),
        _ => None,
    };
    let ids: Vec<Uuid> = valid.iter().filter_map(entity).collect();
    if !ids.is_empty() {
        let taken: std::collections::HashSet<Uuid> = tx
            .query(
                "SELECT o.order_id FROM orders o WHERE o.order_id = ANY($1) \
                 AND NOT EXISTS (SELECT 1 FROM sync_ops s WHERE s.device_id = $2 AND s.op_id = ANY($3) \
                     AND s.payload->>'order_id' = o.order_id::text AND s.kind = 'sale_recorded') \
                 UNION ALL SELECT refund_id FROM refunds WHERE refund_id = ANY($1) \
                 AND NOT EXISTS (SELECT 1 FROM sync_ops s WHERE s.device_id = $2 AND s.op_id = ANY($3) \
                     AND s.payload->>'refund_id' = refunds.refund_id::text)",
                &[&ids, &device.device, &valid.iter().map(|v| v.op_id).collect::<Vec<_>>()],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut in_batch: HashMap<Uuid, Uuid> = HashMap::new();
        valid.retain(|v| match entity(v) {
            Some(id) if taken.contains(&id) => {
                rejected.push((v.index, "invalid", "another operation already recorded this order or refund".into()));
                false
            }
            Some(id) if *in_batch.entry(id).or_insert(v.op_id) != v.op_id => {
                rejected.push((
                    v.index,
                    "invalid",
                    "two operations in this batch record the same order or refund".into(),
                ));
                false
            }
            _ => true,
        });
    }

    // Claim: insert every valid record's key; the rows returned are the ones not seen before.
    let op_ids: Vec<Uuid> = valid.iter().map(|v| v.op_id).collect();
    let seqs: Vec<i64> = valid.iter().map(|v| v.rec.seq).collect();
    let kinds: Vec<&str> = valid.iter().map(|v| v.rec.kind.as_str()).collect();
    let hashes: Vec<&[u8]> = valid.iter().map(|v| &v.hash[..]).collect();
    let payloads: Vec<&str> = valid.iter().map(|v| v.rec.payload.as_str()).collect();
    let claimed: std::collections::HashSet<Uuid> = tx
        .query(
            "INSERT INTO sync_ops (tenant_id, device_id, op_id, seq, kind, payload_hash, payload) \
             SELECT $1, $2, o, s, k, h, p::jsonb FROM unnest($3::uuid[], $4::bigint[], $5::text[], $6::bytea[], $7::text[]) AS u(o, s, k, h, p) \
             ON CONFLICT DO NOTHING RETURNING op_id",
            &[&device.tenant, &device.device, &op_ids, &seqs, &kinds, &hashes, &payloads],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();

    // What was not claimed now was either stored before (a retry) or collides with another record.
    let unclaimed: Vec<Uuid> = op_ids.iter().filter(|id| !claimed.contains(id)).copied().collect();
    let mut stored: HashMap<Uuid, Vec<u8>> = HashMap::new();
    if !unclaimed.is_empty() {
        for row in tx
            .query(
                "SELECT op_id, payload_hash FROM sync_ops WHERE device_id = $1 AND op_id = ANY($2)",
                &[&device.device, &unclaimed],
            )
            .await?
        {
            stored.insert(row.get(0), row.get(1));
        }
    }
    let mut fresh = Vec::with_capacity(claimed.len());
    let mut first: HashMap<Uuid, [u8; 32]> = HashMap::new();
    for v in valid {
        let result = |status, code: Option<&str>, message: Option<String>| RecordResult {
            op_id: v.rec.op_id.clone(),
            seq: v.rec.seq,
            status,
            code: code.map(str::to_owned),
            message,
        };
        if let Some(h) = first.get(&v.op_id) {
            // The same operation twice in one batch: the first occurrence decides.
            if *h == v.hash {
                results[v.index] = Some(result(RecordStatus::Duplicate, None, None));
            } else {
                rejected.push((v.index, "hash_mismatch", "another payload under this operation id came first".into()));
            }
        } else if claimed.contains(&v.op_id) {
            first.insert(v.op_id, v.hash);
            results[v.index] = Some(result(RecordStatus::Stored, None, None));
            fresh.push(v);
        } else {
            match stored.get(&v.op_id) {
                Some(h) if h.as_slice() == v.hash => {
                    results[v.index] = Some(result(RecordStatus::Duplicate, None, None))
                }
                Some(_) => rejected.push((
                    v.index,
                    "hash_mismatch",
                    "another payload was already stored under this operation id".into(),
                )),
                None => rejected.push((
                    v.index,
                    "seq_conflict",
                    "another operation was already stored under this sequence number".into(),
                )),
            }
        }
    }

    let venue: Uuid = dev.get(3);
    apply(tx, device, venue, &fresh).await?;

    for (index, code, message) in &rejected {
        let rec = &req.records[*index];
        tx.execute(
            "INSERT INTO rejected_ops (tenant_id, device_id, op_id, seq, code, message) SELECT $1, $2, $3, $4, $5, $6 \
             WHERE NOT EXISTS (SELECT 1 FROM rejected_ops WHERE device_id = $2 AND op_id = $3 AND code = $5)",
            &[
                &device.tenant,
                &device.device,
                &rec.op_id.chars().take(100).collect::<String>(),
                &rec.seq,
                code,
                message,
            ],
        )
        .await?;
        results[*index] = Some(RecordResult {
            op_id: rec.op_id.clone(),
            seq: rec.seq,
            status: RecordStatus::Rejected,
            code: Some((*code).to_owned()),
            message: Some(message.clone()),
        });
    }

    let audit = crate::audit::ingest(
        tx,
        device,
        dev.get::<_, i64>(0),
        dev.get::<_, String>(1),
        dev.get::<_, Vec<u8>>(2),
        &req.audit,
    )
    .await?;
    tx.execute("UPDATE devices SET last_seen_at = now() WHERE id = $1", &[&device.device]).await?;
    Ok(PushResponse { results: results.into_iter().map(|r| r.expect("every record has a result")).collect(), audit })
}

fn check_text(what: &str, s: &str) -> Result<(), String> {
    if s.chars().count() > MAX_TEXT {
        return Err(format!("{what} is longer than {MAX_TEXT} characters"));
    }
    if s.contains('\0') {
        return Err(format!("{what} contains a NUL character"));
    }
    Ok(())
}

fn check_amount(what: &str, v: i64) -> Result<(), String> {
    if v.checked_abs().is_none_or(|a| a > MAX_ABS) {
        return Err(format!("{what} is out of range ({v})"));
    }
    Ok(())
}

fn check_uuid(what: &str, s: &str) -> Result<(), String> {
    Uuid::parse_str(s).map(|_| ()).map_err(|_| format!("{what} is not a UUID"))
}

fn check_instant(what: &str, s: &str) -> Result<(), String> {
    s.parse::<jiff::Timestamp>().map(|_| ()).map_err(|_| format!("{what} is not an RFC 3339 instant"))
}

fn check_day(what: &str, s: &str) -> Result<(), String> {
    s.parse::<jiff::civil::Date>().map(|_| ()).map_err(|_| format!("{what} is not a date"))
}

/// Everything the database would refuse, refused here first with a reason, so one bad record
/// never fails the batch.
fn validate(rec: &api::PushRecord) -> Result<(Uuid, [u8; 32], Operation), String> {
    let op_id = Uuid::parse_str(&rec.op_id).map_err(|_| "op_id is not a UUID".to_string())?;
    if rec.seq < 1 {
        return Err(format!("seq must be at least 1, not {}", rec.seq));
    }
    let hash: [u8; 32] = Sha256::digest(rec.payload.as_bytes()).into();
    if hex::decode(&rec.payload_hash).ok().as_deref() != Some(&hash[..]) {
        return Err("payload_hash is not the SHA-256 of the payload".into());
    }
    let op = Operation::decode(rec.payload.as_bytes()).map_err(|e| format!("the payload is not an operation: {e}"))?;
    if op.kind() != rec.kind {
        return Err(format!("kind {} does not match the payload ({})", rec.kind, op.kind()));
    }
    match &op {
        Operation::SaleRecorded(s) => validate_sale(s)?,
        Operation::OrderVoided(v) => {
            check_uuid("order_id", &v.order_id)?;
            check_instant("at", &v.at)?;
            check_text("reason", &v.reason)?;
            check_text("shift_id", &v.shift_id)?;
            check_amount("total", v.total)?;
        }
        Operation::RefundRecorded(r) => {
            check_uuid("refund_id", &r.refund_id)?;
            check_uuid("order_id", &r.order_id)?;
            check_day("business_day", &r.business_day)?;
            check_instant("at", &r.at)?;
            check_text("reason", &r.reason)?;
            check_text("shift_id", &r.shift_id)?;
            for v in [r.amount, r.tax_total, r.rounding, r.total, r.receipt_no, r.staff_id] {
                check_amount("an amount", v)?;
            }
            if r.lines.len() > MAX_LINES || r.payouts.len() > MAX_LINES || r.taxes.len() > MAX_LINES {
                return Err("too many lines".into());
            }
            for l in &r.lines {
                check_amount("qty_milli", l.qty_milli)?;
                check_amount("amount", l.amount)?;
                if l.taxes.len() > 50 {
                    return Err("a refund line has more than 50 taxes".into());
                }
                for t in &l.taxes {
                    check_amount("a line tax", t.tax)?;
                }
            }
            for t in &r.taxes {
                check_text("tax code", &t.code)?;
                for v in [t.rate_ppm, t.base, t.tax] {
                    check_amount("a tax figure", v)?;
                }
            }
            for p in &r.payouts {
                check_text("payout kind", &p.kind)?;
                check_amount("payout", p.amount)?;
            }
            let mut seen = std::collections::HashSet::new();
            if !r.lines.iter().all(|l| seen.insert(l.line_no)) {
                return Err("a refund line number repeats".into());
            }
            let mut seen = std::collections::HashSet::new();
            if !r.taxes.iter().all(|t| seen.insert((t.code.as_str(), t.rate_ppm))) {
                return Err("a refund tax rate repeats".into());
            }
            let mut seen = std::collections::HashSet::new();
            if !r.payouts.iter().all(|p| seen.insert((p.payment_seq, p.kind.as_str()))) {
                return Err("a refund payout repeats".into());
            }
        }
        Operation::ShiftOpened(s) => {
            check_text("shift_id", &s.shift_id)?;
            check_instant("at", &s.at)?;
            check_amount("float", s.float)?;
        }
        Operation::CashMoved(c) => {
            check_text("shift_id", &c.shift_id)?;
            check_text("reason", &c.reason)?;
            check_text("kind", &c.kind)?;
            check_instant("at", &c.at)?;
            check_amount("amount", c.amount)?;
        }
        Operation::ShiftClosed(c) => {
            check_text("shift_id", &c.shift_id)?;
            check_instant("at", &c.at)?;
            for v in [c.expected_cash, c.counted_cash, c.variance] {
                check_amount("a cash figure", v)?;
            }
            if c.count.len() > MAX_LINES {
                return Err("too many denominations".into());
            }
        }
    }
    Ok((op_id, hash, op))
}

fn validate_sale(s: &SaleRecorded) -> Result<(), String> {
    check_uuid("order_id", &s.order_id)?;
    check_day("business_day", &s.business_day)?;
    check_instant("opened_at", &s.opened_at)?;
    check_instant("paid_at", &s.paid_at)?;
    check_text("shift_id", &s.shift_id)?;
    if s.currency.len() != 3 || !s.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err("currency is not an ISO 4217 code".into());
    }
    for v in [s.subtotal, s.discount_total, s.tax_total, s.total, s.rounding, s.change_due, s.receipt_no, s.staff_id] {
        check_amount("an order figure", v)?;
    }
    if s.lines.is_empty() || s.lines.len() > MAX_LINES || s.taxes.len() > MAX_LINES || s.payments.len() > MAX_LINES {
        return Err("a sale needs between 1 and 2000 lines".into());
    }
    let mut seen = std::collections::HashSet::new();
    for l in &s.lines {
        if !seen.insert(l.line_no) {
            return Err(format!("line {} repeats", l.line_no));
        }
        check_text("sku_code", &l.sku_code)?;
        check_text("name", &l.name)?;
        check_text("category", &l.category)?;
        check_text("product", &l.product)?;
        if l.qty_milli <= 0 {
            return Err(format!("line {} has a quantity of {}", l.line_no, l.qty_milli));
        }
        for v in [
            l.qty_milli,
            l.list_price,
            l.unit_price,
            l.extended,
            l.line_discount,
            l.order_discount,
            l.amount,
            l.product_id,
        ] {
            check_amount("a line figure", v)?;
        }
        if l.taxes.len() > 50 {
            return Err(format!("line {} has more than 50 taxes", l.line_no));
        }
        for t in &l.taxes {
            check_amount("a line tax", t.tax)?;
        }
    }
    let mut seen = std::collections::HashSet::new();
    for t in &s.taxes {
        if !seen.insert((t.code.as_str(), t.rate_ppm)) {
            return Err(format!("tax {} repeats", t.code));
        }
        check_text("tax code", &t.code)?;
        for v in [t.rate_ppm, t.base, t.tax] {
            check_amount("a tax figure", v)?;
        }
    }
    let mut seen = std::collections::HashSet::new();
    for p in &s.payments {
        if !seen.insert(p.seq) {
            return Err(format!("payment {} repeats", p.seq));
        }
        check_text("payment kind", &p.kind)?;
        for v in [p.amount, p.tendered, p.change] {
            check_amount("a payment figure", v)?;
        }
        if let Some(c) = &p.card {
            for (what, v) in [
                ("last4", &c.last4),
                ("scheme", &c.scheme),
                ("auth_code", &c.auth_code),
                ("terminal_ref", &c.terminal_ref),
            ] {
                check_text(what, v)?;
            }
            if c.last4.len() != 4 || !c.last4.bytes().all(|b| b.is_ascii_digit()) {
                return Err("a card payment carries more than the last four digits".into());
            }
        }
    }
    Ok(())
}

fn uuid_of(s: &str) -> Uuid {
    Uuid::parse_str(s).expect("validated")
}

/// Writes the effects of newly claimed records: orders, refunds, voids and shift events, each
/// kind with one statement per table.
async fn apply(tx: &Transaction<'_>, device: Device, venue: Uuid, fresh: &[Valid<'_>]) -> ApiResult<()> {
    let sales: Vec<&SaleRecorded> = fresh
        .iter()
        .filter_map(|v| match &v.op {
            Operation::SaleRecorded(s) => Some(s),
            _ => None,
        })
        .collect();
    if !sales.is_empty() {
        insert_sales(tx, device, venue, &sales).await?;
    }
    let refunds: Vec<&pos_sync_protocol::RefundRecorded> = fresh
        .iter()
        .filter_map(|v| match &v.op {
            Operation::RefundRecorded(r) => Some(r),
            _ => None,
        })
        .collect();
    if !refunds.is_empty() {
        insert_refunds(tx, device, venue, &refunds).await?;
    }
    for v in fresh {
        match &v.op {
            Operation::OrderVoided(o) if o.was_paid => {
                tx.execute(
                    "UPDATE orders SET voided_at = $2::text::timestamptz WHERE order_id = $1 AND voided_at IS NULL",
                    &[&uuid_of(&o.order_id), &o.at],
                )
                .await?;
            }
            Operation::OrderVoided(o) => {
                let (zone, cutoff): (String, i32) = tx
                    .query_one("SELECT time_zone, day_cutoff_hour FROM venues WHERE id = $1", &[&venue])
                    .await
                    .map(|r| (r.get(0), r.get(1)))?;
                let rule = pos_core::business_day::BusinessDayRule::new(&zone, i64::from(cutoff))
                    .map_err(|_| ApiError::internal())?;
                let at: jiff::Timestamp = o.at.parse().map_err(|_| ApiError::internal())?;
                tx.execute(
                    "INSERT INTO unpaid_voids (tenant_id, venue_id, order_id, business_day, at, total) \
                     VALUES ($1, $2, $3, $4::text::date, $5::text::timestamptz, $6) ON CONFLICT DO NOTHING",
                    &[&device.tenant, &venue, &uuid_of(&o.order_id), &rule.day_of(at).to_string(), &o.at, &o.total],
                )
                .await?;
            }
            Operation::ShiftOpened(s) => {
                shift_event(tx, device, venue, v.op_id, &s.shift_id, "opened", &s.at, s.float, &v.op).await?
            }
            Operation::CashMoved(c) => {
                shift_event(tx, device, venue, v.op_id, &c.shift_id, &c.kind, &c.at, c.amount, &v.op).await?
            }
            Operation::ShiftClosed(c) => {
                shift_event(tx, device, venue, v.op_id, &c.shift_id, "closed", &c.at, c.counted_cash, &v.op).await?
            }
            _ => {}
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn shift_event(
    tx: &Transaction<'_>,
    device: Device,
    venue: Uuid,
    op_id: Uuid,
    shift: &str,
    kind: &str,
    at: &str,
    amount: i64,
    op: &Operation,
) -> ApiResult<()> {
    let detail = serde_json::to_value(op).map_err(|_| ApiError::internal())?;
    tx.execute(
        "INSERT INTO shift_events (tenant_id, venue_id, device_id, op_id, shift_id, kind, at, amount, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7::text::timestamptz, $8, $9)",
        &[&device.tenant, &venue, &device.device, &op_id, &shift, &kind, &at, &amount, &detail],
    )
    .await?;
    Ok(())
}

async fn insert_sales(tx: &Transaction<'_>, device: Device, venue: Uuid, sales: &[&SaleRecorded]) -> ApiResult<()> {
    let ids: Vec<Uuid> = sales.iter().map(|s| uuid_of(&s.order_id)).collect();
    let col = |f: fn(&SaleRecorded) -> i64| -> Vec<i64> { sales.iter().map(|s| f(s)).collect() };
    let text = |f: fn(&SaleRecorded) -> &str| -> Vec<&str> { sales.iter().map(|s| f(s)).collect() };
    tx.execute(
        "INSERT INTO orders (tenant_id, venue_id, device_id, order_id, receipt_no, shift_id, business_day, staff_id, \
             opened_at, paid_at, currency, subtotal, discount_total, tax_total, total, rounding, change_due) \
         SELECT $1, $2, $3, o, r, sh, d::date, st, oa::timestamptz, pa::timestamptz, c, sub, dis, tax, tot, rnd, chg \
         FROM unnest($4::uuid[], $5::bigint[], $6::text[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::text[], \
             $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[]) \
             AS u(o, r, sh, d, st, oa, pa, c, sub, dis, tax, tot, rnd, chg)",
        &[
            &device.tenant,
            &venue,
            &device.device,
            &ids,
            &col(|s| s.receipt_no),
            &text(|s| &s.shift_id),
            &text(|s| &s.business_day),
            &col(|s| s.staff_id),
            &text(|s| &s.opened_at),
            &text(|s| &s.paid_at),
            &text(|s| &s.currency),
            &col(|s| s.subtotal),
            &col(|s| s.discount_total),
            &col(|s| s.tax_total),
            &col(|s| s.total),
            &col(|s| s.rounding),
            &col(|s| s.change_due),
        ],
    )
    .await?;

    let mut l_order = Vec::new();
    let (mut l_no, mut l_sku, mut l_name, mut l_product, mut l_cat) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut l_qty, mut l_list, mut l_unit, mut l_ext, mut l_ld, mut l_od, mut l_amt) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut l_tax = Vec::new();
    let mut l_pname = Vec::new();
    let (mut t_order, mut t_code, mut t_rate, mut t_base, mut t_tax) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut p_order, mut p_seq, mut p_kind, mut p_amt, mut p_tend, mut p_chg) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut p_last4, mut p_scheme, mut p_auth, mut p_ref) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (s, id) in sales.iter().zip(&ids) {
        for l in &s.lines {
            l_order.push(*id);
            l_no.push(l.line_no as i32);
            l_sku.push(l.sku_code.as_str());
            l_name.push(l.name.as_str());
            l_product.push(l.product_id);
            l_pname.push(if l.product.is_empty() { l.name.as_str() } else { l.product.as_str() });
            l_cat.push(if l.category.is_empty() { "" } else { l.category.as_str() });
            l_qty.push(l.qty_milli);
            l_list.push(l.list_price);
            l_unit.push(l.unit_price);
            l_ext.push(l.extended);
            l_ld.push(l.line_discount);
            l_od.push(l.order_discount);
            l_amt.push(l.amount);
            l_tax.push(l.taxes.iter().map(|t| t.tax).sum::<i64>());
        }
        for t in &s.taxes {
            t_order.push(*id);
            t_code.push(t.code.as_str());
            t_rate.push(t.rate_ppm);
            t_base.push(t.base);
            t_tax.push(t.tax);
        }
        for p in &s.payments {
            p_order.push(*id);
            p_seq.push(p.seq as i32);
            p_kind.push(p.kind.as_str());
            p_amt.push(p.amount);
            p_tend.push(p.tendered);
            p_chg.push(p.change);
            p_last4.push(p.card.as_ref().map(|c| c.last4.as_str()));
            p_scheme.push(p.card.as_ref().map(|c| c.scheme.as_str()));
            p_auth.push(p.card.as_ref().map(|c| c.auth_code.as_str()));
            p_ref.push(p.card.as_ref().map(|c| c.terminal_ref.as_str()));
        }
    }
    tx.execute(
        "INSERT INTO order_lines (tenant_id, order_id, line_no, sku_code, name, product_id, category, qty_milli, list_price, \
             unit_price, extended, line_discount, order_discount, amount, tax, product) \
         SELECT $1, * FROM unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::bigint[], \
             $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::text[])",
        &[
            &device.tenant,
            &l_order,
            &l_no,
            &l_sku,
            &l_name,
            &l_product,
            &l_cat,
            &l_qty,
            &l_list,
            &l_unit,
            &l_ext,
            &l_ld,
            &l_od,
            &l_amt,
            &l_tax,
            &l_pname,
        ],
    )
    .await?;
    tx.execute(
        "INSERT INTO order_taxes (tenant_id, order_id, code, rate_ppm, base, tax) \
         SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])",
        &[&device.tenant, &t_order, &t_code, &t_rate, &t_base, &t_tax],
    )
    .await?;
    tx.execute(
        "INSERT INTO payments (tenant_id, order_id, seq, kind, amount, tendered, change, card_last4, card_scheme, \
             card_auth_code, card_terminal_ref) \
         SELECT $1, * FROM unnest($2::uuid[], $3::int[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], \
             $9::text[], $10::text[], $11::text[])",
        &[&device.tenant, &p_order, &p_seq, &p_kind, &p_amt, &p_tend, &p_chg, &p_last4, &p_scheme, &p_auth, &p_ref],
    )
    .await?;
    Ok(())
}

async fn insert_refunds(
    tx: &Transaction<'_>,
    device: Device,
    venue: Uuid,
    refunds: &[&pos_sync_protocol::RefundRecorded],
) -> ApiResult<()> {
    for r in refunds {
        let id = uuid_of(&r.refund_id);
        tx.execute(
            "INSERT INTO refunds (tenant_id, venue_id, device_id, refund_id, order_id, receipt_no, shift_id, business_day, \
                 staff_id, at, reason, amount, tax_total, rounding, total) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::date, $9, $10::text::timestamptz, $11, $12, $13, $14, $15)",
            &[
                &device.tenant,
                &venue,
                &device.device,
                &id,
                &uuid_of(&r.order_id),
                &r.receipt_no,
                &r.shift_id,
                &r.business_day,
                &r.staff_id,
                &r.at,
                &r.reason,
                &r.amount,
                &r.tax_total,
                &r.rounding,
                &r.total,
            ],
        )
        .await?;
        let no: Vec<i32> = r.lines.iter().map(|l| l.line_no as i32).collect();
        let qty: Vec<i64> = r.lines.iter().map(|l| l.qty_milli).collect();
        let amt: Vec<i64> = r.lines.iter().map(|l| l.amount).collect();
        let tax: Vec<i64> = r.lines.iter().map(|l| l.taxes.iter().map(|t| t.tax).sum::<i64>()).collect();
        tx.execute(
            "INSERT INTO refund_lines (tenant_id, refund_id, line_no, qty_milli, amount, tax) \
             SELECT $1, $2, * FROM unnest($3::int[], $4::bigint[], $5::bigint[], $6::bigint[])",
            &[&device.tenant, &id, &no, &qty, &amt, &tax],
        )
        .await?;
        let code: Vec<&str> = r.taxes.iter().map(|t| t.code.as_str()).collect();
        let rate: Vec<i64> = r.taxes.iter().map(|t| t.rate_ppm).collect();
        let base: Vec<i64> = r.taxes.iter().map(|t| t.base).collect();
        let tax: Vec<i64> = r.taxes.iter().map(|t| t.tax).collect();
        tx.execute(
            "INSERT INTO refund_taxes (tenant_id, refund_id, code, rate_ppm, base, tax) \
             SELECT $1, $2, * FROM unnest($3::text[], $4::bigint[], $5::bigint[], $6::bigint[])",
            &[&device.tenant, &id, &code, &rate, &base, &tax],
        )
        .await?;
        let seq: Vec<i32> = r.payouts.iter().map(|p| p.payment_seq as i32).collect();
        let kind: Vec<&str> = r.payouts.iter().map(|p| p.kind.as_str()).collect();
        let amount: Vec<i64> = r.payouts.iter().map(|p| p.amount).collect();
        tx.execute(
            "INSERT INTO refund_payouts (tenant_id, refund_id, payment_seq, kind, amount) \
             SELECT $1, $2, * FROM unnest($3::int[], $4::text[], $5::bigint[])",
            &[&device.tenant, &id, &seq, &kind, &amount],
        )
        .await?;
    }
    Ok(())
}
