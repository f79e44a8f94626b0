import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertManagedUsername,
  connectorFor,
  databaseTargetSchema,
  hostPatternFor,
} from '../../src/adapters/connectors/index.js';
import { targetError } from '../../src/adapters/connectors/errors.js';
import { classifyMysql } from '../../src/adapters/connectors/mysql/session.js';
import { classifyPostgres } from '../../src/adapters/connectors/postgres/session.js';

const pgTarget = {
  engine: 'postgres',
  host: 'db1.example.net',
  port: 5432,
  admin: { username: 'postgres', password: 'x' },
};

describe('connector configuration', () => {
  it('has a connector for postgres, mysql and mariadb only', () => {
    expect(connectorFor('postgres').engines).toEqual(['postgres']);
    expect(connectorFor('mariadb').engines).toEqual(['mysql', 'mariadb']);
    expect(() => connectorFor('mssql')).toThrow(/no connector for mssql/);
  });

  it('accepts managed names within each engine’s length', () => {
    expect(assertManagedUsername('postgres', `gh_${'a'.repeat(60)}`)).toHaveLength(63);
    expect(() => assertManagedUsername('mysql', `gh_${'a'.repeat(30)}`)).toThrow(/at most 32/);
    for (const bad of ['gh_', 'gh_A', 'root', 'gh_a-b', "gh_a'b", 'gh_a b', 'gh_é']) {
      expect(() => assertManagedUsername('postgres', bad)).toThrow(/gh_ followed by/);
    }
  });

  it('checks level mappings: role names, gh_ roles, privilege keywords, scope', () => {
    const parse = (target: unknown) => databaseTargetSchema.safeParse(target);
    expect(parse({ ...pgTarget, levels: { admin: ['app_owner'] } }).success).toBe(true);
    expect(parse({ ...pgTarget, levels: { admin: ['x"; DROP ROLE y; --'] } }).success).toBe(false);
    expect(parse({ ...pgTarget, levels: { admin: ['gh_alice_1'] } }).success).toBe(false);
    expect(parse({ ...pgTarget, levels: { root: ['x'] } }).success).toBe(false);
    const my = { ...pgTarget, engine: 'mariadb', port: 3306 };
    expect(parse({ ...my, levels: { 'read-only': ['SELECT', 'SHOW VIEW'] } }).success).toBe(true);
    expect(parse({ ...my, levels: { 'read-only': ['SELECT; DROP USER root'] } }).success).toBe(false);
    expect(parse({ ...my, levels: { admin: ['ALL PRIVILEGES', 'SELECT'] } }).success).toBe(false);
    expect(parse({ ...my, database: 'app', levels: { admin: ['PROCESS'] } }).success).toBe(false);
    expect(parse({ ...my, database: 'a`b' }).success).toBe(false);
  });

  it('does not echo the admin password in validation errors', () => {
    const secret = 'S3cret-admin-password';
    expect(() =>
      connectorFor('postgres').validateConfig({ ...pgTarget, admin: { password: secret } }),
    ).toThrow(expect.objectContaining({ message: expect.not.stringContaining(secret) as string }));
  });
});

describe('jumpbox CIDR → MySQL/MariaDB host pattern', () => {
  it('maps single addresses, netmasks and /128', () => {
    expect(hostPatternFor('127.0.0.2/32')).toBe('127.0.0.2');
    expect(hostPatternFor('192.0.2.0/24')).toBe('192.0.2.0/255.255.255.0');
    expect(hostPatternFor('127.0.0.4/30')).toBe('127.0.0.4/255.255.255.252');
    expect(hostPatternFor('10.0.0.0/8')).toBe('10.0.0.0/255.0.0.0');
    expect(hostPatternFor('128.0.0.0/1')).toBe('128.0.0.0/128.0.0.0');
    expect(hostPatternFor('2001:DB8:0:0:0:0:0:1/128')).toBe('2001:db8::1');
  });

  it('refuses what an account host cannot express or must never be', () => {
    expect(() => hostPatternFor('0.0.0.0/0')).toThrow(/anywhere/);
    expect(() => hostPatternFor('2001:db8::/32')).toThrow(/\/128/);
    expect(() => hostPatternFor('::ffff:192.0.2.1/128')).toThrow(/IPv4/);
  });

  it('a netmask pattern covers exactly the CIDR (property)', () => {
    const toInt = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 1, max: 31 }), (ip, prefix) => {
        const network = Math.floor(ip / 2 ** (32 - prefix)) * 2 ** (32 - prefix);
        const address = [24, 16, 8, 0].map((s) => Math.floor(network / 2 ** s) % 256).join('.');
        const [base = '', mask = ''] = hostPatternFor(`${address}/${prefix}`).split('/');
        expect(toInt(base)).toBe(network);
        expect(toInt(mask)).toBe(2 ** 32 - 2 ** (32 - prefix));
      }),
    );
  });
});

describe('driver errors', () => {
  const ctx = { engine: 'postgres' as const, host: 'db', port: 5432, action: 'creating gh_a_1' };

  it('says whether a retry can help', () => {
    expect(
      classifyPostgres(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).kind,
    ).toBe('transient');
    expect(classifyPostgres(new Error('Connection terminated unexpectedly')).kind).toBe('transient');
    expect(classifyPostgres({ code: '57P01', message: 'terminating connection' }).kind).toBe('transient');
    expect(classifyPostgres({ code: '28P01', message: 'password authentication failed' }).kind).toBe(
      'credential',
    );
    expect(classifyPostgres({ code: '42501', message: 'permission denied' }).kind).toBe('privilege');
    expect(classifyPostgres({ code: '42704', message: 'role "x" does not exist' }).kind).toBe(
      'configuration',
    );
    expect(classifyMysql({ code: 'ECONNREFUSED', errno: -111 }).kind).toBe('transient');
    expect(classifyMysql({ code: 'ER_ACCESS_DENIED_ERROR', errno: 1045, sqlState: '28000' }).kind).toBe(
      'credential',
    );
    expect(classifyMysql({ code: 'ER_CANNOT_USER', errno: 1396, sqlState: 'HY000' }).kind).toBe('transient');
    expect(targetError(classifyPostgres({ code: '08006', message: '' }), ctx)).toMatchObject({
      code: 'target_unavailable',
      retryable: true,
    });
    expect(targetError(classifyPostgres({ code: '28P01', message: '' }), ctx).retryable).toBe(false);
  });

  it('leaves the server’s message out when the statement carried a secret', () => {
    const failure = classifyMysql({
      code: 'ER_PARSE_ERROR',
      errno: 1064,
      sqlState: '42000',
      sqlMessage: "syntax error near 'hunter2' WITH",
      sql: "CREATE USER 'a'@'b' IDENTIFIED BY 'hunter2'",
    });
    expect(targetError(failure, { ...ctx, secret: true }).message).not.toContain('hunter2');
    expect(targetError(failure, ctx).message).toContain('syntax error');
  });
});
