import { randomBytes, randomUUID } from 'node:crypto';

/** Time, injected so that tests and the job runner can control it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told: for tests. */
export function manualClock(start: Date | string = '2026-01-01T00:00:00.000Z'): Clock & {
  advance(ms: number): void;
  set(to: Date | string): void;
} {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    advance: (ms) => {
      current += ms;
    },
    set: (to) => {
      current = new Date(to).getTime();
    },
  };
}

/** Identifier generation, injected like the clock. */
export interface Ids {
  /** A UUID whose leading bits are the creation time (RFC 9562 version 7): sortable, good for cursors. */
  uuid(): string;
}

export function uuidv7(nowMs: number = Date.now()): string {
  const bytes = randomBytes(16);
  const ts = BigInt(nowMs);
  for (let i = 0; i < 6; i++) bytes[i] = Number((ts >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function systemIds(clock: Clock = systemClock): Ids {
  return { uuid: () => uuidv7(clock.now().getTime()) };
}

/** Random UUIDs for places where ordering must not leak (request ids). */
export const randomId = (): string => randomUUID();
