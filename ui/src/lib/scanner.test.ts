import { describe, expect, it } from 'vitest';
import { WedgeDetector } from './scanner';

function typeAll(d: WedgeDetector, text: string, start: number, gap: number): (string | null)[] {
  return [...text, 'Enter'].map((k, i) => d.feed(k, start + i * gap));
}

describe('WedgeDetector', () => {
  it('recognises a fast burst ending in Enter as a scan', () => {
    const d = new WedgeDetector();
    const out = typeAll(d, '4006381333931', 0, 8);
    expect(out.at(-1)).toBe('4006381333931');
    expect(out.slice(0, -1).every((x) => x === null)).toBe(true);
  });

  it('ignores a person typing at human speed', () => {
    const d = new WedgeDetector();
    expect(typeAll(d, '1234', 0, 150).at(-1)).toBeNull();
  });

  it('ignores codes that are too short', () => {
    const d = new WedgeDetector();
    expect(typeAll(d, '12', 0, 5).at(-1)).toBeNull();
  });

  it('starts over after a pause, so earlier typing does not prefix the scan', () => {
    const d = new WedgeDetector();
    d.feed('x', 0);
    d.feed('y', 10);
    expect(typeAll(d, '96385074', 1000, 5).at(-1)).toBe('96385074');
  });

  it('does not count a slow Enter after a fast burst', () => {
    const d = new WedgeDetector();
    ['1', '2', '3', '4', '5'].forEach((k, i) => d.feed(k, i * 5));
    expect(d.feed('Enter', 500)).toBeNull();
  });

  it('lets Shift through inside a burst (upper-case in-store codes)', () => {
    const d = new WedgeDetector();
    const keys = ['Shift', 'A', 'B', 'Shift', 'C', '1', '2', 'Enter'];
    const out = keys.map((k, i) => d.feed(k, i * 4));
    expect(out.at(-1)).toBe('ABC12');
  });
});
