import { createHash } from 'node:crypto';
import { parse as parseCsv } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/modules/audit/audit.types.js';
import {
  canonicalEncoding,
  createChainVerifier,
  GENESIS_HASH,
  hashEvent,
} from '../../src/modules/audit/domain/chain.js';
import {
  csvCell,
  csvColumns,
  formatEvent,
  formatHeader,
  toExportRecord,
} from '../../src/modules/audit/domain/export-format.js';
import { canonicalJson } from '../../src/platform/canonical-json.js';

type Unhashed = Omit<AuditEvent, 'hash'>;

const T0 = Date.parse('2026-03-01T12:00:00.000Z');

function baseEvent(seq: number, prevHash: string): Unhashed {
  return {
    seq,
    id: `0190a5c4-0000-7000-8000-${String(seq).padStart(12, '0')}`,
    occurredAt: new Date(T0 + seq * 1000),
    actorType: 'operator',
    actorId: 'op-1',
    actorName: 'alice',
    action: seq % 2 ? 'grant.created' : 'grant.revoked',
    targetType: 'asset',
    targetId: `asset-${seq}`,
    ticket: 'OPS-1',
    details: { n: seq, reason: 'maintenance', nested: { list: [1, 'two', null, true] } },
    requestId: `req-${seq}`,
    sourceIp: '10.0.0.7',
    prevHash,
  };
}

const seal = (event: Unhashed): AuditEvent => ({ ...event, hash: hashEvent(event) });

/** A valid chain of `n` events starting after the anchor. */
function makeChain(n: number, anchor = { seq: 0, hash: GENESIS_HASH }): AuditEvent[] {
  const events: AuditEvent[] = [];
  let prev = anchor.hash;
  for (let seq = anchor.seq + 1; seq <= anchor.seq + n; seq++) {
    const event = seal(baseEvent(seq, prev));
    events.push(event);
    prev = event.hash;
  }
  return events;
}

/** Re-links the chain from index `from` on, as an attacker who knows the (public) hash function would. */
function relink(events: AuditEvent[], from: number): AuditEvent[] {
  const out = events.slice(0, from);
  let prev = from === 0 ? GENESIS_HASH : out[from - 1]!.hash;
  for (const event of events.slice(from)) {
    const { hash: _old, ...rest } = event;
    const fixed = seal({ ...rest, prevHash: prev });
    out.push(fixed);
    prev = fixed.hash;
  }
  return out;
}

function verifyAll(events: AuditEvent[], start?: { seq: number; hash: string }) {
  const verifier = createChainVerifier(start);
  for (const event of events) if (!verifier.push(event)) break;
  return verifier;
}

// ---- arbitraries -------------------------------------------------------------------------------------

const text = fc.string({ unit: 'binary', maxLength: 20 });
const nullableText = fc.option(text, { nil: null });
const details = fc.dictionary(text, fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }), {
  maxKeys: 6,
}) as fc.Arbitrary<Record<string, unknown>>;
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);

const unhashedEvent: fc.Arbitrary<Unhashed> = fc.record({
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  id: fc.uuid(),
  occurredAt: fc.date({
    min: new Date('1970-01-01T00:00:00Z'),
    max: new Date('2999-12-31T23:59:59Z'),
    noInvalidDate: true,
  }),
  actorType: fc.constantFrom('operator' as const, 'token' as const, 'system' as const),
  actorId: nullableText,
  actorName: text,
  action: text,
  targetType: nullableText,
  targetId: nullableText,
  ticket: nullableText,
  // JSON-normalised, as the appender stores them
  details: details.map((d) => JSON.parse(JSON.stringify(d)) as Record<string, unknown>),
  requestId: nullableText,
  sourceIp: nullableText,
  prevHash: hex64,
});

/** A deep copy with every object's keys inserted in a different order. */
function shuffleKeys(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, rand));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    Object.defineProperty(out, k, { value: shuffleKeys(v, rand), enumerable: true, writable: true });
  }
  return out;
}

function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

// ---- canonical encoding and hash ---------------------------------------------------------------------

