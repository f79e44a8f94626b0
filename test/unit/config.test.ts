import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.js';
import { ConfigError } from '../../src/platform/errors.js';

describe('configuration', () => {
  it('has safe defaults: loopback, port 7070, embedded store', () => {
    const config = loadConfig({ env: {} });
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(7070);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.trustedProxies).toEqual([]);
    expect(path.isAbsolute(config.dataDir)).toBe(true);
  });

  it('reads the environment, and flags win over it', () => {
    const config = loadConfig({
      env: {
        GATEHOUSE_PORT: '8080',
        GATEHOUSE_TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.1/32',
        GATEHOUSE_JOBS_CONCURRENCY: '2',
      },
      overrides: { port: '9090' },
    });
    expect(config.port).toBe(9090);
    expect(config.trustedProxies).toEqual(['10.0.0.0/8', '192.0.2.1/32']);
    expect(config.jobs.concurrency).toBe(2);
  });

  it('names the environment variable that is wrong', () => {
    expect(() => loadConfig({ env: { GATEHOUSE_PORT: 'eighty' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { GATEHOUSE_PORT: 'eighty' } })).toThrow(/GATEHOUSE_PORT/);
    expect(() => loadConfig({ env: { GATEHOUSE_LOG_LEVEL: 'loud' } })).toThrow(/GATEHOUSE_LOG_LEVEL/);
    expect(() => loadConfig({ env: { DATABASE_URL: 'not a url' } })).toThrow(/DATABASE_URL/);
  });

  it('names the file key that is wrong, including unknown keys', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-config-'));
    const file = path.join(dir, 'gatehouse.yaml');
    writeFileSync(file, 'port: 7071\njobs:\n  concurency: 3\n');
    expect(() => loadConfig({ env: {}, file })).toThrow(/jobs\.concurency.*unknown setting/);
    writeFileSync(file, 'audit:\n  checkpointEvery: -1\n');
    expect(() => loadConfig({ env: {}, file })).toThrow(
      new RegExp(`audit\\.checkpointEvery \\(in ${file.replace(/[.]/g, '\\.')}\\)`),
    );
    const json = path.join(dir, 'gatehouse.json');
    writeFileSync(json, '{"port": 7071, "jobs": {"concurrency": 3}}');
    expect(loadConfig({ env: {}, file: json })).toMatchObject({ port: 7071, jobs: { concurrency: 3 } });
  });

  it('fails clearly on a missing config file', () => {
    expect(() => loadConfig({ env: { GATEHOUSE_CONFIG: '/nonexistent/gatehouse.yaml' } })).toThrow(
      /Cannot read config file/,
    );
  });
});
