import type { Command } from 'commander';
import { automationUsername, HELPER_PATH } from '../../adapters/connectors/linux-ssh/linux-config.js';
import { REMOTE_HELPER } from '../../adapters/connectors/linux-ssh/remote-helper.js';
import { ValidationError } from '../../platform/errors.js';

/**
 * `gatehouse linux helper`: what a Linux server needs before Gatehouse can grant access on it — the
 * helper script (install root-owned, 0755, at /usr/local/sbin/gatehouse-account) and the one sudoers
 * rule of the automation account. That one rule also covers the host firewall over ssh (the helper's
 * `nft` subcommand, which replaces only table `inet gatehouse`: decision 0014). Local, no API call.
 */
export function registerLinux(program: Command): void {
  const linux = program.command('linux').description('Prepare Linux servers for just-in-time access');
  linux
    .command('helper')
    .description(`Print the ${HELPER_PATH} script, or with --sudoers the automation account's sudoers rule`)
    .option('--sudoers <user>', 'print the sudoers drop-in for this automation account instead')
    .action((options: { sudoers?: string }) => {
      if (options.sudoers !== undefined) {
        const user = automationUsername.safeParse(options.sudoers);
        if (!user.success) {
          throw new ValidationError(`--sudoers: ${user.error.issues.map((i) => i.message).join('; ')}`);
        }
        process.stdout.write(
          '# Gatehouse automation: the only sudo right it needs (access accounts, and the host firewall\n' +
            '# table inet gatehouse through "gatehouse-account nft", which needs jq on this server)\n' +
            `${user.data} ALL=(root) NOPASSWD: ${HELPER_PATH}\n`,
        );
        return;
      }
      process.stdout.write(REMOTE_HELPER);
    });
}
