/**
 * A fixed-window counter per key (caller address and route family). In memory, per node: it blunts
 * guessing from one address; the lockout, kept in the store, is what holds across nodes.
 */
export interface RateLimit {
  /** Counts one hit; returns the time to wait when the key is over its limit, else undefined. */
  hit(key: string, nowMs: number): number | undefined;
}

export function createRateLimit(options: { limit: number; windowMs: number; maxKeys?: number }): RateLimit {
  const windows = new Map<string, { start: number; count: number }>();
  const maxKeys = options.maxKeys ?? 10_000;
  return {
    hit(key, nowMs) {
      let window = windows.get(key);
      if (!window || nowMs - window.start >= options.windowMs) {
        if (!window && windows.size >= maxKeys) {
          // forget expired windows first; if all are live, the oldest goes
          for (const [k, w] of windows) if (nowMs - w.start >= options.windowMs) windows.delete(k);
          if (windows.size >= maxKeys) windows.delete(windows.keys().next().value!);
        }
        window = { start: nowMs, count: 0 };
        windows.set(key, window);
      }
      window.count += 1;
      return window.count > options.limit ? window.start + options.windowMs - nowMs : undefined;
    },
  };
}
