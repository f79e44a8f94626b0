import type { Command } from 'commander';
import { migrate, migrationStatus } from '../../platform/db/migrate.js';
import { openStore } from '../../platform/db/store.js';
import { contextFor } from '../context.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending database migrations (the server also does this on start)')
    .option('--status', 'only report which migrations are applied and pending')
    .action(async (options: { status?: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const config = ctx.config();
      const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      try {
        if (options.status) {
          const status = await migrationStatus(store);
          ctx.out.result({ store: store.location, ...status }, () => {
            ctx.out.line(
              `${store.location}: ${status.applied.length} applied, ${status.pending.length} pending`,
            );
            if (status.pending.length > 0) ctx.out.line(`pending: ${status.pending.join(', ')}`);
          });
          if (!status.current) process.exitCode = 1;
          return;
        }
        const applied = await migrate(store, {
          onApply: (m) => ctx.out.note(`applying ${m.version} ${m.name}`),
        });
        ctx.out.result({ store: store.location, applied }, () =>
          ctx.out.line(
            applied.length > 0
              ? `${store.location}: applied ${applied.join(', ')}`
              : `${store.location}: already current`,
          ),
        );
      } finally {
        await store.close();
      }
    });
}
