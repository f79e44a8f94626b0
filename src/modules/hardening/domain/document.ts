import { cisReference, type Baseline, type Rule } from './baseline-schema.js';
import type { FinalResult, ScopeType } from './decisions.js';
import { emptyTally, score, type Tally } from './score.js';

/**
 * The hardening document an auditor reads: every recommendation of a baseline, whether it is
 * configured and, where not, why (the decision, its justification, approver, expiry and compensating
 * control), with the latest results across the fleet (or one machine type). Pure: the service gathers
 * the register and the results, this renders them as Markdown and HTML.
 */

export interface DocumentDecision {
  ruleId: string;
  scopeType: ScopeType;
  scopeName: string | null;
  status: 'enforced' | 'not-applicable' | 'exception';
  justification: string;
  approver: string | null;
  expiresAt: Date | null;
  compensatingControl: string;
  author: string;
}

export interface DocumentInput {
  baseline: Baseline;
  /** The machine type the document is for, or null for the whole fleet. */
  machineType: string | null;
  decisions: readonly DocumentDecision[];
  /** Latest result of each rule on each host in scope. */
  results: ReadonlyMap<string, readonly FinalResult[]>;
  hosts: number;
  generatedAt: Date;
}

interface RuleSection {
  rule: Rule;
  reference: string;
  configured: string;
  why: string;
  narrower: string[];
  tally: Tally;
}

const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : '-');