describe('canonicalEncoding and hashEvent', () => {
  it('is a SHA-256 over the documented encoding (known-answer vector)', () => {
    const event = baseEvent(7, GENESIS_HASH);
    const encoding = canonicalEncoding(event);
    expect(encoding).toBe(
      '["gatehouse.audit.v1",7,"0190a5c4-0000-7000-8000-000000000007","2026-03-01T12:00:07.000Z",' +
        '"operator","op-1","alice","grant.created","asset","asset-7","OPS-1",' +
        '{"n":7,"nested":{"list":[1,"two",null,true]},"reason":"maintenance"},' +
        `"req-7","10.0.0.7","${GENESIS_HASH}"]`,
    );
    expect(hashEvent(event)).toBe(createHash('sha256').update(encoding, 'utf8').digest('hex'));
    // pinned, so that a change to what is hashed cannot slip through as a refactoring
    expect(hashEvent(event)).toBe('b804eb4f4d86b3530fa92d3269eba9f15cc9e3ab53f3f9a463ab4467c1480d1c');
  });

  it('encodes every field unambiguously as one JSON array', () => {
    fc.assert(
      fc.property(unhashedEvent, (event) => {
        const parsed = JSON.parse(canonicalEncoding(event)) as unknown[];
        expect(parsed).toEqual([
          'gatehouse.audit.v1',
          event.seq,
          event.id,
          event.occurredAt.toISOString(),
          event.actorType,
          event.actorId,
          event.actorName,
          event.action,
          event.targetType,
          event.targetId,
          event.ticket,
          event.details,
          event.requestId,
          event.sourceIp,
          event.prevHash,
        ]);
        expect(hashEvent(event)).toMatch(/^[0-9a-f]{64}$/);
        expect(hashEvent(event)).toBe(createHash('sha256').update(canonicalEncoding(event)).digest('hex'));
      }),
    );
  });

  const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

  it('hashes exactly the UTF-8 of canonicalEncoding, for any details, normalised or not', () => {
    // hashEvent writes the bytes itself for speed; canonicalEncoding is the readable definition
    const odd = fc.constantFrom<unknown>(
      undefined,
      -0,
      NaN,
      -Infinity,
      1e21,
      5e-324,
      new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
      { toJSON: () => ({ b: 1, a: [2] }) },
      () => 1,
      '\u0000\u001f\u007f\u2028\ud800\udc00\ud83d\ude00 "\\',
    );
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' }), odd);
    const anyDetails = fc.dictionary(fc.oneof(text, fc.constantFrom('10', '9', '__proto__', '')), value, {
      maxKeys: 8,
    });
    fc.assert(
      fc.property(unhashedEvent, anyDetails, (event, d) => {
        const withDetails = { ...event, details: d };
        expect(hashEvent(withDetails)).toBe(sha256(canonicalEncoding(withDetails)));
      }),
      { numRuns: 500 },
    );
  });

  it('hashes events of any size, and dates outside four-digit years', () => {
    const event = baseEvent(1, GENESIS_HASH);
    for (const size of [0, 4095, 4096, 70_000]) {
      const big = { ...event, actorName: 'é'.repeat(size), details: { text: '😀'.repeat(size) } };
      expect(hashEvent(big)).toBe(sha256(canonicalEncoding(big)));
      // the buffer grew: a small event after a big one is still right
      expect(hashEvent(event)).toBe(sha256(canonicalEncoding(event)));
    }
    for (const iso of [
      '+010000-01-01T00:00:00.001Z',
      '-000001-12-31T23:59:59.999Z',
      '1969-12-31T23:59:59.999Z',
    ]) {
      const dated = { ...event, occurredAt: new Date(iso) };
      expect(hashEvent(dated)).toBe(sha256(canonicalEncoding(dated)));
    }
    expect(() => hashEvent({ ...event, occurredAt: new Date(NaN) })).toThrow(RangeError);
  });

  it('hashes consecutive events in one second with the right milliseconds', () => {
    const event = baseEvent(1, GENESIS_HASH);
    for (const ms of [0, 1, 9, 10, 99, 100, 999, 1000, 1001]) {
      const timed = { ...event, occurredAt: new Date(T0 + ms) };
      expect(hashEvent(timed)).toBe(sha256(canonicalEncoding(timed)));
    }
  });

  it('does not depend on the key order of details (shuffled keys → same hash)', () => {
    fc.assert(
      fc.property(unhashedEvent, fc.integer(), (event, seed) => {
        const shuffled = {
          ...event,
          details: shuffleKeys(event.details, seededRandom(seed)) as Record<string, unknown>,
        };
        expect(canonicalEncoding(shuffled)).toBe(canonicalEncoding(event));
        expect(hashEvent(shuffled)).toBe(hashEvent(event));
      }),
    );
  });

  it('changes when any single field changes', () => {
    const fields = Object.keys(baseEvent(1, GENESIS_HASH)) as (keyof Unhashed)[];
    expect(fields).toHaveLength(14);
    fc.assert(
      fc.property(unhashedEvent, unhashedEvent, fc.constantFrom(...fields), (event, other, field) => {
        const changed: Unhashed = { ...event, [field]: other[field] };
        fc.pre(canonicalJson(changed[field]) !== canonicalJson(event[field]));
        expect(hashEvent(changed)).not.toBe(hashEvent(event));
      }),
      { numRuns: 500 },
    );
  });

  it.each<[string, Partial<Unhashed>]>([
    ['seq', { seq: 8 }],
    ['id', { id: '0190a5c4-0000-7000-8000-000000000008' }],
    ['occurredAt by one millisecond', { occurredAt: new Date(T0 + 7001) }],
    ['actorType', { actorType: 'token' }],
    ['actorId to null', { actorId: null }],
    ['actorId to the string "null"', { actorId: 'null' }],
    ['actorName', { actorName: 'alicE' }],
    ['action', { action: 'grant.revoked' }],
    ['targetType', { targetType: null }],
    ['targetId', { targetId: 'asset-70' }],
    ['ticket', { ticket: 'OPS-2' }],
    ['details: a number becomes a string', { details: { ...baseEvent(7, '').details, n: '7' } }],
    ['details: a key is added', { details: { ...baseEvent(7, '').details, extra: null } }],
    ['requestId', { requestId: null }],
    ['sourceIp', { sourceIp: '10.0.0.8' }],
    ['prevHash', { prevHash: '1'.repeat(64) }],
  ])('changes when %s changes', (_name, change) => {
    const event = baseEvent(7, GENESIS_HASH);
    expect(hashEvent({ ...event, ...change })).not.toBe(hashEvent(event));
  });

  it('does not let a value move between adjacent fields', () => {
    const event = baseEvent(3, GENESIS_HASH);
    const a = { ...event, targetType: 'asset', targetId: null };
    const b = { ...event, targetType: null, targetId: 'asset' };
    const c = { ...event, actorName: 'a","b', action: 'c' };
    const d = { ...event, actorName: 'a', action: 'b","c' };
    expect(hashEvent(a)).not.toBe(hashEvent(b));
    expect(hashEvent(c)).not.toBe(hashEvent(d));
  });
});

