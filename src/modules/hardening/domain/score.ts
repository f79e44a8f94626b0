import type { FinalResult } from './decisions.js';

/**
 * Scores and drift: pure arithmetic over results. A score is the share of rules that pass among those
 * that were scanned and count (pass, fail, error); not-applicable, manual and excepted rules are left
 * out. Drift is every rule whose result changed since the previous scan of the same host.
 */

export interface Tally {
  pass: number;
  fail: number;
  error: number;
  notapplicable: number;
  notchecked: number;
  exception: number;
}

export const emptyTally = (): Tally => ({
  pass: 0,
  fail: 0,
  error: 0,
  notapplicable: 0,
  notchecked: 0,
  exception: 0,
});

export function tally(results: Iterable<FinalResult>): Tally {
  const counts = emptyTally();
  for (const r of results) counts[r] += 1;
  return counts;
}

export function addTallies(a: Tally, b: Tally): Tally {
  return {
    pass: a.pass + b.pass,
    fail: a.fail + b.fail,
    error: a.error + b.error,
    notapplicable: a.notapplicable + b.notapplicable,
    notchecked: a.notchecked + b.notchecked,
    exception: a.exception + b.exception,
  };
}

/** Percentage of passing rules among the counted ones, to one decimal; null when none counted. */
export function score(counts: Tally): number | null {
  const counted = counts.pass + counts.fail + counts.error;
  if (counted === 0) return null;
  return Math.round((1000 * counts.pass) / counted) / 10;
}

export interface DriftEntry {
  ruleId: string;
  from: FinalResult | null;
  to: FinalResult | null;
}

/** Rules whose result differs between two scans (null: the rule was not in that scan). */
export function drift(
  previous: ReadonlyMap<string, FinalResult>,
  current: ReadonlyMap<string, FinalResult>,
): DriftEntry[] {
  const ids = [...new Set([...previous.keys(), ...current.keys()])].sort();
  return ids.flatMap((ruleId) => {
    const from = previous.get(ruleId) ?? null;
    const to = current.get(ruleId) ?? null;
    return from === to ? [] : [{ ruleId, from, to }];
  });
}

/** Runs `work` over items with at most `limit` in flight; results keep the items' order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

export interface HostScore {
  name: string;
  machineType: string | null;
  customer: string | null;
  counts: Tally;
}

export interface GroupScore {
  name: string;
  hosts: number;
  counts: Tally;
  score: number | null;
}

/** Hosts' tallies summed per group (machine type or customer); hosts without one are left out. */
export function scoreBy(hosts: readonly HostScore[], key: (h: HostScore) => string | null): GroupScore[] {
  const groups = new Map<string, { hosts: number; counts: Tally }>();
  for (const host of hosts) {
    const name = key(host);
    if (name === null) continue;
    const group = groups.get(name) ?? { hosts: 0, counts: emptyTally() };
    groups.set(name, { hosts: group.hosts + 1, counts: addTallies(group.counts, host.counts) });
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, g]) => ({ name, hosts: g.hosts, counts: g.counts, score: score(g.counts) }));
}
