import { z } from 'zod';
import { ValidationError } from '../../../platform/errors.js';
import { cidr, host, port } from '../../../platform/validation.js';
import { parseTarget } from '../config.js';

/**
 * A Linux server as the `linux-ssh` connector sees it, and the grammars every value meets before it
 * gets near the server. Values are checked here, quoted by `shellQuote` when sent, and checked again
 * by the remote helper (`gatehouse-account`) before it acts — three layers, each one enough alone.
 */

/** Linux accounts Gatehouse manages: `gh_` then lower-case letters, digits, `_`; 32 characters at most. */
export const linuxUsernamePattern = /^gh_[a-z0-9_]{1,29}$/;
export const linuxPrefixPattern = /^gh_[a-z0-9_]{0,29}$/;

/** The automation account Gatehouse logs in as; never a `gh_` account (those come and go). */
export const automationUsername = z
  .string()
  .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'use 1-32 lower-case letters, digits, _ or -, like "gatehouse"')
  .refine((u) => !u.startsWith('gh_'), 'must not be a Gatehouse-managed account (gh_…)')
  .refine((u) => u !== 'root', 'must not be root: give a dedicated account sudo on gatehouse-account only');

const keyTypes = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;
const keyTypeAlternatives = keyTypes.map((t) => t.replace(/[.@-]/g, (c) => `\\${c}`)).join('|');

/**
 * An OpenSSH public key line: type, base64 blob, optional comment of plain characters. The same
 * grammar (written for bash) is checked by the remote helper.
 */
export const sshPublicKeyPattern = new RegExp(
  `^(${keyTypeAlternatives}) [A-Za-z0-9+/]{16,8192}={0,2}( [A-Za-z0-9_.@+-]{1,100})?$`,
);

export const sshPublicKey = z
  .string()
  .max(9000)
  .regex(sshPublicKeyPattern, 'use one OpenSSH public key line, like "ssh-ed25519 AAAAC3Nz… alice@laptop"');

/** A recorded host key: `type base64` as `ssh-keyscan` prints it (after the host name), comment allowed. */
export const hostKey = sshPublicKey.describe('A host key line as ssh-keyscan prints it, without the host');

/**
 * A command an `operator` may run with sudo: an absolute path, then fixed arguments. No wildcards, no
 * commas, no quotes, no backslashes: each entry is one exact sudoers command, and sudo matches it
 * literally.
 */
export const sudoCommandPattern = /^\/[A-Za-z0-9_./-]{1,200}( [A-Za-z0-9_./=:+-]{1,100}){0,10}$/;
export const sudoCommand = z
  .string()
  .regex(sudoCommandPattern, 'use an absolute path and fixed arguments, like "/usr/bin/ss -tlnp"')
  .refine((c) => !c.split(' ')[0]!.split('/').includes('..'), 'no .. in the command path');

/**
 * What an `operator` may run with sudo unless the asset says otherwise: read-only views of sockets,
 * logs, disks and units, each with fixed arguments and without a pager (a pager run by sudo would be
 * a root shell).
 */
export const defaultOperatorCommands = [
  '/usr/bin/ss -tlnp',
  '/usr/bin/ss -tunap',
  '/usr/bin/journalctl --no-pager -n 200',
  '/usr/bin/systemctl --no-pager --failed',
  '/usr/bin/df -h',
  '/usr/sbin/iptables-save',
  '/usr/sbin/nft list ruleset',
] as const;

/** The only command the automation account may run with sudo; installed root-owned on each server. */
export const HELPER_PATH = '/usr/local/sbin/gatehouse-account';

export const sshPrivateKey = z
  .string()
  .min(64, 'paste the whole private key, from -----BEGIN to END-----')
  .max(16_384)
  .regex(
    /^-----BEGIN [A-Z ]+PRIVATE KEY-----/,
    'must be a PEM/OpenSSH private key (-----BEGIN … PRIVATE KEY-----)',
  );

export const linuxTargetSchema = z
  .object({
    engine: z.literal('linux-ssh'),
    host,
    port: port.default(22),
    automation: z
      .object({ username: automationUsername, privateKey: sshPrivateKey })
      .strict()
      .describe('The account Gatehouse logs in as, and its private key'),
    hostKeys: z
      .array(hostKey)
      .min(
        1,
        'record at least one host key (ssh-keyscan -t ed25519 HOST): Gatehouse never trusts on first use',
      )
      .max(16),
    operatorCommands: z
      .array(sudoCommand)
      .max(50)
      .default([...defaultOperatorCommands]),
    /** `archive`: the home directory is kept as a root-only tarball on the server; `delete`: removed. */
    homeOnRevoke: z.enum(['archive', 'delete']).default('archive'),
    connectTimeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  })
  .strict();

export type LinuxTarget = z.input<typeof linuxTargetSchema>;
export type ParsedLinuxTarget = z.output<typeof linuxTargetSchema>;

export function parseLinuxTarget(input: unknown): ParsedLinuxTarget {
  return parseTarget(linuxTargetSchema, input);
}

/** Linux's own words for the access domain's levels: `read-write` is an `operator` on a server. */
export const linuxLevels = { 'read-only': 'read-only', 'read-write': 'operator', admin: 'admin' } as const;
export type LinuxLevel = (typeof linuxLevels)[keyof typeof linuxLevels];

export function assertLinuxUsername(username: unknown): string {
  if (typeof username !== 'string' || !linuxUsernamePattern.test(username)) {
    throw new ValidationError(
      'Linux account names must be gh_ followed by 1-29 lower-case letters, digits or underscores, like gh_alice_3f9a',
    );
  }
  return username;
}

export function assertLinuxPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !linuxPrefixPattern.test(prefix)) {
    throw new ValidationError('prefix must be gh_ followed by lower-case letters, digits or underscores');
  }
  return prefix;
}

/** The password goes to `chpasswd` on stdin, one line: no newline, no NUL, not empty. */
export function assertLinuxPassword(password: unknown): string {
  if (
    typeof password !== 'string' ||
    password.length === 0 ||
    password.length > 256 ||
    // eslint-disable-next-line no-control-regex
    /[\u0000\n\r]/.test(password)
  ) {
    throw new ValidationError('the password must be 1-256 characters on one line, without NUL');
  }
  return password;
}

export function assertJumpboxCidrs(cidrs: unknown): string[] {
  const parsed = z.array(cidr).min(1, 'at least one jumpbox source CIDR').max(64).safeParse(cidrs);
  if (!parsed.success) {
    throw new ValidationError(
      `sourceCidrs: ${parsed.error.issues.map((i) => i.message).join('; ')}; a Linux account is usable only from jumpboxes`,
    );
  }
  return parsed.data;
}

/**
 * The day `useradd -e` is given: the account stops working at the start of that day (UTC on servers
 * kept in UTC), so it is the day after `validUntil`'s — the native backstop never ends a grant early,
 * and the lease reaper ends it on time.
 */
export function nativeExpiryDay(validUntil: Date): string {
  const day = Math.floor(validUntil.getTime() / 86_400_000) + 1;
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}
