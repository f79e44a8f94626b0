import type { Command } from 'commander';
import { createGatehouse, type Gatehouse } from '../../app.js';
import { contextFor } from '../context.js';
import type { DemoSignIn } from './demo-sign-in.js';

const CHECKPOINT_TIMER_MS = 60_000;

function banner(lines: string[]): string {
  const width = Math.max(...lines.map((l) => l.length));
  const edge = `+${'-'.repeat(width + 2)}+`;
  return [edge, ...lines.map((l) => `| ${l.padEnd(width)} |`), edge].join('\n');
}

/** Creates the first admin on a new store and prints its token once. */
export async function bootstrapAndAnnounce(gh: Gatehouse, print: (text: string) => void): Promise<void> {
  const boot = await gh.identity.bootstrap(gh.config.bootstrapToken);
  if (!boot) return;
  if (gh.config.bootstrapToken) {
    print(`Created the first admin '${boot.username}' with the token from GATEHOUSE_BOOTSTRAP_TOKEN.`);
    return;
  }
  print(
    banner([
      `New store: created the first admin '${boot.username}'. Its API token, shown only this once:`,
      '',
      `  ${boot.token}`,
      '',
      'Keep it in a password manager. For the CLI: export GATEHOUSE_TOKEN=<token>',
      'It expires in 30 days; create your own with `gatehouse tokens create`.',
    ]),
  );
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the Gatehouse server: API, workers and web UI')
    .option('-p, --port <port>', 'port to listen on (GATEHOUSE_PORT, default 7070)')
    .option('-H, --host <host>', 'address to listen on (GATEHOUSE_HOST, default 127.0.0.1)')
    .option('--demo', 'load the demo fleet into the store first (idempotent)')
    .option('--no-workers', 'do not run background jobs in this process')
    .addHelpText(
      'after',
      `
With no DATABASE_URL, Gatehouse runs on embedded PGlite in ./data (GATEHOUSE_DATA_DIR) and creates a
master key there on the first run. With DATABASE_URL it runs on that PostgreSQL server, and any number
of nodes can share it.

Examples:
  gatehouse serve --demo
  DATABASE_URL=postgres://gatehouse@db/gatehouse GATEHOUSE_MASTER_KEY_FILE=/etc/gatehouse/master.key gatehouse serve --host 0.0.0.0`,
    )
    .action(
      async (
        options: { port?: string; host?: string; demo?: boolean; workers: boolean },
        command: Command,
      ) => {
        const ctx = contextFor(command);
        const config = ctx.config({ port: options.port, host: options.host });
        const gh = await createGatehouse({ config });
        const print = (text: string) => process.stdout.write(`${text}\n`);
        await bootstrapAndAnnounce(gh, print);
        let demoSignIn: DemoSignIn | undefined;
        if (options.demo) {
          const { loadDemo } = await import('./demo.js');
          await loadDemo(gh, ctx.out);
          const { prepareDemoSignIn } = await import('./demo-sign-in.js');
          demoSignIn = await prepareDemoSignIn(gh);
        }
        const app = await gh.http();
        const workers = options.workers && config.jobs.enabled ? gh.startWorkers() : undefined;
        const timer = setInterval(() => {
          gh.audit
            .checkpointIfDue(gh.store)
            .catch((error: unknown) => gh.logger.error({ err: error }, 'audit checkpoint failed'));
        }, CHECKPOINT_TIMER_MS);
        timer.unref();

        let stopping = false;
        const shutdown = async (signal: string) => {
          if (stopping) return;
          stopping = true;
          gh.logger.info({ signal }, 'shutting down');
          clearInterval(timer);
          await app.close();
          await workers?.stop();
          await gh.audit.checkpointNow(gh.store).catch(() => undefined);
          await gh.close();
          process.exit(0);
        };
        process.once('SIGINT', () => void shutdown('SIGINT'));
        process.once('SIGTERM', () => void shutdown('SIGTERM'));

        await app.listen({ port: config.port, host: config.host });
        const base = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
        if (demoSignIn) {
          const { demoSignInLines } = await import('./demo-sign-in.js');
          print(banner(demoSignInLines(base, demoSignIn)));
        }
        print(
          [
            `Gatehouse is running on ${gh.store.location}`,
            `  Web:      ${base}/   (the back-office${app.hasRoute({ method: 'GET', url: '/assets/*' }) ? '' : ': not built, run `npm run build:web`'})`,
            `  API:      ${base}/api/v1`,
            `  API docs: ${base}/api/docs   (OpenAPI: ${base}/api/openapi.json)`,
            `  Health:   ${base}/healthz  ${base}/readyz  ${base}/metrics`,
            'Press Ctrl-C to stop.',
          ].join('\n'),
        );
      },
    );
}
