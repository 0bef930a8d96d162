// An amount typed on the on-screen keypad, kept as decimal text for the core to parse.

export type Key = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '00' | '.' | 'back' | 'clear';

/** Applies one key to `text` with at most `decimals` digits after the point and 9 before it. */
export function press(text: string, key: Key, decimals = 2): string {
  if (key === 'clear') return '';
  if (key === 'back') return text.slice(0, -1);
  if (key === '.') {
    if (decimals === 0 || text.includes('.')) return text;
    return (text === '' ? '0' : text) + '.';
  }
  const next = text === '0' ? key.replace(/^0+/, '') || '0' : text + key;
  const [int, frac] = next.split('.');
  if (frac !== undefined && frac.length > decimals) return text;
  if (int.length > 9) return text;
  return next;
}

/** Maps a physical key to a keypad key, or null. */
export function fromKeyboard(key: string): Key | null {
  if (/^[0-9]$/.test(key)) return key as Key;
  if (key === '.' || key === ',') return '.';
  if (key === 'Backspace') return 'back';
  if (key === 'Delete' || key === 'Escape') return 'clear';
  return null;
}
