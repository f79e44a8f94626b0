import { Option, type Command } from 'commander';
import { query } from '../api-client.js';
import { contextFor } from '../context.js';

export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('Background jobs: provisioning, expiry, reconciliation');
  jobs
    .command('list')
    .description('List jobs, newest first')
    .addOption(
      new Option('--state <state>', 'only jobs in this state').choices([
        'queued',
        'running',
        'succeeded',
        'failed',
      ]),
    )
    .option('--kind <kind>', 'only jobs of this kind')
    .option('--limit <n>', 'jobs per page (1-500)', '50')
    .option('--cursor <id>', 'nextCursor from the previous page')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const ctx = contextFor(command);
      const page = await ctx
        .api()
        .get<{ items: Record<string, unknown>[]; nextCursor: string | null }>(
          `/api/v1/jobs${query(options)}`,
        );
      ctx.out.page(page, ['id', 'kind', 'state', 'attempts', 'runAt', 'lastError']);
    });
  jobs
    .command('retry <id>')
    .description('Put a failed job back in the queue')
    .action(async (id: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const job = await ctx
        .api()
        .post<{ id: string; kind: string }>(`/api/v1/jobs/${encodeURIComponent(id)}/retry`, {});
      ctx.out.result(job, () => ctx.out.line(`Requeued job ${job.id} (${job.kind}).`));
    });
}