// ---- chain verifier ----------------------------------------------------------------------------------

describe('createChainVerifier', () => {
  const chain = makeChain(10);

  it('accepts an intact chain, and reports how far it got', () => {
    const verifier = verifyAll(chain);
    expect(verifier.broken).toBeUndefined();
    expect(verifier.checked).toBe(10);
    expect(verifier.lastSeq).toBe(10);
    expect(verifier.lastHash).toBe(chain[9]!.hash);
  });

  it('accepts an empty chain', () => {
    const verifier = createChainVerifier();
    expect(verifier.broken).toBeUndefined();
    expect(verifier.lastSeq).toBe(0);
    expect(verifier.lastHash).toBe(GENESIS_HASH);
  });

  it('accepts a range that follows its anchor', () => {
    const verifier = verifyAll(chain.slice(4), { seq: 4, hash: chain[3]!.hash });
    expect(verifier.broken).toBeUndefined();
    expect(verifier.checked).toBe(6);
  });

  it('rejects a range that does not follow its anchor', () => {
    const verifier = verifyAll(chain.slice(4), { seq: 4, hash: chain[2]!.hash });
    expect(verifier.broken?.seq).toBeLessThanOrEqual(5);
    expect(verifier.broken?.seq).toBeGreaterThanOrEqual(4);
  });

  it('rejects a chain that does not start at the genesis hash', () => {
    const forged = makeChain(3, { seq: 0, hash: '1'.repeat(64) });
    expect(verifyAll(forged).broken).toMatchObject({ seq: 1 });
  });

  it('names an edited event (content changed, hash left alone)', () => {
    const edited = chain.map((e) => (e.seq === 5 ? { ...e, details: { ...e.details, n: 500 } } : e));
    const verifier = verifyAll(edited);
    expect(verifier.broken).toEqual({
      seq: 5,
      reason: expect.stringMatching(/event 5 was altered/) as unknown,
    });
    expect(verifier.checked).toBe(4);
  });

  it.each(['occurredAt', 'actorName', 'action', 'ticket', 'sourceIp'] as const)(
    'names an event whose %s was edited',
    (field) => {
      const edited = chain.map((e) =>
        e.seq === 6
          ? { ...e, [field]: field === 'occurredAt' ? new Date(e.occurredAt.getTime() - 3_600_000) : 'x' }
          : e,
      );
      expect(verifyAll(edited).broken?.seq).toBe(6);
    },
  );

  it('names an edited event even when the attacker recomputed its hash', () => {
    const { hash: _h, ...rest } = chain[4]!;
    const edited = chain.map((e) => (e.seq === 5 ? seal({ ...rest, actorName: 'mallory' }) : e));
    const verifier = verifyAll(edited);
    expect(verifier.broken?.seq).toBe(5);
    expect(verifier.broken?.reason).toMatch(/event 5 was altered or replaced/);
    expect(verifier.checked).toBe(4);
    expect(verifier.verifiedHash(5)).toBeUndefined();
  });

  it('names a deleted event (a gap in the sequence)', () => {
    const verifier = verifyAll(chain.filter((e) => e.seq !== 4));
    expect(verifier.broken?.seq).toBe(4);
    expect(verifier.broken?.reason).toMatch(/event 4 is missing/);
    expect(verifier.broken?.reason).toMatch(/from 3 to 5/);
  });

  it('names the whole run of deleted events', () => {
    const verifier = verifyAll(chain.filter((e) => e.seq < 4 || e.seq > 7));
    expect(verifier.broken?.seq).toBe(4);
    expect(verifier.broken?.reason).toMatch(/event 4–7 is missing/);
  });

  it('names a deleted event when the later events were renumbered to close the gap', () => {
    const renumbered = chain
      .filter((e) => e.seq !== 4)
      .map((e) => (e.seq > 4 ? { ...e, seq: e.seq - 1 } : e));
    const verifier = verifyAll(renumbered);
    expect(verifier.broken?.seq).toBe(4);
    expect(verifier.broken?.reason).toMatch(/does not follow event 3/);
  });

  it('names a swapped pair (two events exchanged their sequence numbers)', () => {
    const swapped = chain.map((e) => (e.seq === 4 ? { ...e, seq: 5 } : e.seq === 5 ? { ...e, seq: 4 } : e));
    swapped.sort((a, b) => a.seq - b.seq);
    const verifier = verifyAll(swapped);
    expect(verifier.broken?.seq).toBe(4);
    expect(verifier.broken?.reason).toMatch(/event 4/);
  });

  it('names a swapped pair (rows delivered in the wrong order)', () => {
    const reordered = [...chain];
    [reordered[3], reordered[4]] = [reordered[4]!, reordered[3]!];
    const verifier = verifyAll(reordered);
    expect(verifier.broken?.seq).toBe(4);
    expect(verifier.broken?.reason).toMatch(/jumps from 3 to 5/);
  });

  it('names a swapped pair even when the attacker re-linked the whole chain after it', () => {
    const swapped = [...chain];
    [swapped[3], swapped[4]] = [
      { ...swapped[4]!, seq: 4 },
      { ...swapped[3]!, seq: 5 },
    ];
    // every hash recomputed: only content order changed; without checkpoints this is undetectable …
    const relinked = relink(swapped, 3);
    expect(verifyAll(relinked).broken).toBeUndefined();
    // … which is why checkpoints exist: the verified hash of event 10 no longer matches the signed one
    const verifier = createChainVerifier(undefined, { keepHashesOf: new Set([10]) });
    relinked.forEach((e) => verifier.push(e));
    expect(verifier.verifiedHash(10)).not.toBe(chain[9]!.hash);
  });

  it('names an inserted event (later events renumbered, hashes left alone)', () => {
    const forged = seal({ ...baseEvent(4, chain[2]!.hash), action: 'grant.created', actorName: 'mallory' });
    const inserted = [...chain.slice(0, 3), forged, ...chain.slice(3).map((e) => ({ ...e, seq: e.seq + 1 }))];
    const verifier = verifyAll(inserted);
    expect(verifier.broken?.seq).toBe(4);
    expect(verifier.broken?.reason).toMatch(/event 4 was inserted/);
    expect(verifier.checked).toBe(3);
  });

  it('names an inserted event that reuses an existing sequence number', () => {
    const forged = seal(baseEvent(4, chain[3]!.hash));
    const inserted = [...chain.slice(0, 4), forged, ...chain.slice(4)];
    const verifier = verifyAll(inserted);
    expect(verifier.broken?.seq).toBe(4);
    expect(verifier.broken?.reason).toMatch(/out of order/);
  });

  it('names an event delivered out of order (a replayed earlier event)', () => {
    const verifier = verifyAll([...chain.slice(0, 6), chain[2]!, ...chain.slice(6)]);
    expect(verifier.broken).toEqual({
      seq: 3,
      reason: expect.stringMatching(/event 3 appears out of order after 6/) as unknown,
    });
    expect(verifier.checked).toBe(6);
  });

  it('reports the first break only and examines nothing after it', () => {
    const broken = chain.map((e) =>
      e.seq === 3 || e.seq === 8 ? { ...e, details: { ...e.details, n: -1 } } : e,
    );
    const verifier = createChainVerifier();
    const accepted = broken.map((e) => verifier.push(e));
    expect(accepted).toEqual([true, true, false, false, false, false, false, false, false, false]);
    expect(verifier.broken?.seq).toBe(3);
    expect(verifier.checked).toBe(2);
    expect(verifier.lastSeq).toBe(2);
  });

  it('keeps the verified hashes of the events it is asked to (for checkpoints)', () => {
    const verifier = createChainVerifier(undefined, { keepHashesOf: new Set([3, 7, 42]) });
    chain.forEach((e) => verifier.push(e));
    expect(verifier.verifiedHash(3)).toBe(chain[2]!.hash);
    expect(verifier.verifiedHash(7)).toBe(chain[6]!.hash);
    expect(verifier.verifiedHash(5)).toBeUndefined();
    expect(verifier.verifiedHash(42)).toBeUndefined();
  });

  it('finds the first break of any single-event mutation (property)', () => {
    const n = 12;
    const base = makeChain(n);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: n }),
        fc.constantFrom('edit', 'edit-rehash', 'delete', 'duplicate', 'swap-next'),
        (seq, kind) => {
          fc.pre(kind !== 'swap-next' || seq < n);
          // the last event deleted or re-hashed is a cut-off tail: only checkpoints can catch that
          fc.pre((kind !== 'delete' && kind !== 'edit-rehash') || seq < n);
          const events = base.map((e) => ({ ...e }));
          const at = seq - 1;
          switch (kind) {
            case 'edit':
              events[at] = { ...events[at]!, actorName: 'mallory' };
              break;
            case 'edit-rehash': {
              const { hash: _h, ...rest } = events[at]!;
              events[at] = seal({ ...rest, actorName: 'mallory' });
              break;
            }
            case 'delete':
              events.splice(at, 1);
              break;
            case 'duplicate':
              events.splice(at + 1, 0, { ...events[at]! });
              break;
            case 'swap-next':
              [events[at], events[at + 1]] = [events[at + 1]!, events[at]!];
              break;
          }
          const verifier = verifyAll(events);
          expect(verifier.broken?.seq).toBe(seq);
          expect(verifier.broken?.reason).toContain(`event ${seq}`);
        },
      ),
    );
  });
});

