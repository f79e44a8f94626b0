import type { Command } from 'commander';
import { createGatehouse, type Gatehouse } from '../../app.js';
import { systemActor } from '../../modules/audit/audit.types.js';
import { loadDemoFleet } from '../../modules/inventory/demo.js';
import { contextFor } from '../context.js';
import type { Output } from '../output.js';
import { bootstrapAndAnnounce } from './serve.js';

/** Loads the demo fleet (idempotent) and says what it did. */
export async function loadDemo(gh: Gatehouse, out: Output): Promise<void> {
  const result = await loadDemoFleet(gh.inventory, { actor: systemActor('demo') });
  const created = Object.entries(result.created).filter(([, n]) => n > 0);
  out.note(
    created.length === 0
      ? 'Demo fleet already loaded.'
      : `Demo fleet loaded: ${created.map(([entity, n]) => `${n} ${entity}`).join(', ')}.`,
  );
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Load the demo fleet: 3 customers, 2 regions, ~20 servers, ~8 databases, 2 jumpboxes')
    .addHelpText(
      'after',
      `
The demo databases point at this machine's PostgreSQL (127.0.0.1:5432) and MariaDB (127.0.0.1:3306);
the servers use documentation addresses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24). Running it
again changes nothing. \`gatehouse serve --demo\` does the same before serving.`,
    )
    .action(async (_options: unknown, command: Command) => {
      const ctx = contextFor(command);
      const gh = await createGatehouse({ config: ctx.config() });
      try {
        await bootstrapAndAnnounce(gh, (text) => process.stdout.write(`${text}\n`));
        const result = await loadDemoFleet(gh.inventory, { actor: systemActor('demo') });
        ctx.out.result(result, () => {
          ctx.out.table(
            Object.keys(result.created).map((entity) => ({
              entity,
              created: result.created[entity as keyof typeof result.created],
              existing: result.existing[entity as keyof typeof result.existing],
            })),
            ['entity', 'created', 'existing'],
          );
        });
      } finally {
        await gh.close();
      }
    });
}
