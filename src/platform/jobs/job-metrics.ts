import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import type { JobOutcome } from './job-types.js';

export interface JobMetrics {
  observe(kind: string, outcome: JobOutcome, seconds: number): void;
}

const noMetrics: JobMetrics = { observe: () => undefined };

/** Reuses a metric already in the registry (several runners in one process share it). */
function existing<T>(registry: Registry, name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

/**
 * `gatehouse_jobs_processed_total{kind,outcome}`, `gatehouse_job_duration_seconds{kind}` and, read from
 * the table when scraped, `gatehouse_jobs{state}`.
 */
export function createJobMetrics(
  registry: Registry | undefined,
  countByState: () => Promise<Record<string, number>>,
  logger: Logger,
): JobMetrics {
  if (!registry) return noMetrics;
  const processed =
    existing<Counter<'kind' | 'outcome'>>(registry, 'gatehouse_jobs_processed_total') ??
    new Counter({
      name: 'gatehouse_jobs_processed_total',
      help: 'Job runs finished by this process, by kind and outcome',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    });
  const duration =
    existing<Histogram<'kind'>>(registry, 'gatehouse_job_duration_seconds') ??
    new Histogram({
      name: 'gatehouse_job_duration_seconds',
      help: 'Time a job handler ran, by kind',
      labelNames: ['kind'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers: [registry],
    });
  if (!existing(registry, 'gatehouse_jobs')) {
    new Gauge({
      name: 'gatehouse_jobs',
      help: 'Jobs in the store by state (queued, running, failed), counted when scraped',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        try {
          const counts = await countByState();
          for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
        } catch (error) {
          // A scrape must not fail because the store is briefly away; the gauge keeps its last values.
          logger.warn({ err: error }, 'could not count jobs for metrics');
        }
      },
    });
  }
  return {
    observe(kind, outcome, seconds) {
      processed.inc({ kind, outcome });
      duration.observe({ kind }, seconds);
    },
  };
}