// ---- canonical JSON ----------------------------------------------------------------------------------

/** Reference: RFC 8785 ordering by UTF-16 code units, written without sort()'s default comparator. */
function referenceCanonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(referenceCanonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort((a, b) => {
      for (let i = 0; i < Math.min(a.length, b.length); i++) {
        const d = a.charCodeAt(i) - b.charCodeAt(i);
        if (d !== 0) return d;
      }
      return a.length - b.length;
    });
    const record = value as Record<string, unknown>;
    return `{${keys.map((k) => `${JSON.stringify(k)}:${referenceCanonical(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

describe('canonicalJson', () => {
  const json = fc.jsonValue({ maxDepth: 4 });

  it('round-trips: parsing the output gives back the value', () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('is idempotent: encoding the parsed output gives the same text', () => {
    fc.assert(
      fc.property(json, (value) => {
        const once = canonicalJson(value);
        expect(canonicalJson(JSON.parse(once))).toBe(once);
      }),
    );
  });

  it('is independent of key insertion order', () => {
    fc.assert(
      fc.property(json, fc.integer(), (value, seed) => {
        expect(canonicalJson(shuffleKeys(value, seededRandom(seed)))).toBe(canonicalJson(value));
      }),
    );
  });

  it('matches a reference encoder (sorted keys, no whitespace)', () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(canonicalJson(value)).toBe(referenceCanonical(value));
      }),
    );
  });

  it('sorts keys by UTF-16 code units, as RFC 8785 requires', () => {
    // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FFFD in UTF-16 (not in code points)
    expect(canonicalJson({ '\uFFFD': 1, '😀': 2, b: 3, a: 4, '10': 5, '9': 6 })).toBe(
      '{"10":5,"9":6,"a":4,"b":3,"😀":2,"\uFFFD":1}',
    );
  });

  it('prints numbers as ECMAScript does', () => {
    expect(canonicalJson([1e21, 1e-7, 0.000001, -0, 1.5, 100, 333333333.3333333])).toBe(
      '[1e+21,1e-7,0.000001,0,1.5,100,333333333.3333333]',
    );
    expect(canonicalJson([NaN, Infinity])).toBe('[null,null]');
  });

  it('drops undefined members as JSON does, and uses toJSON', () => {
    expect(canonicalJson({ b: undefined, a: [undefined, 1], d: new Date(0), f: () => 1 })).toBe(
      '{"a":[null,1],"d":"1970-01-01T00:00:00.000Z"}',
    );
    expect(canonicalJson(undefined)).toBe('null');
  });
});

