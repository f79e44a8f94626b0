import type { Baseline, Check, Remediation, Rule } from './baseline-schema.js';
import type { RuleResult } from './assess.js';
import { probeArgv, readFileArgv, shellQuote, type ProbeOutput, type ScanPlan } from './scan-script.js';

/**
 * Templates: the remediation of every failing `enforced` rule of a scan, planned in pure code and
 * compiled to one script. Each step is idempotent by construction — it writes a whole drop-in file,
 * sets a mode, or asks the package manager for an end state — and only rules that fail get a step, so
 * applying twice changes nothing the second time. Rules under an exception or not applicable are
 * never touched; rules that need a person (fstab, accounts) are listed as manual.
 */

export interface Step {
  ruleId: string;
  title: string;
  /** What changes, for the plan people read before saying yes. */
  change: string;
  /** POSIX sh lines; values quoted with shellQuote, file contents carried in base64. */
  commands: string[];
}

export interface RemediationPlan {
  steps: Step[];
  manual: { ruleId: string; title: string; change: string }[];
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const put = (path: string, mode: string, content: string) =>
  `put ${shellQuote(path)} ${shellQuote(mode)} ${shellQuote(b64(content))}`;

/** A file's lines with every line matching `pattern` replaced by `line`, or `line` appended. */
export function setLine(content: string, pattern: string, line: string): string {
  const regex = new RegExp(pattern);
  const lines = content.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let found = false;
  const next = lines.map((l) => {
    if (!regex.test(l)) return l;
    found = true;
    return line;
  });
  if (!found) next.push(line);
  return `${next.join('\n')}\n`;
}

/** The mode to set: the current one without any bit the check does not allow. */
export function tightenedMode(current: string, allowed: string): string {
  const mode = parseInt(current, 8) & parseInt(allowed, 8) & 0o7777;
  return `0${mode.toString(8).padStart(3, '0')}`;
}

const fileName = (value: string) => value.toLowerCase().replace(/[^a-z0-9]+/g, '-');

function fromCheck(
  check: Check,
  output: ProbeOutput | undefined,
): { change: string; commands: string[] } | string {
  switch (check.type) {
    case 'sysctl':
      return {
        change: `set ${check.key} = ${check.value} now and at boot (/etc/sysctl.d/60-gatehouse-${fileName(check.key)}.conf)`,
        commands: [
          put(
            `/etc/sysctl.d/60-gatehouse-${fileName(check.key)}.conf`,
            '0644',
            `${check.key} = ${check.value}\n`,
          ),
          `sysctl -q -w ${shellQuote(`${check.key}=${check.value}`)}`,
        ],
      };
    case 'file-mode': {
      const [mode = '', owner = '', group = ''] = (output?.rc === 0 ? output.out.trim() : '').split(' ');
      if (!mode) return `${check.path} does not exist; create it with mode ${check.mode}`;
      const target = tightenedMode(mode, check.mode);
      const targetGroup = check.group.includes(group) ? group : (check.group[0] ?? 'root');
      return {
        change: `${check.path}: mode 0${mode} → ${target}, owner ${owner}:${group} → ${check.owner}:${targetGroup}`,
        commands: [
          `chown ${shellQuote(`${check.owner}:${targetGroup}`)} ${shellQuote(check.path)}`,
          `chmod ${shellQuote(target)} ${shellQuote(check.path)}`,
        ],
      };
    }
    case 'kernel-module':
      return {
        change: `block kernel module ${check.name} (/etc/modprobe.d/gatehouse-${check.name}.conf) and unload it`,
        commands: [
          put(
            `/etc/modprobe.d/gatehouse-${check.name}.conf`,
            '0644',
            `install ${check.name} /bin/false\nblacklist ${check.name}\n`,
          ),
          `modprobe -r ${shellQuote(check.name)} 2>/dev/null || true`,
        ],
      };
    case 'package':
      return check.state === 'absent'
        ? {
            change: `purge package ${check.name}`,
            commands: [`DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ${shellQuote(check.name)}`],
          }
        : {
            change: `install package ${check.name}`,
            commands: [`DEBIAN_FRONTEND=noninteractive apt-get install -y -q ${shellQuote(check.name)}`],
          };
    case 'service':
      return check.state === 'disabled'
        ? {
            change: `stop and disable ${check.name}`,
            commands: [
              `systemctl stop ${shellQuote(check.name)} 2>/dev/null || true`,
              `systemctl disable ${shellQuote(check.name)}`,
            ],
          }
        : {
            change: `enable and start ${check.name}`,
            commands: [`systemctl enable --now ${shellQuote(check.name)}`],
          };
    case 'command':
    case 'file-content':
    case 'manual':
    case 'mount':
    case 'nginx-directive':
    case 'sshd-option':
      return `no automatic remediation for a ${check.type} check`;
  }
}

function stepOf(
  rule: Rule,
  remediation: Remediation,
  outputOf: (argv: readonly string[] | undefined) => ProbeOutput | undefined,
  edited: Map<string, ProbeOutput>,
): { change: string; commands: string[] } | string {
  switch (remediation.type) {
    case 'from-check':
      return fromCheck(rule.check, outputOf(probeArgv(rule.check)));
    case 'sshd-option': {
      const path = `/etc/ssh/sshd_config.d/00-gatehouse-${fileName(remediation.key)}.conf`;
      return {
        change: `sshd: ${remediation.key} ${remediation.value} (${path}), then reload sshd`,
        commands: [
          put(path, '0600', `${remediation.key} ${remediation.value}\n`),
          'systemctl reload ssh 2>/dev/null || true',
        ],
      };
    }
    case 'file-line': {
      // several rules may set lines of one file: each step writes the file with every line so far
      const current = edited.get(remediation.path) ?? outputOf(readFileArgv(remediation.path));
      if (!current || current.rc !== 0)
        return `${remediation.path} was not read by the scan; set "${remediation.line}" by hand`;
      const content = setLine(current.out, remediation.pattern, remediation.line);
      edited.set(remediation.path, { rc: 0, out: content });
      return {
        change: `${remediation.path}: set "${remediation.line}"`,
        commands: [put(remediation.path, '0644', content)],
      };
    }
    case 'file':
      return {
        change: `write ${remediation.path} (mode ${remediation.mode})`,
        commands: [put(remediation.path, remediation.mode, remediation.content)],
      };
    case 'manual':
      return remediation.steps;
  }
}

/** The plan for the failing enforced rules of one host's scan. */
export function planRemediation(
  baseline: Baseline,
  results: readonly RuleResult[],
  scanPlan: ScanPlan,
  outputs: ReadonlyMap<string, ProbeOutput>,
): RemediationPlan {
  const idByArgv = new Map(scanPlan.probes.map((p) => [p.argv.join('\u0000'), p.id]));
  const outputOf = (argv: readonly string[] | undefined) => {
    const id = argv ? idByArgv.get(argv.join('\u0000')) : undefined;
    return id ? outputs.get(id) : undefined;
  };
  const rules = new Map(baseline.rules.map((r) => [r.id, r]));
  const plan: RemediationPlan = { steps: [], manual: [] };
  const edited = new Map<string, ProbeOutput>();
  for (const result of results) {
    const rule = rules.get(result.ruleId);
    if (!rule || result.decision !== 'enforced' || result.checked !== 'fail') continue;
    const step = stepOf(rule, rule.remediation, outputOf, edited);
    if (typeof step === 'string') plan.manual.push({ ruleId: rule.id, title: rule.title, change: step });
    else plan.steps.push({ ruleId: rule.id, title: rule.title, ...step });
  }
  return plan;
}

/** The apply script: every step in a subshell, one JSON line with its exit status each. */
export function applyScript(steps: readonly Step[]): string {
  const lines = [
    '# Gatehouse hardening template: idempotent remediation steps',
    'export LC_ALL=C',
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH',
    'put() {',
    '  mkdir -p "$(dirname "$1")" && printf \'%s\' "$3" | base64 -d > "$1.gatehouse-new" &&',
    '    chmod "$2" "$1.gatehouse-new" && mv -f "$1.gatehouse-new" "$1"',
    '}',
    ...steps.flatMap((step, i) => [
      `( set -e`,
      ...step.commands.map((c) => `  ${c}`),
      `) >/dev/null 2>&1; printf '{"step":${i},"rc":%s}\\n' "$?"`,
    ]),
    'echo \'{"done":true}\'',
  ];
  return `${lines.join('\n')}\n`;
}

/** Exit status per step from the apply script's output (missing steps count as failed). */
export function parseApplyOutput(stdout: string, count: number): number[] {
  const codes = new Array<number>(count).fill(-1);
  for (const line of stdout.split('\n')) {
    const m = /^\{"step":(\d+),"rc":(\d+)\}$/.exec(line.trim());
    if (m && Number(m[1]) < count) codes[Number(m[1])] = Number(m[2]);
  }
  return codes;
}
