import { describe, expect, it } from 'vitest';
import { loadBaselines } from '../../src/modules/hardening/baselines.js';
import {
  hardeningHtml,
  hardeningMarkdown,
  type DocumentDecision,
} from '../../src/modules/hardening/domain/document.js';

const baseline = loadBaselines().get('debian-12-server')!;
const now = new Date('2026-06-01T00:00:00Z');
const decision = (over: Partial<DocumentDecision>): DocumentDecision => ({
  ruleId: 'tmp-partition',
  scopeType: 'fleet',
  scopeName: null,
  status: 'enforced',
  justification: '',
  approver: null,
  expiresAt: null,
  compensatingControl: '',
  author: 'olivia',
  ...over,
});
const decisions = [
  decision({
    status: 'not-applicable',
    scopeType: 'machine-type',
    scopeName: 'web',
    justification: 'tmp is a tmpfs on the web image',
  }),
  decision({
    ruleId: 'sshd-root-login',
    status: 'exception',
    scopeType: 'machine-type',
    scopeName: 'web',
    justification: 'vendor agent <needs> root',
    approver: 'sam',
    expiresAt: new Date('2026-05-01T00:00:00Z'),
    compensatingControl: 'root key only from the jumpbox',
  }),
  decision({
    ruleId: 'aide-installed',
    status: 'exception',
    scopeType: 'asset',
    scopeName: 'web-7',
    justification: 'replaced next week',
    approver: 'sam',
    expiresAt: new Date('2026-07-01T00:00:00Z'),
  }),
];
const results = new Map([['aslr-enabled', ['pass', 'pass', 'fail'] as const]]);
const input = {
  baseline,
  machineType: 'web',
  decisions,
  results: results as never,
  hosts: 3,
  generatedAt: now,
};

describe('the hardening document', () => {
  it('lists every recommendation with its CIS number and whether it is configured', () => {
    const md = hardeningMarkdown(input);
    for (const rule of baseline.rules) expect(md).toContain(`### ${rule.cis} ${rule.title}`);
    expect(md).toContain(
      `Recommendations: ${baseline.rules.length}; configured: ${baseline.rules.length - 2}`,
    );
  });

  it('says why a recommendation is not configured: the decision, justification, approver, expiry, compensating control', () => {
    const md = hardeningMarkdown(input);
    expect(md).toContain('Not configured: not applicable. Not applicable: tmp is a tmpfs on the web image');
    expect(md).toContain('Exception (EXPIRED: counts as a finding): vendor agent <needs> root');
    expect(md).toContain(
      'Approved by sam (recorded by olivia), until 2026-05-01. Compensating control: root key only from the jumpbox',
    );
    expect(md).toContain('Narrower decision, asset web-7: Exception: replaced next week');
  });

  it('carries the latest results per rule and the score', () => {
    const md = hardeningMarkdown(input);
    expect(md).toMatch(
      /\| 1\.5\.1 \| Ensure address space layout randomization is enabled \| 1 \| automated \| Configured \(enforced, checked automatically\) \| pass 2, fail 1,/,
    );
    expect(md).toContain('Score (pass among pass, fail and error): 66.7%');
  });

  it('HTML escapes what people typed', () => {
    const html = hardeningHtml(input);
    expect(html).toContain('vendor agent &lt;needs&gt; root');
    expect(html).not.toContain('<needs>');
    expect(html.match(/<tr id=/g)).toHaveLength(baseline.rules.length);
  });
});
