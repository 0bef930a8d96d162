// Display helpers. They format what the core computed; they never compute money.

const SYMBOLS: Record<string, string> = { EUR: '€', USD: '$', GBP: '£', CHF: 'CHF', AUD: 'A$', JPY: '¥' };

/** "12.50" in EUR → "€ 12.50". */
export function money(amount: string | null | undefined, currency: string): string {
  if (amount === null || amount === undefined) return '';
  const sym = SYMBOLS[currency] ?? currency;
  return amount.startsWith('-') ? `−${sym} ${amount.slice(1)}` : `${sym} ${amount}`;
}

/** How old something is, as a cashier reads it: "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function age(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '';
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** A quantity from the core (thousandths) as text: 2000 → "2", 250 → "0.25", -1500 → "-1.5". */
export function quantity(milli: number): string {
  const sign = milli < 0 ? '-' : '';
  const m = Math.abs(Math.trunc(milli));
  const int = Math.floor(m / 1000);
  const frac = String(m % 1000).padStart(3, '0').replace(/0+$/, '');
  return frac ? `${sign}${int}.${frac}` : `${sign}${int}`;
}

/** "order_void" → "Order void". */
export function label(code: string): string {
  const t = code.replace(/_/g, ' ');
  return t.charAt(0).toUpperCase() + t.slice(1);
}
