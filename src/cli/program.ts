import { Command } from 'commander';
import { version } from '../app.js';
import { registerAccess } from './commands/access.js';
import { registerAudit } from './commands/audit.js';
import { registerDemo } from './commands/demo.js';
import { registerIdentity } from './commands/identity.js';
import { registerInventory } from './commands/inventory.js';
import { registerHarden } from './commands/harden.js';
import { registerLogin } from './commands/login.js';
import { registerJobs } from './commands/jobs.js';
import { registerLinux } from './commands/linux.js';
import { registerMigrate } from './commands/migrate.js';
import { registerPolicies } from './commands/policies.js';
import { registerServe } from './commands/serve.js';
import { registerTickets } from './commands/tickets.js';
import { registerCompliance } from './commands/compliance.js';
import { registerNetwork } from './commands/network.js';
import { registerIntegrations } from './commands/integrations.js';

export function buildProgram(): Command {
  const program = new Command('gatehouse')
    .version(version)
    .description(
      'Gatehouse: just-in-time access, authoritative network rules, hardening and SOC 2 evidence for a fleet.',
    )
    .option('--json', 'print JSON for scripts instead of tables')
    .option('--url <url>', 'Gatehouse API for client commands (GATEHOUSE_URL; default http://127.0.0.1:7070)')
    .option('--token <token>', 'API token for client commands (prefer GATEHOUSE_TOKEN: flags show in ps)')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Local commands (serve, migrate, demo, audit verify/export) open the store named by DATABASE_URL, or
the embedded one in ./data. Client commands (inventory, audit search, tokens …) call the API at
GATEHOUSE_URL with GATEHOUSE_TOKEN, under the same permissions and audit as any other caller.

Start here:
  gatehouse serve --demo            run the server with a demo fleet (prints the first admin's token)
  export GATEHOUSE_TOKEN=gth_…      then, in another shell:
  gatehouse inventory assets list
  gatehouse audit verify`,
    );
  registerServe(program);
  registerMigrate(program);
  registerDemo(program);
  registerAudit(program);
  registerIdentity(program);
  registerLogin(program);
  registerInventory(program);
  registerJobs(program);
  registerTickets(program);
  registerAccess(program);
  registerPolicies(program);
  registerHarden(program);
  registerCompliance(program);
  registerNetwork(program);
  registerIntegrations(program);
  registerLinux(program);
  return program;
}
