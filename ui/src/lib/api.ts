// The window's only way to the register: one typed function per Rust command (src-tauri/commands.rs).
// Every rule is decided there; a refusal comes back as an IpcError with a code from a closed set.
// A Rust test checks that every command named here exists there, and the other way round.
import { invoke } from '@tauri-apps/api/core';

export type ErrorCode =
  | 'invalid_input' | 'not_found' | 'conflict' | 'no_open_shift' | 'insufficient_tender'
  | 'refund_exceeds_paid' | 'currency_mismatch' | 'wrong_pin' | 'not_signed_in' | 'session_locked'
  | 'permission_denied' | 'approval_required' | 'elevation_required' | 'account_locked'
  | 'device_locked' | 'too_many_attempts' | 'wrong_totp' | 'totp_not_enrolled' | 'day_closed'
  | 'audit_chain_broken' | 'printer_unavailable' | 'terminal_unavailable' | 'payment_not_approved'
  | 'cloud_unavailable' | 'device_revoked' | 'not_enrolled'
  | 'credential_store_unavailable' | 'key_missing' | 'wrong_key' | 'not_initialised'
  | 'already_initialised' | 'disk_full' | 'read_only' | 'store_damaged' | 'internal';

export const ERROR_CODES: readonly ErrorCode[] = [
  'invalid_input', 'not_found', 'conflict', 'no_open_shift', 'insufficient_tender',
  'refund_exceeds_paid', 'currency_mismatch', 'wrong_pin', 'not_signed_in', 'session_locked',
  'permission_denied', 'approval_required', 'elevation_required', 'account_locked',
  'device_locked', 'too_many_attempts', 'wrong_totp', 'totp_not_enrolled', 'day_closed',
  'audit_chain_broken', 'printer_unavailable', 'terminal_unavailable', 'payment_not_approved',
  'cloud_unavailable', 'device_revoked', 'not_enrolled',
  'credential_store_unavailable', 'key_missing', 'wrong_key', 'not_initialised',
  'already_initialised', 'disk_full', 'read_only', 'store_damaged', 'internal',
];

/** Money arrives as decimal text in the venue's currency ("12.50"). */
export type Money = string;

export interface Approver { id: number; name: string; role: string; totp_required: boolean }
export interface ApprovalRequest {
  request_id: string; action: string; amount: number; amount_text: string; subject: string;
  requested_by: string; reasons: string[]; approvers: Approver[]; expires_at: string;
}

export class IpcError extends Error {
  code: ErrorCode;
  approval?: ApprovalRequest;
  constructor(code: ErrorCode, message: string, approval?: ApprovalRequest) {
    super(message);
    this.code = code;
    this.approval = approval;
  }
}

/** Turns whatever a command rejected with into an IpcError (unknown shapes become `internal`). */
export function toIpcError(e: unknown): IpcError {
  if (e instanceof IpcError) return e;
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    const o = e as { code: string; message: string; approval?: ApprovalRequest };
    const code = (ERROR_CODES as readonly string[]).includes(o.code) ? (o.code as ErrorCode) : 'internal';
    return new IpcError(code, String(o.message), o.approval);
  }
  return new IpcError('internal', typeof e === 'string' ? e : 'unexpected error');
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

