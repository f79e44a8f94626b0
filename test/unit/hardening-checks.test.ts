import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Check } from '../../src/modules/hardening/domain/baseline-schema.js';
import { checkSchema } from '../../src/modules/hardening/domain/baseline-schema.js';
import {
  evaluateCheck,
  modeWithin,
  mountOptions,
  parseSshdConfig,
} from '../../src/modules/hardening/domain/evaluate.js';
import {
  parseScanOutput,
  planProbes,
  scanScript,
  shellQuote,
} from '../../src/modules/hardening/domain/scan-script.js';
import { drift, score, scoreBy, tally } from '../../src/modules/hardening/domain/score.js';

const check = (raw: unknown): Check => checkSchema.parse(raw);
const ok = (out: string) => ({ rc: 0, out });
const evaluate = (raw: unknown, ...outputs: ({ rc: number; out: string } | undefined)[]) =>
  evaluateCheck(check(raw), outputs);

describe('evaluateCheck', () => {
  it('sysctl: compares the value with whitespace normalised; an unreadable key is an error', () => {
    const c = { type: 'sysctl', key: 'net.ipv4.ip_forward', value: '0' };
    expect(evaluate(c, ok('0\n')).result).toBe('pass');
    expect(evaluate(c, ok('1\n'))).toMatchObject({ result: 'fail', observed: 'net.ipv4.ip_forward = 1' });
    expect(evaluate(c, { rc: 1, out: '' }).result).toBe('error');
    expect(evaluate({ ...c, value: '4 4 1 7' }, ok('4\t4\t1\t7\n')).result).toBe('pass');
  });

  it('file-mode: no bit outside the allowed mode, the right owner, one of the groups; missing per whenMissing', () => {
    const c = {
      type: 'file-mode',
      path: '/etc/shadow',
      mode: '0640',
      owner: 'root',
      group: ['root', 'shadow'],
    };
    expect(evaluate(c, ok('640 root shadow\n')).result).toBe('pass');
    expect(evaluate(c, ok('600 root root\n')).result).toBe('pass');
    expect(evaluate(c, ok('644 root shadow\n'))).toMatchObject({
      result: 'fail',
      observed: '/etc/shadow mode 0644 owner root group shadow',
    });
    expect(evaluate(c, ok('640 daemon shadow\n')).result).toBe('fail');
    expect(evaluate(c, ok('640 root users\n')).result).toBe('fail');
    expect(evaluate(c, { rc: 3, out: '' })).toMatchObject({
      result: 'fail',
      observed: '/etc/shadow does not exist',
    });
    expect(evaluate({ ...c, whenMissing: 'pass' }, { rc: 3, out: '' }).result).toBe('pass');
    // a file that exists but cannot be read (not root) is an error, never "missing" and never a pass
    expect(evaluate({ ...c, whenMissing: 'pass' }, { rc: 1, out: '' })).toMatchObject({
      result: 'error',
      observed: '/etc/shadow could not be read',
    });
  });

  it('modeWithin: property — a mode is within the allowed one exactly when it sets no other bit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0o7777 }), fc.integer({ min: 0, max: 0o777 }), (mode, max) => {
        return modeWithin(mode.toString(8), `0${max.toString(8).padStart(3, '0')}`) === ((mode & ~max) === 0);
      }),
    );
  });

  it('file-content: reports the line number, never the content (a shadow line is a hash)', () => {
    const c = { type: 'file-content', path: '/etc/shadow', pattern: '^[^:]+::', expect: 'no-match' };
    const shadow = 'root:$y$j9T$secret:19000:0:99999:7:::\nbob::19000:0:99999:7:::\n';
    const result = evaluate(c, ok(shadow));
    expect(result).toMatchObject({ result: 'fail', observed: 'line 2 matches' });
    expect(JSON.stringify(result)).not.toContain('$y$');
    expect(evaluate(c, ok('root:$y$x:1:0:99999:7:::\n')).result).toBe('pass');
    const match = {
      type: 'file-content',
      path: '/etc/login.defs',
      pattern: '^\\s*PASS_MIN_DAYS\\s+[1-9]',
      expect: 'match',
    };
    expect(evaluate(match, ok('# PASS_MIN_DAYS 1\nPASS_MIN_DAYS\t0\n')).result).toBe('fail');
    expect(evaluate(match, ok('PASS_MIN_DAYS\t1\n')).result).toBe('pass');
  });

  it('sshd-option: reads sshd -T; not installed is not applicable, a failing sshd -T an error', () => {
    const c = { type: 'sshd-option', key: 'permitrootlogin', oneOf: ['no'] };
    expect(evaluate(c, ok('port 22\npermitrootlogin no\n')).result).toBe('pass');
    expect(evaluate(c, ok('permitrootlogin without-password\n'))).toMatchObject({
      result: 'fail',
      observed: 'permitrootlogin without-password',
    });
    expect(evaluate(c, ok('port 22\n')).result).toBe('fail');
    expect(evaluate(c, { rc: 127, out: '' }).result).toBe('notapplicable');
    expect(evaluate(c, { rc: 255, out: '' }).result).toBe('error');
    const range = { type: 'sshd-option', key: 'maxauthtries', min: 1, max: 4 };
    expect(evaluate(range, ok('maxauthtries 4\n')).result).toBe('pass');
    expect(evaluate(range, ok('maxauthtries 6\n')).result).toBe('fail');
    expect(evaluate(range, ok('maxauthtries 0\n')).result).toBe('fail');
    expect(parseSshdConfig('HostKey /a\nhostkey /b\n').get('hostkey')).toEqual(['/a', '/b']);
  });

  it('package, service, mount and kernel module', () => {
    expect(evaluate({ type: 'package', name: 'telnet', state: 'absent' }, { rc: 1, out: '' }).result).toBe(
      'pass',
    );
    expect(
      evaluate({ type: 'package', name: 'telnet', state: 'absent' }, ok('install ok installed')).result,
    ).toBe('fail');
    expect(
      evaluate({ type: 'package', name: 'telnet', state: 'absent' }, ok('deinstall ok config-files')).result,
    ).toBe('pass');
    expect(
      evaluate({ type: 'package', name: 'sudo', state: 'installed' }, ok('install ok installed')).result,
    ).toBe('pass');
    expect(
      evaluate({ type: 'service', name: 'a.service', state: 'disabled' }, { rc: 1, out: 'masked\n' }).result,
    ).toBe('pass');
    expect(
      evaluate({ type: 'service', name: 'a.service', state: 'disabled' }, { rc: 1, out: '' }).result,
    ).toBe('pass');
    expect(evaluate({ type: 'service', name: 'a.service', state: 'disabled' }, ok('enabled\n')).result).toBe(
      'fail',
    );
    expect(evaluate({ type: 'service', name: 'a.service', state: 'enabled' }, ok('static\n')).result).toBe(
      'pass',
    );

    const mounts =
      'proc /proc proc rw 0 0\ntmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0\n/dev/sda2 /var/my\\040dir ext4 rw 0 0\n';
    expect(evaluate({ type: 'mount', path: '/dev/shm', option: 'nodev' }, ok(mounts)).result).toBe('pass');
    expect(evaluate({ type: 'mount', path: '/dev/shm', option: 'noexec' }, ok(mounts)).result).toBe('fail');
    expect(evaluate({ type: 'mount', path: '/tmp' }, ok(mounts))).toMatchObject({
      result: 'fail',
      observed: '/tmp is not a separate mount',
    });
    expect(mountOptions(mounts, '/var/my dir')).toEqual(['rw']);

    const mod = { type: 'kernel-module', name: 'cramfs' };
    expect(
      evaluate(mod, ok('install cramfs /bin/false\nblacklist cramfs\n'), ok('ext4 1 0 - Live\n')).result,
    ).toBe('pass');
    expect(evaluate(mod, ok('install cramfs /bin/false\n'), ok('cramfs 1 0 - Live\n'))).toMatchObject({
      result: 'fail',
      observed: 'blocked, loaded',
    });
    expect(evaluate(mod, ok('blacklist cramfs\n'), { rc: 1, out: '' }).result).toBe('fail');
  });

  it('a probe that did not run is an error; a manual check is not checked', () => {
    expect(evaluate({ type: 'sysctl', key: 'kernel.x', value: '1' }).result).toBe('error');
    expect(evaluate({ type: 'manual', procedure: 'Look at it.' }).result).toBe('notchecked');
  });
});

