/**
 * A token bucket per region: the cloud API allows so many requests a second, and an apply that
 * stays under it never pays for throttling. `sleep` is injected so benchmarks and tests control time.
 */
export interface RateLimiter {
  take(): Promise<void>;
}

export function createRateLimiter(options: {
  perSecond: number;
  burst?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}): RateLimiter {
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const capacity = options.burst ?? 1;
  let tokens = capacity;
  let last = now();
  let queue: Promise<void> = Promise.resolve();
  const refill = () => {
    const t = now();
    tokens = Math.min(capacity, tokens + ((t - last) * options.perSecond) / 1000);
    last = t;
  };
  return {
    take: () => {
      // callers are served in order: each waits for the one before it
      const turn = queue.then(async () => {
        refill();
        while (tokens < 1) {
          await sleep(Math.ceil(((1 - tokens) * 1000) / options.perSecond));
          refill();
        }
        tokens -= 1;
      });
      queue = turn;
      return turn;
    },
  };
}