function describeDecision(d: DocumentDecision, now: Date): string {
  if (d.status === 'enforced') return 'Enforced.';
  if (d.status === 'not-applicable') return `Not applicable: ${d.justification}`;
  const expired = d.expiresAt !== null && d.expiresAt.getTime() <= now.getTime();
  return [
    `Exception${expired ? ' (EXPIRED: counts as a finding)' : ''}: ${d.justification}`,
    `Approved by ${d.approver ?? '-'} (recorded by ${d.author}), until ${day(d.expiresAt)}.`,
    d.compensatingControl ? `Compensating control: ${d.compensatingControl}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

function sections(input: DocumentInput): RuleSection[] {
  const now = input.generatedAt;
  return input.baseline.rules.map((rule) => {
    const ofRule = input.decisions.filter((d) => d.ruleId === rule.id);
    const own =
      (input.machineType !== null
        ? ofRule.find((d) => d.scopeType === 'machine-type' && d.scopeName === input.machineType)
        : undefined) ?? ofRule.find((d) => d.scopeType === 'fleet');
    const narrower = ofRule
      .filter(
        (d) =>
          d !== own &&
          d.scopeType !== 'fleet' &&
          (input.machineType === null || d.scopeType !== 'machine-type'),
      )
      .map((d) => `${d.scopeType} ${d.scopeName ?? '?'}: ${describeDecision(d, now)}`);
    const status = own?.status ?? 'enforced';
    const configured =
      status === 'enforced'
        ? rule.automated
          ? 'Configured (enforced, checked automatically)'
          : 'Configured (enforced, reviewed manually)'
        : status === 'not-applicable'
          ? 'Not configured: not applicable'
          : 'Not configured: exception';
    const why = own ? describeDecision(own, now) : 'Enforced by default: the baseline applies as written.';
    const tally = emptyTally();
    for (const r of input.results.get(rule.id) ?? []) tally[r] += 1;
    return {
      rule,
      reference: cisReference(input.baseline, rule),
      configured,
      why: `${why}`,
      narrower,
      tally,
    };
  });
}

const resultsText = (t: Tally) =>
  `pass ${t.pass}, fail ${t.fail}, error ${t.error}, exception ${t.exception}, n/a ${t.notapplicable}, manual ${t.notchecked}`;

function summary(input: DocumentInput, all: RuleSection[]) {
  const total = all.reduce((sum, s) => {
    for (const key of Object.keys(sum) as (keyof Tally)[]) sum[key] += s.tally[key];
    return sum;
  }, emptyTally());
  const configured = all.filter((s) => s.configured.startsWith('Configured')).length;
  return { total, configured, score: score(total) };
}

export function hardeningMarkdown(input: DocumentInput): string {
  const all = sections(input);
  const { total, configured, score: fleetScore } = summary(input, all);
  const b = input.baseline;
  const scope = input.machineType ? `machine type \`${input.machineType}\`` : 'the whole fleet';
  const lines = [
    `# Hardening document: ${b.title} (${scope})`,
    '',
    `Baseline \`${b.id}\` version ${b.version}, from the ${b.benchmark.name} ${b.benchmark.version}, profile ${b.profile}.`,
    `Generated ${input.generatedAt.toISOString()} by Gatehouse from the baseline file, the decisions register and the latest scans.`,
    '',
    '## Summary',
    '',
    `- Recommendations: ${all.length}; configured: ${configured}; not configured (with the reason below): ${all.length - configured}.`,
    `- Hosts with a scan: ${input.hosts}. Latest results: ${resultsText(total)}.`,
    `- Score (pass among pass, fail and error): ${fleetScore === null ? '-' : `${fleetScore}%`}.`,
    '',
    '## Recommendations',
    '',
    '| CIS | Recommendation | Level | Check | Configured | Latest results |',
    '|---|---|---|---|---|---|',
    ...all.map(
      (s) =>
        `| ${s.rule.cis} | ${mdCell(s.rule.title)} | ${s.rule.level} | ${s.rule.automated ? 'automated' : 'manual'} | ${mdCell(s.configured)} | ${resultsText(s.tally)} |`,
    ),
    '',
    '## Details',
    '',
  ];
  for (const s of all) {
    lines.push(
      `### ${s.rule.cis} ${s.rule.title}`,
      '',
      `- Rule: \`${s.rule.id}\`; reference: ${s.reference}${s.rule.ssg.length > 0 ? `; OpenSCAP (SSG): ${s.rule.ssg.map((x) => `\`${x}\``).join(', ')}` : ''}.`,
      `- ${s.configured}. ${s.why}`,
      ...s.narrower.map((n) => `- Narrower decision, ${n}`),
      `- Rationale: ${s.rule.rationale}`,
      `- Latest results: ${resultsText(s.tally)}.`,
      '',
    );
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

const mdCell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

const escapeHtml = (text: string) =>
  text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');

export function hardeningHtml(input: DocumentInput): string {
  const all = sections(input);
  const { total, configured, score: fleetScore } = summary(input, all);
  const b = input.baseline;
  const e = escapeHtml;
  const scope = input.machineType ? `machine type ${input.machineType}` : 'the whole fleet';
  const rows = all
    .map(
      (s) =>
        `<tr id="${e(s.rule.id)}"><td>${e(s.rule.cis)}</td><td>${e(s.rule.title)}<br><small>${e(s.reference)}</small></td>` +
        `<td>${s.rule.automated ? 'automated' : 'manual'}</td><td>${e(s.configured)}</td>` +
        `<td>${e(s.why)}${s.narrower.map((n) => `<br>${e(n)}`).join('')}</td><td>${e(resultsText(s.tally))}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hardening document: ${e(b.title)} (${e(scope)})</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px;vertical-align:top}small{color:#555}</style>
</head><body>
<h1>Hardening document: ${e(b.title)} (${e(scope)})</h1>
<p>Baseline <code>${e(b.id)}</code> version ${e(b.version)}, from the ${e(b.benchmark.name)} ${e(b.benchmark.version)}, profile ${e(b.profile)}. Generated ${e(input.generatedAt.toISOString())}.</p>
<ul><li>Recommendations: ${all.length}; configured: ${configured}; not configured: ${all.length - configured}.</li>
<li>Hosts with a scan: ${input.hosts}. Latest results: ${e(resultsText(total))}.</li>
<li>Score: ${fleetScore === null ? '-' : `${fleetScore}%`}.</li></ul>
<table><thead><tr><th>CIS</th><th>Recommendation</th><th>Check</th><th>Configured</th><th>Why</th><th>Latest results</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