export interface StaffView { id: number; name: string; role: string }
export interface SessionView {
  staff_id: number; name: string; role: string; permissions: string[]; max_discount_bp: number;
  totp_enrolled: boolean; elevated_until: string | null;
}
export interface AppInfo {
  version: string; store_error: IpcError | null; venue: string | null; staff: StaffView[];
  signed_in: SessionView | null;
}
export interface OutboxStatus { depth: number; oldest_created_at: string | null; oldest_age_seconds: number | null }
export interface ShiftView {
  shift_id: string; business_day: string; opened_at: string; opened_by: string; float: Money; closed_at: string | null;
}
export interface PrinterQueue { name: string; role: string; unsent: number; last_error: string | null }
export interface StatusBar {
  venue: string; currency: string; business_day: string; outbox: OutboxStatus; shift: ShiftView | null;
  printers: PrinterQueue[]; open_card_payments: number; online: boolean; cloud: string;
  /** Records the cloud refused, waiting for a manager. */
  quarantined: number;
  signed_in: string | null; locked: boolean;
}
export interface QuarantinedRecord { seq: number; op_id: string; kind: string; code: string; message: string; at: string }
export interface SyncStatus {
  enrolled: boolean; online: boolean; revoked: boolean; cloud_url: string | null; device_id: string;
  venue_name: string | null; enrolled_at: string | null; outbox: OutboxStatus;
  quarantined: number; quarantine: QuarantinedRecord[];
  audit_head: number; audit_held_through: number; audit_fault: string | null; pull_cursor: number;
  last_push_at: string | null; last_pull_at: string | null; last_success_at: string | null;
  last_attempt_at: string | null; last_error: string | null; consecutive_failures: number;
  next_attempt_at: string | null;
}
export interface Category { id: number; name: string; items: number }
export interface Sku { sku: string; name: string; category: string; price: Money; barcodes: string[] }
export type Discount = { kind: 'percent'; value: number } | { kind: 'amount'; value: number };
export interface Line {
  line_no: number; sku: string; name: string; /** thousandths */ quantity: number; unit_price: Money; list_price: Money;
  discount: Discount | null; discount_amount: Money; amount: Money; tax: Money;
}
export interface TaxLine { code: string; rate: string; base: Money; tax: Money }
export interface Order {
  order_id: string; currency: string; lines: Line[]; subtotal: Money; discount_total: Money;
  taxes: TaxLine[]; tax_total: Money; total: Money; total_cash: Money;
}
export interface CardPayment {
  id: string; order_id: string; kind: string; amount: Money; status: string; card_last4: string | null;
  card_scheme: string | null; auth_code: string | null; terminal_ref: string | null; reason: string | null;
  started_at: string;
}
export interface PaymentPreview {
  order_id: string; total: Money; card_paid: Money; remaining: Money; remaining_cash: Money;
  cash_tendered: Money; change: Money; short: Money; can_complete: boolean; quick_cash: Money[];
  cards: CardPayment[];
}
export interface Payment {
  kind: string; amount: Money; tendered: Money; change: Money; card_last4: string | null;
  card_scheme: string | null; auth_code: string | null;
}
export interface SaleReceipt {
  order_id: string; receipt_no: number; business_day: string; paid_at: string; cashier: string; order: Order;
  rounding: Money; paid: Money; change_due: Money; payments: Payment[]; outbox_seq: number; audit_hash: string;
  print_jobs: string[]; print_error: string | null;
}
export interface OrderSummary {
  order_id: string; receipt_no: number | null; business_day: string; status: string; paid_at: string | null;
  cashier: string; total: Money; refunded_total: Money;
}
export interface OrderLineDetail {
  line_no: number; sku: string; name: string; /** thousandths */ quantity: number; unit_price: Money; discount: Money;
  amount: Money; tax: Money; refunded_quantity: number;
}
export interface OrderDetail extends OrderSummary {
  currency: string; subtotal: Money; discount_total: Money; tax_total: Money; rounding: Money;
  lines: OrderLineDetail[]; payments: { kind: string; amount: Money; card_last4: string | null; card_scheme: string | null }[];
}
export interface RefundReceipt {
  refund_id: string; receipt_no: number; order_id: string; original_receipt_no: number | null; at: string;
  lines: { line_no: number; quantity: number; amount: Money; tax: Money }[]; tax_total: Money; rounding: Money;
  total: Money; payouts: { kind: string; amount: Money }[]; outbox_seq: number; audit_hash: string;
}
export interface VoidReceipt {
  order_id: string; receipt_no: number | null; was_paid: boolean; total: Money; reason: string;
  outbox_seq: number | null; audit_hash: string;
}
export interface ApprovalGrant {
  request_id: string; action: string; amount_text: string; approved_by: string; reason: string; expires_at: string;
}
export interface TaxRow { code: string; rate: string; rate_ppm: number; base: Money; tax: Money; gross: Money }
export interface TenderRow { tender: string; sales: Money; refunds: Money; net: Money }
export interface SalesSummary {
  currency: string; prices_include_tax: boolean; order_count: number; gross: Money; discounts: Money;
  refunds: Money; refund_count: number; net: Money; tax: TaxRow[]; tax_total: Money; rounding: Money;
  tenders: TenderRow[]; average_ticket: Money;
}
export interface CashSummary {
  float: Money; cash_sales: Money; cash_refunds: Money; paid_in: Money; paid_out: Money; expected: Money;
  counted: Money | null; variance: Money | null;
  count: { denomination: Money; count: number; amount: Money }[];
  movements: { kind: string; amount: Money; reason: string; at: string }[];
}
export interface ShiftReport {
  report: 'x' | 'z' | 'X' | 'Z'; venue: string; shift_id: string; opened_at: string; opened_by: string;
  closed_at: string | null; closed_by: string | null; summary: SalesSummary; cash: CashSummary;
}
export interface DailySummary { report: string; venue: string; business_day: string; from: string; to: string; summary: SalesSummary }
export interface StaffAdmin {
  id: number; name: string; role: string; active: boolean; permissions: string[]; max_discount_bp: number;
  pin_locked: boolean; pin_failures: number; totp_enrolled: boolean; totp_required: boolean;
}
export interface TotpEnrolment { staff_id: number; otpauth_uri: string; secret_base32: string; qr_svg: string }
export interface Printer {
  name: string; connection: string; columns: number; code_page: string; role: string; categories: string[];
  drawer_pin: number | null;
}
export interface PrintJob {
  id: string; printer: string; kind: string; receipt_no: number | null; copy: number | null; status: string;
  attempts: number; last_error: string | null; created_at: string; sent_at: string | null; given_up: boolean;
}
export interface PrinterStatus {
  name: string; connection: string; reachable: boolean; problem: string | null; queued_jobs: number;
}
export interface AuditVerify {
  ok: boolean; device: string; public_key: string; entries: number; last_seq: number | null;
  last_hash: string | null; fault: unknown;
}
export interface ImportSummary { [k: string]: number }
/** The security policy is edited as a whole; the UI shows the override thresholds. */
export type SecurityPolicy = {
  overrides: Record<string, number>;
  staff_lockout: Record<string, number>;
  device_lockout: Record<string, number>;
  auto_lock_secs: number;
  elevation_secs: number;
};
export type TerminalConfig =
  | { kind: 'simulator'; outcome: 'approve' | 'decline' | 'cancel' | 'timeout'; delay_ms: number; scheme: string; last4: string }
  | { kind: 'standalone' }
  | { kind: 'zvt'; [k: string]: unknown };