// ---- export formats ----------------------------------------------------------------------------------

const exportedEvent: fc.Arbitrary<AuditEvent> = unhashedEvent.map(seal);
const parseCsvRows = (text: string): string[][] => parseCsv(text);
const dangerousStart = /^[=+\-@\t\r]/;

describe('csvCell', () => {
  it.each<[unknown, string]>([
    ['plain', 'plain'],
    ['', ''],
    [null, ''],
    [undefined, ''],
    [42, '42'],
    [true, 'true'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['line\nbreak', '"line\nbreak"'],
    ['carriage\rreturn', '"carriage\rreturn"'],
    [{ b: 1, a: 'x' }, '"{""a"":""x"",""b"":1}"'],
  ])('quotes %j as %j', (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it.each([
    ['=1+1', "'=1+1"],
    ['+SUM(A1:A2)', "'+SUM(A1:A2)"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
    ['=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
    ['\r=cmd|/c calc', `"'\r=cmd|/c calc"`],
  ])('defuses the formula %j', (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it('never yields a cell a spreadsheet would run, and parses back to the text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (value) => {
        const cell = csvCell(value);
        const [[parsed]] = parseCsvRows(`${cell},x\n`) as [[string]];
        expect(parsed).not.toMatch(dangerousStart);
        expect(parsed).toBe(dangerousStart.test(value) ? `'${value}` : value);
      }),
    );
  });
});

describe('formatEvent', () => {
  it('writes one jsonl line per event that parses back to the same record', () => {
    fc.assert(
      fc.property(exportedEvent, (event) => {
        const line = formatEvent(event, 'jsonl');
        expect(line.endsWith('\n')).toBe(true);
        expect(line.slice(0, -1)).not.toMatch(/[\r\n]/);
        const record = JSON.parse(line) as ReturnType<typeof toExportRecord>;
        expect(record).toEqual(toExportRecord(event));
        expect(line).toBe(`${canonicalJson(record)}\n`);
      }),
    );
  });

  it('exports enough for an auditor to re-verify the chain from the file alone', () => {
    const chain = makeChain(5);
    const lines = chain.map((e) => formatEvent(e, 'jsonl')).join('');
    const verifier = createChainVerifier();
    for (const line of lines.trimEnd().split('\n')) {
      const record = JSON.parse(line) as ReturnType<typeof toExportRecord>;
      expect(verifier.push({ ...record, occurredAt: new Date(record.occurredAt) })).toBe(true);
    }
    expect(verifier.checked).toBe(5);
  });

  it('writes csv rows under the header, one cell per column, that parse back', () => {
    fc.assert(
      fc.property(fc.array(exportedEvent, { minLength: 1, maxLength: 4 }), (events) => {
        const text = formatHeader('csv')! + events.map((e) => formatEvent(e, 'csv')).join('');
        const [header, ...rows] = parseCsvRows(text);
        expect(header).toEqual(csvColumns);
        expect(rows).toHaveLength(events.length);
        rows.forEach((row, i) => {
          const record = toExportRecord(events[i]!);
          csvColumns.forEach((column, c) => {
            const value = record[column];
            const expected =
              value === null ? '' : typeof value === 'object' ? canonicalJson(value) : String(value);
            expect(row[c]).toBe(dangerousStart.test(expected) ? `'${expected}` : expected);
          });
        });
      }),
      { numRuns: 50 },
    );
  });

  it('has no header for jsonl', () => {
    expect(formatHeader('jsonl')).toBeUndefined();
  });
});
