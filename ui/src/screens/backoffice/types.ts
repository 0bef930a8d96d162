// Shapes the back office edits, as the Rust core serialises them. The core validates every value;
// these only name the fields so the forms edit the right keys.

/** pos-auth `Role::as_str`, in order from widest to narrowest. */
export const ROLES = ['owner', 'manager', 'supervisor', 'cashier', 'trainee'] as const;

/** pos-auth `OverridePolicy`: amounts in minor units of the venue currency, `null` = never by amount. */
export interface OverridePolicy {
  refund_above: number | null;
  order_void: boolean;
  line_void_above: number | null;
  discount_above_bp: number | null;
  price_override: boolean;
  no_sale: boolean;
  paid_out_above: number | null;
  force_close_variance_above: number | null;
  reopen_day: boolean;
  grant_ttl_secs: number;
}

/** pos-auth `LockoutPolicy`. */
export interface LockoutPolicy {
  free_failures: number;
  base_delay_secs: number;
  max_delay_secs: number;
  lock_after: number;
}

/** pos-app `SecurityPolicy`. */
export interface Policy {
  overrides: OverridePolicy;
  staff_lockout: LockoutPolicy;
  device_lockout: LockoutPolicy;
  auto_lock_secs: number;
  elevation_secs: number;
}

/** pos-print `CodePage::name` (the core accepts them in any case). */
export const CODE_PAGES = ['pc858', 'pc437', 'pc850', 'pc852', 'pc857', 'pc866', 'wpc1252'] as const;

/** Reads a whole number as typed: '' → null, digits → the number, anything else → undefined. */
export function wholeNumber(text: string): number | null | undefined {
  const t = text.trim();
  if (t === '') return null;
  return /^\d{1,15}$/.test(t) ? Number(t) : undefined;
}