/** A discount as typed: percent "10" or amount "2.50"; null removes it. */
export type DiscountInput = { kind: 'percent' | 'amount'; value: string } | null;
/** An order named by id or by receipt number. */
export type OrderRef = { id: string } | { receipt: number };

export const api = {
  appInfo: () => call<AppInfo>('app_info'),
  uiReady: () => call<void>('ui_ready'),
  signIn: (staff_id: number, pin: string) => call<SessionView>('sign_in', { staff_id, pin }),
  signOut: () => call<void>('sign_out'),
  lock: () => call<void>('lock_session'),
  unlock: (pin: string) => call<SessionView>('unlock_session', { pin }),
  session: () => call<SessionView>('session'),
  elevate: (pin: string, code: string) => call<SessionView>('elevate', { pin, code }),
  status: () => call<StatusBar>('status'),

  categories: () => call<Category[]>('categories'),
  products: (category_id: number) => call<Sku[]>('products', { category_id }),
  search: (query: string) => call<Sku[]>('search', { query }),
  importCatalog: (csv: string) => call<ImportSummary>('import_catalog', { csv }),

  openOrder: () => call<Order>('open_order'),
  order: (order_id: string) => call<Order>('order', { order_id }),
  addBySku: (order_id: string, sku: string, quantity = '1') =>
    call<Order>('add_item', { order_id, sku, barcode: null, quantity }),
  addByBarcode: (order_id: string, barcode: string) =>
    call<Order>('add_item', { order_id, sku: null, barcode, quantity: '1' }),
  setQuantity: (order_id: string, line_no: number, quantity: string) =>
    call<Order>('set_quantity', { order_id, line_no, quantity }),
  removeLine: (order_id: string, line_no: number) => call<Order>('remove_line', { order_id, line_no }),
  setLineDiscount: (order_id: string, line_no: number, discount: DiscountInput) =>
    call<Order>('set_line_discount', { order_id, line_no, discount }),
  setOrderDiscount: (order_id: string, discount: DiscountInput) =>
    call<Order>('set_order_discount', { order_id, discount }),
  overridePrice: (order_id: string, line_no: number, price: string) =>
    call<Order>('override_price', { order_id, line_no, price }),
  voidOpenOrder: (order_id: string, reason: string) => call<VoidReceipt>('void_open_order', { order_id, reason }),

  paymentPreview: (order_id: string, cash: string | null) =>
    call<PaymentPreview>('payment_preview', { order_id, cash }),
  payCard: (order_id: string, amount: string) => call<CardPayment>('pay_card', { order_id, amount }),
  completeSale: (order_id: string, cash: string | null) => call<SaleReceipt>('complete_sale', { order_id, cash }),
  printReceipt: (order: string) => call<PrintJob>('print_receipt', { order }),

  orders: (from: string, to: string) => call<OrderSummary[]>('orders', { from, to }),
  orderDetail: (order: OrderRef) => call<OrderDetail>('order_detail', { order }),
  refund: (order: OrderRef, lines: [number, string][] | null, reason: string) =>
    call<RefundReceipt>('refund', { order, lines, reason }),
  voidOrder: (order: OrderRef, reason: string) => call<VoidReceipt>('void_order', { order, reason }),

  approve: (request_id: string, approver_id: number, pin: string, totp: string | null, reason: string) =>
    call<ApprovalGrant>('approve', { request_id, approver_id, pin, totp, reason }),
  deny: (request_id: string, approver_id: number, pin: string) => call<void>('deny', { request_id, approver_id, pin }),
  cancelApproval: (request_id: string) => call<void>('cancel_approval', { request_id }),

  openShift: (float: string) => call<ShiftView>('open_shift', { float }),
  cashMovement: (kind: 'paid_in' | 'paid_out', amount: string, reason: string) =>
    call<void>('cash_movement', { kind, amount, reason }),
  noSale: (reason: string) => call<string>('no_sale', { reason }),
  denominations: () => call<[number, Money][]>('denominations'),
  xReport: () => call<ShiftReport>('x_report'),
  closeShift: (counts: [number, number][]) => call<ShiftReport>('close_shift', { counts }),
  zReport: (shift_id: string | null) => call<ShiftReport>('z_report', { shift_id }),
  shiftReportPdf: (shift_id: string | null) => call<string>('shift_report_pdf', { shift_id }),
  printShiftReport: (shift_id: string | null) => call<PrintJob>('print_shift_report', { shift_id }),

  staffAdmin: () => call<StaffAdmin[]>('staff_admin'),
  addStaff: (name: string, role: string, pin: string) => call<StaffAdmin>('add_staff', { name, role, pin }),
  setStaffRole: (staff_id: number, role: string) => call<StaffAdmin>('set_staff_role', { staff_id, role }),
  resetPin: (staff_id: number, pin: string) => call<void>('reset_pin', { staff_id, pin }),
  setStaffActive: (staff_id: number, active: boolean) => call<void>('set_staff_active', { staff_id, active }),
  unlockStaff: (staff_id: number) => call<void>('unlock_staff', { staff_id }),
  beginTotpEnrolment: (staff_id: number) => call<TotpEnrolment>('begin_totp_enrolment', { staff_id }),
  confirmTotpEnrolment: (staff_id: number, code: string) => call<void>('confirm_totp_enrolment', { staff_id, code }),

  securityPolicy: () => call<SecurityPolicy>('security_policy'),
  setSecurityPolicy: (policy: SecurityPolicy) => call<void>('set_security_policy', { policy }),
  terminalConfig: () => call<TerminalConfig | null>('terminal_config'),
  setTerminal: (config: TerminalConfig) => call<void>('set_terminal', { config }),
  printers: () => call<Printer[]>('printers'),
  addPrinter: (printer: Printer) => call<Printer>('add_printer', { printer }),
  removePrinter: (name: string) => call<void>('remove_printer', { name }),
  printTestPage: (name: string) => call<PrintJob>('print_test_page', { name }),
  printerStatus: (name: string) => call<PrinterStatus>('printer_status', { name }),

  dailySummary: (day: string) => call<DailySummary>('daily_summary', { day }),
  itemMix: (from: string, to: string) => call<unknown>('item_mix', { from, to }),
  paymentsReport: (day: string) => call<unknown>('payments_report', { day }),
  taxExport: (from: string, to: string) => call<unknown>('tax_export', { from, to }),
  exportReport: (kind: 'daily' | 'item-mix' | 'payments' | 'tax', from: string, to: string) =>
    call<string>('export_report', { kind, from, to }),
  verifyAudit: () => call<AuditVerify>('verify_audit'),
  exportAudit: () => call<string>('export_audit'),

  syncOverview: () => call<SyncStatus>('sync_overview'),
  retryQuarantined: (seq: number) => call<SyncStatus>('retry_quarantined', { seq }),
  syncNow: () => call<SyncStatus>('sync_now'),

  quit: () => call<void>('quit'),
};
