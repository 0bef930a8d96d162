//! What the façade returns: read-only views for the app, the CLI and tests. They carry decimal
//! strings and names, never store rows or secrets.

use pos_core::money::{Money, Quantity};
use pos_core::order::Discount;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffView {
    pub id: i64,
    pub name: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineView {
    pub line_no: u32,
    pub sku: String,
    pub name: String,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub list_price: Money,
    pub discount: Option<Discount>,
    pub discount_amount: Money,
    pub amount: Money,
    pub tax: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxLineView {
    pub code: String,
    pub rate: String,
    pub base: Money,
    pub tax: Money,
}

/// An order being rung up, priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderView {
    pub order_id: String,
    pub currency: String,
    pub lines: Vec<LineView>,
    pub subtotal: Money,
    pub discount_total: Money,
    pub taxes: Vec<TaxLineView>,
    pub tax_total: Money,
    pub total: Money,
    /// What is due if paid entirely in cash (after cash rounding).
    pub total_cash: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentView {
    pub kind: String,
    pub amount: Money,
    pub tendered: Money,
    pub change: Money,
    pub card_last4: Option<String>,
    pub card_scheme: Option<String>,
    pub auth_code: Option<String>,
}

/// A completed sale, durable on disk when returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SaleReceipt {
    pub order_id: String,
    pub receipt_no: i64,
    pub business_day: String,
    pub paid_at: String,
    pub cashier: String,
    pub order: OrderView,
    pub rounding: Money,
    pub paid: Money,
    pub change_due: Money,
    pub payments: Vec<PaymentView>,
    pub outbox_seq: i64,
    /// The short hash of this action's audit entry, printed on the receipt.
    pub audit_hash: String,
    /// Print jobs queued after the sale committed (drawer, receipt, kitchen tickets).
    pub print_jobs: Vec<String>,
    /// Why nothing could be queued, if so. The sale stands; reprint by receipt number.
    pub print_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoidReceipt {
    pub order_id: String,
    pub receipt_no: Option<i64>,
    pub was_paid: bool,
    pub total: Money,
    pub reason: String,
    pub outbox_seq: Option<i64>,
    /// The short hash of this action's audit entry, printed on the receipt.
    pub audit_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundLineView {
    pub line_no: u32,
    pub quantity: Quantity,
    pub amount: Money,
    pub tax: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayoutView {
    pub kind: String,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundReceipt {
    pub refund_id: String,
    pub receipt_no: i64,
    pub order_id: String,
    pub original_receipt_no: Option<i64>,
    pub at: String,
    pub lines: Vec<RefundLineView>,
    pub tax_total: Money,
    pub rounding: Money,
    pub total: Money,
    pub payouts: Vec<PayoutView>,
    pub outbox_seq: i64,
    /// The short hash of this action's audit entry, printed on the receipt.
    pub audit_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShiftView {
    pub shift_id: String,
    pub business_day: String,
    pub opened_at: String,
    pub opened_by: String,
    pub float: Money,
    pub closed_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkuView {
    pub sku: String,
    pub name: String,
    pub category: String,
    pub price: Money,
    pub barcodes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxStatus {
    pub depth: i64,
    pub oldest_created_at: Option<String>,
    pub oldest_age_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoctorReport {
    pub ok: bool,
    pub credential_store: String,
    pub store_id: String,
    pub database: String,
    pub cipher_version: String,
    /// The crypto provider that encrypts the pages: `pos-rustcrypto`.
    pub cipher_provider: String,
    pub integrity: Vec<String>,
    pub schema_version: i64,
    pub schema_version_supported: i64,
    pub outbox: OutboxStatus,
    pub catalog_skus: usize,
    pub open_shift: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub rows: usize,
    pub skus_created: usize,
    pub skus_updated: usize,
    pub products_created: usize,
    pub categories_created: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportLineView {
    pub line_no: i64,
    pub sku: String,
    pub name: String,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub discount: Money,
    pub amount: Money,
    pub tax: Money,
    pub refunded_quantity: Quantity,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportPaymentView {
    pub kind: String,
    pub amount: Money,
    pub card_last4: Option<String>,
    pub card_scheme: Option<String>,
    pub auth_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportOrderView {
    pub order_id: String,
    pub receipt_no: Option<i64>,
    pub business_day: String,
    pub status: String,
    pub paid_at: Option<String>,
    pub cashier: String,
    pub currency: String,
    pub subtotal: Money,
    pub discount_total: Money,
    pub tax_total: Money,
    pub total: Money,
    pub rounding: Money,
    pub refunded_total: Money,
    pub lines: Vec<ExportLineView>,
    pub payments: Vec<ExportPaymentView>,
}

/// One order in a list (today's orders, find by receipt number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderSummaryView {
    pub order_id: String,
    pub receipt_no: Option<i64>,
    pub business_day: String,
    pub status: String,
    pub paid_at: Option<String>,
    pub cashier: String,
    pub total: Money,
    pub refunded_total: Money,
}

/// What a manager is asked to approve. Returned inside an `approval_required` error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalRequestView {
    pub request_id: String,
    /// e.g. `refund`, `order_void`, `discount`.
    pub action: String,
    /// Minor units of money, or basis points for a discount.
    pub amount: i64,
    /// The amount as people read it: "25.00 EUR" or "15%".
    pub amount_text: String,
    /// What the action is on: an order id, a line, a shift, a day.
    pub subject: String,
    pub requested_by: String,
    /// Reason codes the manager picks from.
    pub reasons: Vec<String>,
    /// Staff who may approve it (never the requester), and whether each must also enter an
    /// authenticator code.
    pub approvers: Vec<ApproverView>,
    pub expires_at: String,
}

/// Someone who may approve a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApproverView {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub totp_required: bool,
}

/// A manager's approval, usable once, for the same action and amount, until it expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalGrantView {
    pub request_id: String,
    pub action: String,
    pub amount_text: String,
    pub approved_by: String,
    pub reason: String,
    pub expires_at: String,
}

/// A staff member as the back office sees them (never their PIN hash or TOTP secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffAdminView {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub active: bool,
    pub permissions: Vec<String>,
    pub max_discount_bp: u32,
    pub pin_locked: bool,
    pub pin_failures: u32,
    pub totp_enrolled: bool,
    pub totp_required: bool,
}

/// What the signed-in person may do, for the UI to show or hide (the façade checks regardless).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionView {
    pub staff_id: i64,
    pub name: String,
    pub role: String,
    pub permissions: Vec<String>,
    pub max_discount_bp: u32,
    pub totp_enrolled: bool,
    pub elevated_until: Option<String>,
}

/// TOTP enrolment: show the QR code (or the secret) once, then confirm with a first code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TotpEnrolmentView {
    pub staff_id: i64,
    pub otpauth_uri: String,
    pub secret_base32: String,
    pub qr_svg: String,
}

/// The result of `audit verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerifyView {
    pub ok: bool,
    pub device: String,
    pub public_key: String,
    pub entries: u64,
    pub last_seq: Option<u64>,
    pub last_hash: Option<String>,
    pub fault: Option<pos_audit::Fault>,
}

/// One entry of an audit export: the stored entry and, for convenience, its body parsed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditExportView {
    pub format: &'static str,
    pub device: String,
    /// Ed25519 public key, hex.
    pub public_key: String,
    pub entries: Vec<pos_audit::Entry>,
}
