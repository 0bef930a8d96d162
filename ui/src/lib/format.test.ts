import { describe, expect, it } from 'vitest';
import { age, label, money, quantity } from './format';

describe('format', () => {
  it('shows money with the currency symbol, never recomputing it', () => {
    expect(money('12.50', 'EUR')).toBe('€ 12.50');
    expect(money('-3.00', 'GBP')).toBe('−£ 3.00');
    expect(money('7.00', 'XYZ')).toBe('XYZ 7.00');
  });
  it('shows ages as a cashier reads them', () => {
    expect(age(42)).toBe('42 s');
    expect(age(600)).toBe('10 min');
    expect(age(3 * 3600 + 5 * 60)).toBe('3 h 5 min');
    expect(age(2 * 86400 + 4 * 3600)).toBe('2 d 4 h');
    expect(age(null)).toBe('');
  });
  it('shows thousandths as quantities', () => {
    expect(quantity(2000)).toBe('2');
    expect(quantity(250)).toBe('0.25');
    expect(quantity(1125)).toBe('1.125');
    expect(quantity(-1500)).toBe('-1.5');
  });
  it('labels codes', () => {
    expect(label('order_void')).toBe('Order void');
  });
});