describe('the scan script', () => {
  it('shares one probe between checks that read the same thing', () => {
    const plan = planProbes([
      check({ type: 'sshd-option', key: 'permitrootlogin', oneOf: ['no'] }),
      check({ type: 'sshd-option', key: 'maxauthtries', max: 4 }),
      check({ type: 'kernel-module', name: 'cramfs' }),
      check({ type: 'kernel-module', name: 'hfs' }),
      check({ type: 'manual', procedure: 'Look.' }),
    ]);
    expect(plan.probes.map((p) => p.argv[0])).toEqual(['sshd', 'find', 'cat']);
    expect(plan.probeIdsOf(check({ type: 'manual', procedure: 'Look.' }))).toEqual([]);
  });

  it('quotes every argument as one shell word', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    const script = scanScript([{ id: 'p0', argv: ['cat', "/etc/a'; rm -rf /; '"] }]);
    expect(script).toContain(`probe p0 'cat' '/etc/a'\\''; rm -rf /; '\\'''`);
  });

  it('reads the probe lines back, ignoring noise, and refuses output that stops early', () => {
    const line = (id: string, rc: number, out: string) =>
      JSON.stringify({ probe: id, rc, out: Buffer.from(out).toString('base64') });
    const outputs = parseScanOutput(
      `Welcome!\n${line('p0', 0, 'a\nb')}\n{bad json\n${line('p1', 127, '')}\n{"done":true}\n`,
    );
    expect(outputs.get('p0')).toEqual({ rc: 0, out: 'a\nb' });
    expect(outputs.get('p1')).toEqual({ rc: 127, out: '' });
    expect(() => parseScanOutput(line('p0', 0, 'x'))).toThrow(/did not finish/);
  });
});

