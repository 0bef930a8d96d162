import { describe, expect, it } from 'vitest';
import { fromKeyboard, press, type Key } from './keypad';

const typeKeys = (keys: Key[], decimals = 2) => keys.reduce((t, k) => press(t, k, decimals), '');

describe('amount keypad', () => {
  it('builds decimal text', () => {
    expect(typeKeys(['1', '2', '.', '5', '0'])).toBe('12.50');
    expect(typeKeys(['.', '5'])).toBe('0.5');
    expect(typeKeys(['2', '00'])).toBe('200');
  });
  it('refuses a third decimal and a second point', () => {
    expect(typeKeys(['1', '.', '2', '3', '4'])).toBe('1.23');
    expect(typeKeys(['1', '.', '.', '2'])).toBe('1.2');
  });
  it('allows three decimals for quantities and none when asked', () => {
    expect(typeKeys(['0', '.', '2', '5', '0'], 3)).toBe('0.250');
    expect(typeKeys(['1', '.', '5'], 0)).toBe('15');
  });
  it('drops leading zeros, deletes and clears', () => {
    expect(typeKeys(['0', '0', '7'])).toBe('7');
    expect(typeKeys(['1', '2', 'back'])).toBe('1');
    expect(typeKeys(['1', '2', 'clear'])).toBe('');
  });
  it('caps the integer part', () => {
    expect(typeKeys(Array(12).fill('9') as Key[])).toBe('999999999');
  });
  it('maps the physical keyboard', () => {
    expect(fromKeyboard('7')).toBe('7');
    expect(fromKeyboard(',')).toBe('.');
    expect(fromKeyboard('Backspace')).toBe('back');
    expect(fromKeyboard('a')).toBeNull();
  });
});
