import { canonicalJson } from '../../../platform/canonical-json.js';

/**
 * Fast paths for the text an event's hash covers. Verification re-encodes every event, hundreds of
 * thousands a second, so this writes the UTF-8 bytes of the canonical encoding straight into one
 * reused buffer instead of building a string and encoding it. Every writer produces exactly the bytes
 * its slow twin (`JSON.stringify`, `canonicalJson`, `Date#toISOString`, then UTF-8) would, and hands
 * anything unusual to that twin. Not re-entrant: nothing it calls may use the same writer.
 */
const VIEW_CACHE_LIMIT = 4096;

export class Utf8Writer {
  private buf = Buffer.allocUnsafe(VIEW_CACHE_LIMIT);
  private pos = 0;
  /** Views of the buffer by length, so that handing the bytes to the hash allocates nothing. */
  private views: Buffer[] = [];
  private cachedSecond = NaN;
  private cachedPrefix = '';

  reset(): void {
    this.pos = 0;
  }

  /** The bytes written since the last reset; valid until the next write. */
  bytes(): Buffer {
    const pos = this.pos;
    if (pos > VIEW_CACHE_LIMIT) return this.buf.subarray(0, pos);
    return (this.views[pos] ??= this.buf.subarray(0, pos));
  }

  /** A comma, then `jsonString(text)`. */
  nextString(text: string): void {
    this.byte(0x2c);
    this.jsonString(text);
  }

  nextNullable(text: string | null): void {
    this.byte(0x2c);
    if (text === null) this.ascii('null');
    else this.jsonString(text);
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.views = [];
  }

  byte(code: number): void {
    this.ensure(1);
    this.buf[this.pos++] = code;
  }

  /** Text the caller knows to be ASCII (numbers, literals, ISO timestamps). */
  ascii(text: string): void {
    const n = text.length;
    this.ensure(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = text.charCodeAt(i);
    this.pos = pos;
  }

  /** `String(value)` for a number; sequence numbers (safe non-negative integers) without a string. */
  number(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      this.ascii(String(value));
      return;
    }
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits += 1;
    this.ensure(digits);
    let pos = this.pos + digits;
    this.pos = pos;
    let rest = value;
    do {
      this.buf[--pos] = 0x30 + (rest % 10);
      rest = Math.floor(rest / 10);
    } while (rest > 0);
  }

  /** `date.toISOString()`, reusing the date-and-time part while events share a second (they mostly do). */
  isoTimestamp(date: Date): void {
    const ms = date.getTime();
    const second = Math.floor(ms / 1000);
    if (second !== this.cachedSecond) {
      // throws RangeError on an invalid date, as toISOString does (NaN never equals the cache)
      this.cachedPrefix = date.toISOString().slice(0, -5);
      this.cachedSecond = second;
    }
    this.ascii(this.cachedPrefix);
    const milli = ms - second * 1000;
    this.ensure(5);
    const buf = this.buf;
    buf[this.pos++] = 0x2e;
    buf[this.pos++] = 0x30 + Math.floor(milli / 100);
    buf[this.pos++] = 0x30 + (Math.floor(milli / 10) % 10);
    buf[this.pos++] = 0x30 + (milli % 10);
    buf[this.pos++] = 0x5a;
  }

  /** Any text, as UTF-8 (a UTF-16 code unit never needs more than 3 bytes). */
  utf8(text: string): void {
    this.ensure(text.length * 3);
    this.pos += this.buf.write(text, this.pos, 'utf8');
  }

  /** `JSON.stringify(text)`: copied byte for byte while it is printable ASCII without `"` or `\`. */
  jsonString(text: string): void {
    const n = text.length;
    this.ensure(n + 2);
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    buf[pos++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7f) {
        this.pos = start;
        this.utf8(JSON.stringify(text));
        return;
      }
      buf[pos++] = c;
    }
    buf[pos++] = 0x22;
    this.pos = pos;
  }

  /** `canonicalJson(value)` for the JSON values details hold; anything unusual goes to canonicalJson. */
  canonicalJson(value: unknown): void {
    switch (typeof value) {
      case 'string':
        this.jsonString(value);
        return;
      case 'number':
        // String() and JSON.stringify agree on finite numbers (including -0 → "0")
        if (Number.isFinite(value)) this.number(value);
        else this.ascii('null');
        return;
      case 'boolean':
        this.ascii(value ? 'true' : 'false');
        return;
      case 'object': {
        if (value === null) {
          this.ascii('null');
        } else if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
          this.utf8(canonicalJson(value));
        } else if (Array.isArray(value)) {
          this.byte(0x5b);
          for (let i = 0; i < value.length; i++) {
            if (i) this.byte(0x2c);
            this.canonicalJson(value[i]);
          }
          this.byte(0x5d);
        } else {
          const record = value as Record<string, unknown>;
          const keys = sortedKeys(record);
          let first = true;
          this.byte(0x7b);
          for (const key of keys) {
            const inner = record[key];
            if (inner === undefined || typeof inner === 'function') continue;
            if (!first) this.byte(0x2c);
            first = false;
            this.jsonString(key);
            this.byte(0x3a);
            this.canonicalJson(inner);
          }
          this.byte(0x7d);
        }
        return;
      }
      case 'bigint':
      case 'function':
      case 'symbol':
      case 'undefined':
        this.utf8(canonicalJson(value));
    }
  }
}

/**
 * `Object.keys(record).sort()`: by UTF-16 code units, as RFC 8785 (and canonicalJson) require. Details
 * have a handful of keys, for which an insertion sort with `<` (which compares code units too) is
 * several times faster than the generic sort.
 */
function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j -= 1;
    }
    keys[j + 1] = key;
  }
  return keys;
}