describe('scores and drift', () => {
  it('scores pass among pass, fail and error; leaves out not-applicable, manual and excepted rules', () => {
    const counts = tally(['pass', 'pass', 'pass', 'fail', 'notapplicable', 'notchecked', 'exception']);
    expect(score(counts)).toBe(75);
    expect(score(tally(['notapplicable']))).toBeNull();
  });

  it('drift lists exactly the rules whose result changed', () => {
    const before = new Map([
      ['a', 'pass'],
      ['b', 'fail'],
      ['c', 'pass'],
    ] as const);
    const after = new Map([
      ['a', 'pass'],
      ['b', 'pass'],
      ['d', 'fail'],
    ] as const);
    expect(drift(before, after)).toEqual([
      { ruleId: 'b', from: 'fail', to: 'pass' },
      { ruleId: 'c', from: 'pass', to: null },
      { ruleId: 'd', from: null, to: 'fail' },
    ]);
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.constantFrom('pass' as const, 'fail' as const)), (d) => {
        const m = new Map(Object.entries(d));
        return drift(m, m).length === 0;
      }),
    );
  });

  it('groups hosts per machine type and customer', () => {
    const hosts = [
      { name: 'a', machineType: 'web', customer: 'acme', counts: tally(['pass', 'fail']) },
      { name: 'b', machineType: 'web', customer: null, counts: tally(['pass', 'pass']) },
    ];
    expect(scoreBy(hosts, (h) => h.machineType)).toEqual([
      { name: 'web', hosts: 2, counts: tally(['pass', 'pass', 'pass', 'fail']), score: 75 },
    ]);
    expect(scoreBy(hosts, (h) => h.customer).map((g) => g.name)).toEqual(['acme']);
  });
});
