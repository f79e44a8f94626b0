import { z } from 'zod';

/**
 * Durations as people write them in policies — `30m`, `4h`, `1h30m`, `2d` — and as messages print them.
 * Inside the domain a duration is a whole number of milliseconds.
 */

const unitMs = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;
type Unit = keyof typeof unitMs;
const units: readonly Unit[] = ['d', 'h', 'm', 's'];

const grammar = /^(?:(\d{1,4})d)?(?:(\d{1,5})h)?(?:(\d{1,6})m)?(?:(\d{1,7})s)?$/;

/** `1h30m` → 5 400 000; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = grammar.exec(text);
  if (!match || text === '') return undefined;
  return units.reduce((total, unit, i) => total + Number(match[i + 1] ?? 0) * unitMs[unit], 0);
}

/** 5 400 000 → `1h30m`; 0 → `0s`. Rounds down to whole seconds. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / 1000)) * 1000;
  let text = '';
  for (const unit of units) {
    const count = Math.floor(rest / unitMs[unit]);
    rest -= count * unitMs[unit];
    if (count > 0) text += `${count}${unit}`;
  }
  return text || '0s';
}

/** Longest duration a policy may name: just-in-time access that lasts longer is standing access. */
export const MAX_POLICY_DURATION_MS = 30 * unitMs.d;

/** A policy duration: text in, milliseconds out. */
export const durationSchema = z
  .string()
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'use a duration like "30m", "4h" or "1h30m" (units d, h, m, s)',
      });
      return z.NEVER;
    }
    if (ms < unitMs.m || ms > MAX_POLICY_DURATION_MS) {
      ctx.addIssue({ code: 'custom', message: 'use a duration from 1m to 30d' });
      return z.NEVER;
    }
    return ms;
  })
  .describe('A duration like "30m", "4h" or "1h30m"');
