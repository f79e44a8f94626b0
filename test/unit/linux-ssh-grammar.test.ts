import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertLinuxPassword,
  assertLinuxUsername,
  linuxTargetSchema,
  nativeExpiryDay,
  sshPublicKey,
  sudoCommand,
} from '../../src/adapters/connectors/linux-ssh/linux-config.js';
import { parseListing } from '../../src/adapters/connectors/linux-ssh/linux-ssh-connector.js';
import { commandLine, shellQuote } from '../../src/adapters/connectors/linux-ssh/shell-quote.js';

const metacharacters = [...';&|$`\'"\\<>(){}[]*?!~#% \t\n\r'];
const withMetacharacter = fc
  .tuple(fc.string({ maxLength: 10 }), fc.constantFrom(...metacharacters), fc.string({ maxLength: 10 }))
  .map(([a, m, b]) => `${a}${m}${b}`);

describe('shellQuote', () => {
  it('gives every argument back intact through a real POSIX shell and bash', () => {
    const argument = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\u0000'));
    fc.assert(
      fc.property(fc.array(argument, { minLength: 1, maxLength: 5 }), (args) => {
        for (const shell of ['sh', 'bash']) {
          const out = execFileSync(shell, ['-c', `printf '%s\\0' ${commandLine(args)}`]);
          expect(out.toString('utf8').split('\u0000').slice(0, -1)).toEqual(args);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('single-quotes, escapes quotes and refuses NUL', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe("''");
    expect(() => shellQuote('a\u0000b')).toThrow(/NUL/);
    expect(() => commandLine([])).toThrow();
  });
});

describe('Linux grammars', () => {
  it('accepts gh_ names up to 32 characters and nothing with a shell metacharacter', () => {
    expect(assertLinuxUsername('gh_alice_3f9a')).toBe('gh_alice_3f9a');
    expect(() => assertLinuxUsername(`gh_${'a'.repeat(30)}`)).toThrow(/gh_/);
    for (const bad of ['root', 'gatehouse', 'gh_', 'GH_x', 'gh_A', 'gh_a-b', '-gh_a']) {
      expect(() => assertLinuxUsername(bad)).toThrow();
    }
    fc.assert(
      fc.property(withMetacharacter, (name) => {
        expect(() => assertLinuxUsername(`gh_${name}`)).toThrow();
      }),
    );
  });

  it('accepts one OpenSSH public key line, refuses metacharacters and options', () => {
    const key =
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3fZgk0m0y3yqZb2nN8qv3vXQ0r5Yy3kq7h9Jx2cW1a alice@laptop';
    expect(sshPublicKey.parse(key)).toBe(key);
    for (const bad of [
      `command="sh" ${key}`,
      `${key}\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3fZgk0m0y3yqZb2nN8qv3v`,
      'ssh-dss AAAAB3NzaC1kc3MAAACBAP',
    ]) {
      expect(sshPublicKey.safeParse(bad).success).toBe(false);
    }
    fc.assert(
      fc.property(withMetacharacter, (comment) => {
        const parsed = sshPublicKey.safeParse(`${key.split(' ').slice(0, 2).join(' ')} ${comment}`);
        expect(parsed.success).toBe(false);
      }),
    );
  });

  it('sudo commands are absolute paths with fixed, plain arguments', () => {
    expect(sudoCommand.parse('/usr/bin/ss -tlnp')).toBe('/usr/bin/ss -tlnp');
    for (const bad of [
      'ss',
      '/usr/bin/less *',
      '/bin/a, /bin/sh',
      '/usr/../bin/sh',
      '/bin/sh -c "x"',
      'ALL',
    ]) {
      expect(sudoCommand.safeParse(bad).success).toBe(false);
    }
    // a space separates arguments in this grammar, so the metacharacter put in is any other one
    const withShellMetacharacter = fc
      .tuple(
        fc.string({ maxLength: 10 }),
        fc.constantFrom(...metacharacters.filter((m) => m !== ' ')),
        fc.string({ maxLength: 10 }),
      )
      .map(([a, m, b]) => `${a}${m}${b}`);
    fc.assert(
      fc.property(withShellMetacharacter, (arg) => {
        expect(sudoCommand.safeParse(`/usr/bin/x ${arg}`).success).toBe(false);
      }),
    );
  });

  it('passwords are one line for chpasswd', () => {
    expect(assertLinuxPassword('a:b c')).toBe('a:b c');
    for (const bad of ['', 'a\nb', 'a\rb', 'a\u0000b', 'x'.repeat(257)]) {
      expect(() => assertLinuxPassword(bad)).toThrow();
    }
  });

  it('a target needs recorded host keys and never the root or a gh_ account for automation', () => {
    const base = {
      engine: 'linux-ssh',
      host: '198.51.100.20',
      automation: {
        username: 'gatehouse',
        privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${'a'.repeat(80)}`,
      },
      hostKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3fZgk0m0y3yqZb2nN8qv3vXQ0r5Yy3kq7h9Jx2cW1a'],
    };
    const parsed = linuxTargetSchema.parse(base);
    expect(parsed.port).toBe(22);
    expect(parsed.homeOnRevoke).toBe('archive');
    expect(linuxTargetSchema.safeParse({ ...base, hostKeys: [] }).success).toBe(false);
    expect(
      linuxTargetSchema.safeParse({ ...base, automation: { ...base.automation, username: 'root' } }).success,
    ).toBe(false);
    expect(
      linuxTargetSchema.safeParse({ ...base, automation: { ...base.automation, username: 'gh_x' } }).success,
    ).toBe(false);
  });
});

describe('native expiry and listings', () => {
  it('the useradd -e day is the day after the lease ends, so the backstop never cuts a grant short', () => {
    expect(nativeExpiryDay(new Date('2026-11-26T15:00:00Z'))).toBe('2026-11-27');
    expect(nativeExpiryDay(new Date('2026-11-26T23:59:59Z'))).toBe('2026-11-27');
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
        (d) => {
          const day = new Date(`${nativeExpiryDay(d)}T00:00:00Z`).getTime();
          expect(day).toBeGreaterThan(d.getTime());
          expect(day - d.getTime()).toBeLessThanOrEqual(86_400_000);
        },
      ),
    );
  });

  it('reads the helper listing: accounts with their expiry day, drop-ins without account', () => {
    expect(
      parseListing('account gh_a_1 20420\naccount gh_b_2 \ndropin gh_c_3\nnoise\naccount root 1\n'),
    ).toEqual([
      { username: 'gh_a_1', validUntil: new Date(20420 * 86_400_000) },
      { username: 'gh_b_2' },
      { username: 'gh_c_3' },
    ]);
  });
});
