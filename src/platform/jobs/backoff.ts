import { ConfigError } from '../errors.js';

/**
 * Delays between attempts of a failing job: exponential, capped, with jitter so that many jobs that
 * failed together (a target went down) do not all retry together. Pure: the randomness is injected.
 *
 * - `full`: a uniform pick in [0, min(max, base·2^(attempt−1))).
 * - `decorrelated`: the AWS "decorrelated jitter" chain d₀ = base, dₖ = min(max, uniform(base, 3·dₖ₋₁)),
 *   drawn `attempt` steps deep so that it depends on the attempt number alone (the queue does not keep
 *   the previous delay). Its expectation grows with the attempt until it settles below the cap.
 */
export type JitterStrategy = 'full' | 'decorrelated';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  jitter?: JitterStrategy;
  /** A source of uniform numbers in [0, 1); `Math.random` in production, a fixed or seeded one in tests. */
  random: () => number;
}

/** Delay in whole milliseconds before a job that failed on `attempt` (1 for the first run) runs again. */
export type Backoff = (attempt: number) => number;

// Past this many steps the decorrelated chain has long reached its steady state; bounds the work done.
const MAX_CHAIN_STEPS = 64;

function unit(random: () => number): number {
  const r = random();
  // A misbehaving source must not push a delay outside [0, max].
  if (!Number.isFinite(r) || r < 0) return 0;
  return r >= 1 ? 1 - Number.EPSILON : r;
}

function checkBounds(baseMs: number, maxMs: number): void {
  if (!Number.isFinite(baseMs) || baseMs <= 0) {
    throw new ConfigError(`jobs.backoffBaseMs must be a positive number of milliseconds (got ${baseMs})`);
  }
  if (!Number.isFinite(maxMs) || maxMs < baseMs) {
    throw new ConfigError(
      `jobs.backoffMaxMs (${maxMs}) must be at least jobs.backoffBaseMs (${baseMs}); raise it or lower the base`,
    );
  }
}

/** The exponential ceiling for an attempt: base·2^(attempt−1), capped at max (never Infinity or NaN). */
export function backoffCeiling(attempt: number, baseMs: number, maxMs: number): number {
  const n = Math.max(1, Math.floor(attempt));
  // 2 ** 1024 is Infinity; min() turns that into the cap, so huge attempt numbers are safe.
  return Math.min(maxMs, baseMs * 2 ** (n - 1));
}

export function fullJitter(attempt: number, options: Omit<BackoffOptions, 'jitter'>): number {
  checkBounds(options.baseMs, options.maxMs);
  return Math.floor(unit(options.random) * backoffCeiling(attempt, options.baseMs, options.maxMs));
}

export function decorrelatedJitter(attempt: number, options: Omit<BackoffOptions, 'jitter'>): number {
  const { baseMs, maxMs, random } = options;
  checkBounds(baseMs, maxMs);
  const steps = Math.min(MAX_CHAIN_STEPS, Math.max(1, Math.floor(attempt)));
  let delay = baseMs;
  for (let i = 0; i < steps; i++) {
    delay = Math.min(maxMs, baseMs + unit(random) * (3 * delay - baseMs));
  }
  return Math.floor(delay);
}

export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const jitter = options.jitter ?? 'full';
  switch (jitter) {
    case 'full':
      return fullJitter(attempt, options);
    case 'decorrelated':
      return decorrelatedJitter(attempt, options);
  }
}

/** A backoff with its settings bound, checked once (config errors surface at start-up, not at a retry). */
export function createBackoff(options: BackoffOptions): Backoff {
  checkBounds(options.baseMs, options.maxMs);
  return (attempt) => backoffDelay(attempt, options);
}
