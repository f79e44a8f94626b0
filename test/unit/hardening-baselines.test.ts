import { describe, expect, it } from 'vitest';
import { loadBaselines } from '../../src/modules/hardening/baselines.js';
import { cisReference, parseBaseline } from '../../src/modules/hardening/domain/baseline-schema.js';

const baselines = loadBaselines();
const debian = baselines.get('debian-12-server');
const nginx = baselines.get('nginx');

const minimal = (rule: string) => `
id: test
version: '1'
title: Test baseline
benchmark: { name: CIS Test, version: v1 }
profile: Level 1 - Server
rules:
${rule}`;

const sysctlRule = `
  - id: ip-forward
    title: Ensure ip forwarding is disabled
    cis: 3.3.1
    level: 1
    automated: true
    rationale: A server that forwards packets becomes a router.
    check: { type: sysctl, key: net.ipv4.ip_forward, value: '0' }
    remediation: { type: from-check }`;

describe('the shipped baselines', () => {
  it('the Debian 12 server baseline has at least 60 CIS Level 1 Server recommendations', () => {
    expect(debian).toBeDefined();
    expect(debian?.profile).toBe('Level 1 - Server');
    expect(debian?.rules.length).toBeGreaterThanOrEqual(60);
    expect(debian?.rules.every((r) => r.level === 1)).toBe(true);
  });

  it('covers every area the benchmark asks for: mounts, services, sysctls, sshd, logging, permissions, accounts', () => {
    const types = new Set(debian?.rules.map((r) => r.check.type));
    for (const type of [
      'mount',
      'package',
      'service',
      'sysctl',
      'sshd-option',
      'file-mode',
      'file-content',
      'kernel-module',
    ]) {
      expect(types.has(type as never), type).toBe(true);
    }
    const sections = new Set(debian?.rules.map((r) => r.cis.split('.')[0]));
    expect([...sections].sort()).toEqual(['1', '2', '3', '5', '6', '7']);
  });

  it('the nginx baseline has at least 15 recommendations, checked on the effective configuration', () => {
    expect(nginx?.rules.length).toBeGreaterThanOrEqual(15);
    expect(nginx?.rules.filter((r) => r.check.type === 'nginx-directive').length).toBeGreaterThanOrEqual(10);
  });

  it('every rule has a full CIS reference, a rationale and a remediation', () => {
    for (const baseline of [debian, nginx]) {
      for (const rule of baseline?.rules ?? []) {
        expect(cisReference(baseline!, rule)).toMatch(
          /^CIS .+ v\d+\.\d+\.\d+, \d+(\.\d+)* \(Level 1 - \w+, Level 1\)$/,
        );
        expect(rule.rationale.length).toBeGreaterThan(20);
        expect(rule.remediation.type).toBeDefined();
      }
    }
  });

  it('names SSG equivalents for the rules where the ssg-debian content has one', () => {
    const named = debian?.rules.filter((r) => r.ssg.length > 0) ?? [];
    expect(named.length).toBeGreaterThanOrEqual(20);
    expect(debian?.rules.find((r) => r.id === 'sshd-root-login')?.ssg).toEqual(['sshd_disable_root_login']);
  });
});

describe('parseBaseline', () => {
  it('parses a rule and fills in the defaults', () => {
    const baseline = parseBaseline(minimal(sysctlRule));
    expect(baseline.rules[0]?.ssg).toEqual([]);
    expect(cisReference(baseline, baseline.rules[0]!)).toBe('CIS Test v1, 3.3.1 (Level 1 - Server, Level 1)');
  });

  it('refuses duplicate rule ids', () => {
    expect(() => parseBaseline(minimal(sysctlRule + sysctlRule))).toThrow(/duplicate rule id ip-forward/);
  });

  it('refuses values that could smuggle shell syntax into the scan script', () => {
    expect(() =>
      parseBaseline(minimal(sysctlRule.replace('net.ipv4.ip_forward', 'net.ipv4;reboot'))),
    ).toThrow(/sysctl key/);
    const pkg = sysctlRule.replace(
      "{ type: sysctl, key: net.ipv4.ip_forward, value: '0' }",
      "{ type: package, name: 'a$(id)', state: absent }",
    );
    expect(() => parseBaseline(minimal(pkg))).toThrow(/Debian package name/);
    const file = sysctlRule.replace(
      "{ type: sysctl, key: net.ipv4.ip_forward, value: '0' }",
      "{ type: file-mode, path: '/etc/`id`', mode: '0644', owner: root, group: [root] }",
    );
    expect(() => parseBaseline(minimal(file))).toThrow(/absolute path/);
  });

  it('refuses a remediation from the check where the check type has no natural fix', () => {
    const content = sysctlRule.replace(
      "{ type: sysctl, key: net.ipv4.ip_forward, value: '0' }",
      '{ type: file-content, path: /etc/x, pattern: a, expect: match }',
    );
    expect(() => parseBaseline(minimal(content))).toThrow(/from-check only/);
  });

  it('refuses a manual check on an automated rule, and an invalid regular expression', () => {
    const manual = sysctlRule.replace(
      "{ type: sysctl, key: net.ipv4.ip_forward, value: '0' }",
      '{ type: manual, procedure: Look. }',
    );
    expect(() => parseBaseline(minimal(manual))).toThrow(/manual check/);
    const regex = sysctlRule.replace(
      "{ type: sysctl, key: net.ipv4.ip_forward, value: '0' }",
      "{ type: file-content, path: /etc/x, pattern: '(', expect: match }",
    );
    expect(() => parseBaseline(minimal(regex))).toThrow(/valid regular expression/);
  });

  it('names the file and the problem for broken YAML', () => {
    expect(() => parseBaseline('id: [', 'broken.yaml')).toThrow(/broken.yaml: not valid YAML/);
  });
});
