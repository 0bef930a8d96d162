// Barcode scanners are keyboard wedges: they type the code much faster than a person can and
// end it with Enter. This detector tells such a burst from typing, wherever the focus is.

/** Longest gap between two keys of one scan, in ms (scanners type a key every 1–20 ms). */
export const SCAN_GAP_MS = 40;
/** Shortest code accepted as a scan (the core accepts in-store codes of 4+ characters). */
export const SCAN_MIN_LENGTH = 4;

export class WedgeDetector {
  private buffer = '';
  private last = -Infinity;

  /**
   * Feeds one keydown (`key` as in KeyboardEvent.key, `at` in ms). Returns the scanned code when
   * this Enter ends a scan, otherwise null.
   */
  feed(key: string, at: number): string | null {
    const gap = at - this.last;
    this.last = at;
    if (key === 'Enter') {
      const code = this.buffer;
      this.buffer = '';
      return gap <= SCAN_GAP_MS && code.length >= SCAN_MIN_LENGTH ? code : null;
    }
    if (key.length !== 1) {
      // Shift and other modifiers come between a scanner's characters; they neither end nor reset it.
      if (key === 'Shift') return null;
      this.buffer = '';
      return null;
    }
    this.buffer = gap <= SCAN_GAP_MS ? this.buffer + key : key;
    return null;
  }

  /** True while a fast burst is under way (its keys should not reach a focused field). */
  inBurst(at: number): boolean {
    return this.buffer.length >= 2 && at - this.last <= SCAN_GAP_MS;
  }

  reset(): void {
    this.buffer = '';
    this.last = -Infinity;
  }
}
