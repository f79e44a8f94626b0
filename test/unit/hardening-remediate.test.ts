import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBaseline } from '../../src/modules/hardening/domain/baseline-schema.js';
import { planBaseline, type RuleResult } from '../../src/modules/hardening/domain/assess.js';
import {
  applyScript,
  parseApplyOutput,
  planRemediation,
  setLine,
  tightenedMode,
} from '../../src/modules/hardening/domain/remediate.js';
import { readFileArgv, statFileArgv } from '../../src/modules/hardening/domain/scan-script.js';

const baseline = parseBaseline(`
id: test
version: '1'
title: Test
benchmark: { name: CIS Test, version: v1 }
profile: Level 1 - Server
rules:
  - id: max-days
    title: Ensure password expiration is configured
    cis: 5.4.1.1
    level: 1
    automated: true
    rationale: Passwords that never expire stay useful to whoever learns them.
    check: { type: file-content, path: /etc/login.defs, pattern: '^PASS_MAX_DAYS\\s+365', expect: match }
    remediation: { type: file-line, path: /etc/login.defs, pattern: '^\\s*PASS_MAX_DAYS.*$', line: 'PASS_MAX_DAYS 365' }
  - id: min-days
    title: Ensure minimum password age is configured
    cis: 5.4.1.2
    level: 1
    automated: true
    rationale: A minimum age stops a user cycling straight back to an old password.
    check: { type: file-content, path: /etc/login.defs, pattern: '^PASS_MIN_DAYS\\s+1', expect: match }
    remediation: { type: file-line, path: /etc/login.defs, pattern: '^\\s*PASS_MIN_DAYS.*$', line: 'PASS_MIN_DAYS 1' }
  - id: shadow-mode
    title: Ensure permissions on /etc/shadow are configured
    cis: 7.1.5
    level: 1
    automated: true
    rationale: Password hashes must not be readable by ordinary users.
    check: { type: file-mode, path: /etc/shadow, mode: '0640', owner: root, group: [root, shadow] }
    remediation: { type: from-check }
  - id: forward
    title: Ensure ip forwarding is disabled
    cis: 3.3.1
    level: 1
    automated: true
    rationale: A server that forwards packets becomes a router.
    check: { type: sysctl, key: net.ipv4.ip_forward, value: '0' }
    remediation: { type: from-check }
  - id: tmp
    title: Ensure /tmp is a separate partition
    cis: 1.1.2.1.1
    level: 1
    automated: true
    rationale: A separate /tmp can carry restrictive mount options.
    check: { type: mount, path: /tmp }
    remediation: { type: manual, steps: Mount /tmp. }
`);
const scanPlan = planBaseline(baseline);
const probeId = (argv: string[]) => scanPlan.probes.find((p) => p.argv.join(' ') === argv.join(' '))!.id;
const outputs = new Map([
  [
    probeId(readFileArgv('/etc/login.defs')),
    { rc: 0, out: '# defaults\nPASS_MAX_DAYS 99999\nPASS_MIN_DAYS 0\n' },
  ],
  [probeId(statFileArgv('/etc/shadow')), { rc: 0, out: '644 root shadow\n' }],
]);
const failing = (ruleId: string, over: Partial<RuleResult> = {}): RuleResult => ({
  ruleId,
  checked: 'fail',
  result: 'fail',
  decision: 'enforced',
  decisionId: null,
  observed: '',
  expected: '',
  ...over,
});

describe('planRemediation', () => {
  it('fixes failing enforced rules; manual ones are listed for a person', () => {
    const plan = planRemediation(
      baseline,
      ['max-days', 'min-days', 'shadow-mode', 'forward', 'tmp'].map((id) => failing(id)),
      scanPlan,
      outputs,
    );
    expect(plan.steps.map((s) => s.ruleId)).toEqual(['max-days', 'min-days', 'shadow-mode', 'forward']);
    expect(plan.manual).toEqual([
      { ruleId: 'tmp', title: 'Ensure /tmp is a separate partition', change: 'Mount /tmp.' },
    ]);
    expect(plan.steps[2]!.change).toBe('/etc/shadow: mode 0644 → 0640, owner root:shadow → root:shadow');
    expect(plan.steps[3]!.commands).toContain("sysctl -q -w 'net.ipv4.ip_forward=0'");
  });

  it('two rules editing one file: the last write carries both lines', () => {
    const plan = planRemediation(baseline, [failing('max-days'), failing('min-days')], scanPlan, outputs);
    const last = plan.steps[1]!.commands[0]!;
    const content = Buffer.from(/'([A-Za-z0-9+/=]+)'$/.exec(last)![1]!, 'base64').toString();
    expect(content).toBe('# defaults\nPASS_MAX_DAYS 365\nPASS_MIN_DAYS 1\n');
  });

  it('never touches passing rules, exceptions, not-applicable rules or errors', () => {
    const results = [
      failing('max-days', { checked: 'pass', result: 'pass' }),
      failing('min-days', { result: 'exception', decision: 'exception' }),
      failing('shadow-mode', { result: 'notapplicable', decision: 'not-applicable' }),
      failing('forward', { checked: 'error', result: 'error' }),
      failing('tmp', { decision: 'exception-expired' }),
    ];
    expect(planRemediation(baseline, results, scanPlan, outputs)).toEqual({ steps: [], manual: [] });
  });
});

describe('template helpers', () => {
  it('setLine replaces every matching line or appends; applying twice changes nothing more', () => {
    expect(setLine('a\nPASS 1\nb\n', '^PASS.*$', 'PASS 2')).toBe('a\nPASS 2\nb\n');
    expect(setLine('a', '^PASS.*$', 'PASS 2')).toBe('a\nPASS 2\n');
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[A-Z ]{0,8}$/)), (lines) => {
        const once = setLine(lines.join('\n'), '^PASS.*$', 'PASS 2');
        return setLine(once, '^PASS.*$', 'PASS 2') === once;
      }),
    );
  });

  it('tightenedMode only removes bits', () => {
    expect(tightenedMode('644', '0640')).toBe('0640');
    expect(tightenedMode('600', '0640')).toBe('0600');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0o777 }), fc.integer({ min: 0, max: 0o777 }), (mode, max) => {
        const t = parseInt(tightenedMode(mode.toString(8), max.toString(8)), 8);
        return (t & ~max) === 0 && (t & ~mode) === 0;
      }),
    );
  });

  it('the apply script reports each step, and a missing step counts as failed', () => {
    const script = applyScript([{ ruleId: 'x', title: 'X', change: 'c', commands: ['true'] }]);
    expect(script).toContain(`printf '{"step":0,"rc":%s}\\n' "$?"`);
    expect(parseApplyOutput('{"step":0,"rc":0}\n{"step":2,"rc":1}\n', 2)).toEqual([0, -1]);
  });
});
