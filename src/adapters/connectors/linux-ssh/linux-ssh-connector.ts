import { GatehouseError, ValidationError } from '../../../platform/errors.js';
import type { AccountSpec, ManagedAccount } from '../types.js';
import {
  assertJumpboxCidrs,
  assertLinuxPassword,
  assertLinuxPrefix,
  assertLinuxUsername,
  HELPER_PATH,
  linuxLevels,
  nativeExpiryDay,
  parseLinuxTarget,
  sshPublicKey,
  type LinuxTarget,
  type ParsedLinuxTarget,
} from './linux-config.js';
import { HELPER_VERSION } from './remote-helper.js';
import { withSsh, type ExecResult, type SshSession } from './ssh-session.js';

/**
 * Temporary accounts on Linux servers over SSH. Every effect is one call of the remote helper
 * (`gatehouse-account`, see remote-helper.ts) through `sudo -n`, with its arguments quoted one by one
 * and secrets on stdin. Creating is idempotent (an existing account is brought to the requested
 * state) and so is revoking (nothing to revoke is success).
 */

/** What a Linux account carries beyond a database account. */
export interface LinuxAccountSpec extends AccountSpec {
  /** SFTP/SCP allowed (membership of gatehouse-sftp); refused otherwise. */
  fileTransfer?: boolean;
  /** An OpenSSH public key the operator may log in with besides the password. */
  publicKey?: string;
}

export interface LinuxSshConnector {
  readonly engines: readonly ['linux-ssh'];
  validateConfig(target: unknown): LinuxTarget;
  testConnection(target: LinuxTarget): Promise<{ serverVersion: string }>;
  createAccount(target: LinuxTarget, spec: LinuxAccountSpec): Promise<{ created: boolean }>;
  revokeAccount(target: LinuxTarget, username: string): Promise<{ existed: boolean }>;
  accountExists(target: LinuxTarget, username: string): Promise<boolean>;
  listManagedAccounts(target: LinuxTarget, prefix?: string): Promise<ManagedAccount[]>;
  setAccountExpiry(target: LinuxTarget, username: string, at: Date): Promise<void>;
}

async function helper(
  session: SshSession,
  target: ParsedLinuxTarget,
  action: string,
  args: readonly string[],
  stdin?: string,
): Promise<string> {
  const result: ExecResult = await session.exec(['sudo', '-n', HELPER_PATH, ...args], stdin);
  if (result.code === 0) return result.stdout.trim();
  const where = `Linux server ${target.host}:${target.port}`;
  const said = result.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 300);
  const details = { engine: 'linux-ssh', host: target.host, port: target.port, exitCode: result.code };
  if (result.code === 2) {
    throw new ValidationError(`${where} refused ${action}: ${said}`, { details });
  }
  if (/sudo: a (password|terminal) is required|not allowed to execute|command not found/.test(said)) {
    throw new GatehouseError(
      'target_unavailable',
      `${where}: '${target.automation.username}' cannot run ${HELPER_PATH} with sudo (${said}); ` +
        'install the helper and its sudoers rule (see the README, "Linux servers")',
      { details, retryable: false },
    );
  }
  throw new GatehouseError(
    'target_unavailable',
    `${where} failed ${action}: ${said || `exit ${result.code}`}`,
    {
      details,
      retryable: true,
    },
  );
}

export function createLinuxSshConnector(): LinuxSshConnector {
  return {
    engines: ['linux-ssh'],
    validateConfig: (target) => parseLinuxTarget(target),

    async testConnection(input) {
      const target = parseLinuxTarget(input);
      return withSsh(target, 'testing the connection', async (session) => {
        const version = await helper(session, target, 'reporting its version', ['version']);
        if (version !== HELPER_VERSION) {
          throw new GatehouseError(
            'target_unavailable',
            `Linux server ${target.host} runs gatehouse-account version ${version}; this Gatehouse needs ${HELPER_VERSION} — reinstall the helper`,
            { retryable: false },
          );
        }
        return { serverVersion: `gatehouse-account ${version}` };
      });
    },

    async createAccount(input, spec) {
      const target = parseLinuxTarget(input);
      const username = assertLinuxUsername(spec.username);
      const password = assertLinuxPassword(spec.password);
      const cidrs = assertJumpboxCidrs(spec.sourceCidrs);
      if (!(spec.validUntil instanceof Date) || Number.isNaN(spec.validUntil.getTime())) {
        throw new ValidationError('validUntil must be a valid date');
      }
      const level = linuxLevels[spec.level];
      if (!level) throw new ValidationError('level must be read-only, read-write or admin');
      const publicKey = spec.publicKey === undefined ? '' : sshPublicKey.parse(spec.publicKey);
      return withSsh(target, `creating ${username}`, async (session) => {
        // the jumpbox-only rule is in place before the account can log in at all
        await helper(session, target, 'writing the sshd drop-in', ['sshd-policy', ...cidrs]);
        const outcome = await helper(
          session,
          target,
          `creating ${username}`,
          [
            'create',
            username,
            nativeExpiryDay(spec.validUntil),
            level,
            spec.fileTransfer ? 'yes' : 'no',
            ...(level === 'operator' ? target.operatorCommands : []),
          ],
          `${password}\n${publicKey}\n`,
        );
        return { created: outcome === 'created' };
      });
    },

    async revokeAccount(input, username) {
      const target = parseLinuxTarget(input);
      assertLinuxUsername(username);
      return withSsh(target, `removing ${username}`, async (session) => {
        const outcome = await helper(session, target, `removing ${username}`, [
          'revoke',
          username,
          target.homeOnRevoke,
        ]);
        return { existed: outcome === 'yes' };
      });
    },

    async accountExists(input, username) {
      const target = parseLinuxTarget(input);
      assertLinuxUsername(username);
      return withSsh(target, `looking up ${username}`, async (session) => {
        return (await helper(session, target, `looking up ${username}`, ['exists', username])) === 'yes';
      });
    },

    async listManagedAccounts(input, prefix = 'gh_') {
      const target = parseLinuxTarget(input);
      assertLinuxPrefix(prefix);
      const listing = await withSsh(target, 'listing managed accounts', (session) =>
        helper(session, target, 'listing managed accounts', ['list', prefix]),
      );
      return parseListing(listing);
    },

    async setAccountExpiry(input, username, at) {
      const target = parseLinuxTarget(input);
      assertLinuxUsername(username);
      await withSsh(target, `moving the expiry of ${username}`, (session) =>
        helper(session, target, `moving the expiry of ${username}`, [
          'expire',
          username,
          nativeExpiryDay(at),
        ]),
      );
    },
  };
}

/**
 * The helper's listing: `account NAME DAYS` (DAYS since the epoch, empty for none) and `dropin NAME`
 * for a sudoers drop-in whose account is gone; both are managed leftovers the sweeper may remove.
 */
export function parseListing(listing: string): ManagedAccount[] {
  const accounts = new Map<string, ManagedAccount>();
  for (const line of listing.split('\n')) {
    const [kind, name, days] = line.trim().split(' ');
    if (!name || (kind !== 'account' && kind !== 'dropin')) continue;
    if (!/^gh_[a-z0-9_]{1,29}$/.test(name)) continue;
    const account: ManagedAccount = { username: name };
    if (kind === 'account' && days && /^\d+$/.test(days)) {
      account.validUntil = new Date(Number(days) * 86_400_000);
    }
    if (!accounts.has(name)) accounts.set(name, account);
  }
  return [...accounts.values()];
}
