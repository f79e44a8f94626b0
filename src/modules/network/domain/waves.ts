/**
 * Waves of a rollout: a canary set first, then the rest in growing shares (each wave twice the one
 * before), so a bad change meets few assets before it meets many. Pure.
 */
export function assignWaves(count: number, canary: number, waves: number): number[] {
  const first = Math.min(count, Math.max(1, canary));
  const rest = count - first;
  const out = Array<number>(first).fill(0);
  if (rest === 0) return out;
  const n = Math.max(1, Math.min(waves, rest));
  const weights = Array.from({ length: n }, (_, i) => 2 ** i);
  const total = weights.reduce((a, b) => a + b, 0);
  let given = 0;
  weights.forEach((w, i) => {
    const size = i === n - 1 ? rest - given : Math.max(1, Math.floor((rest * w) / total));
    out.push(...Array<number>(size).fill(i + 1));
    given += size;
  });
  return out;
}

/** Whether the failures so far stop the rollout: their share of the targets run passes the threshold. */
export function failuresStop(failed: number, finished: number, threshold: number): boolean {
  return failed > 0 && failed / Math.max(1, finished) > threshold;
}
