import type { Check } from './baseline-schema.js';
import { MISSING, type ProbeOutput } from './scan-script.js';

/**
 * Checks evaluated on what the probes returned: pure, so every branch is unit-tested without a host.
 * Results use the XCCDF vocabulary OpenSCAP reports in (pass, fail, error, notapplicable, notchecked).
 * `observed` says what was found, never file contents (a matching line of /etc/shadow is a hash).
 */

export const checkResults = ['pass', 'fail', 'error', 'notapplicable', 'notchecked'] as const;
export type CheckResult = (typeof checkResults)[number];

export interface Evaluation {
  result: CheckResult;
  observed: string;
  expected: string;
}

const NOT_FOUND = 127;

const result = (pass: boolean, observed: string, expected: string): Evaluation => ({
  result: pass ? 'pass' : 'fail',
  observed,
  expected,
});

/** Line number (1-based) of the first match of a multi-line regex, or 0. */
export function firstMatchLine(text: string, pattern: string): number {
  const match = new RegExp(pattern, 'm').exec(text);
  if (!match) return 0;
  return text.slice(0, match.index).split('\n').length;
}

/** `sshd -T` output as keyword → values (keywords repeat for some options, e.g. hostkey). */
export function parseSshdConfig(text: string): Map<string, string[]> {
  const config = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)\s+(.*?)\s*$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    const key = m[1].toLowerCase();
    config.set(key, [...(config.get(key) ?? []), m[2]]);
  }
  return config;
}

/** The options of the last mount at exactly `path` in a mounts table, or undefined if none. */
export function mountOptions(mounts: string, path: string): string[] | undefined {
  let options: string[] | undefined;
  for (const line of mounts.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 4) continue;
    const target = (fields[1] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) =>
      String.fromCharCode(parseInt(o, 8)),
    );
    if (target === path) options = (fields[3] ?? '').split(',');
  }
  return options;
}

/** Whether a mode (octal text) sets no bit outside the most permissive mode allowed. */
export function modeWithin(actual: string, allowed: string): boolean {
  const a = parseInt(actual, 8);
  const max = parseInt(allowed, 8);
  return Number.isInteger(a) && (a & ~max) === 0;
}

const ENABLED = new Set(['enabled', 'enabled-runtime', 'static', 'alias', 'generated', 'indirect']);
const DISABLED = new Set(['disabled', 'masked', 'masked-runtime', 'not-found', '']);

function evaluateSshd(check: Extract<Check, { type: 'sshd-option' }>, output: ProbeOutput): Evaluation {
  const expected = [
    check.oneOf && `one of ${check.oneOf.join(', ')}`,
    check.min !== undefined && `at least ${check.min}`,
    check.max !== undefined && `at most ${check.max}`,
    check.pattern && `matching /${check.pattern}/`,
  ]
    .filter(Boolean)
    .join(', ');
  const what = `${check.key} ${expected}`;
  if (output.rc === NOT_FOUND)
    return { result: 'notapplicable', observed: 'sshd is not installed', expected: what };
  if (output.rc !== 0)
    return { result: 'error', observed: `sshd -T failed (exit ${output.rc})`, expected: what };
  const values = parseSshdConfig(output.out).get(check.key);
  const value = values?.[0];
  if (value === undefined) return result(false, `${check.key} not set`, what);
  const number = Number(value);
  const ok =
    (!check.oneOf || check.oneOf.some((v) => v.toLowerCase() === value.toLowerCase())) &&
    (check.min === undefined || (Number.isFinite(number) && number >= check.min)) &&
    (check.max === undefined || (Number.isFinite(number) && number <= check.max)) &&
    (!check.pattern || new RegExp(check.pattern).test(value));
  return result(ok, `${check.key} ${value}`, what);
}

function evaluateKernelModule(
  name: string,
  config: ProbeOutput,
  loaded: ProbeOutput | undefined,
): Evaluation {
  const expected = `${name} blocked (install ${name} /bin/false) and not loaded`;
  const escaped = name.replace(/[-_]/g, '[-_]');
  const blocked = new RegExp(`^\\s*install\\s+${escaped}\\s+(/usr)?/bin/(false|true)\\s*$`, 'm').test(
    config.out,
  );
  const isLoaded =
    loaded !== undefined && loaded.rc === 0 && new RegExp(`^${escaped}\\s`, 'm').test(loaded.out);
  const observed = `${blocked ? 'blocked' : 'not blocked'}, ${isLoaded ? 'loaded' : 'not loaded'}`;
  return result(blocked && !isLoaded, observed, expected);
}

/**
 * One check evaluated on its probes' outputs (in the order planProbes gives them). A probe that did
 * not come back at all is an error: the host did not run it.
 */
export function evaluateCheck(check: Check, outputs: readonly (ProbeOutput | undefined)[]): Evaluation {
  if (check.type === 'manual')
    return { result: 'notchecked', observed: 'manual review', expected: check.procedure };
  const [output, second] = outputs;
  if (!output) return { result: 'error', observed: 'the probe did not run', expected: '' };
  switch (check.type) {
    case 'sysctl': {
      const expected = `${check.key} = ${check.value}`;
      if (output.rc !== 0) return { result: 'error', observed: `${check.key} is not readable`, expected };
      const value = output.out.trim().split(/\s+/).join(' ');
      return result(value === check.value, `${check.key} = ${value}`, expected);
    }
    case 'file-mode': {
      const expected = `${check.path} mode ${check.mode} or stricter, owner ${check.owner}, group ${check.group.join(' or ')}`;
      if (output.rc === MISSING) {
        return result(check.whenMissing === 'pass', `${check.path} does not exist`, expected);
      }
      if (output.rc !== 0) return { result: 'error', observed: `${check.path} could not be read`, expected };
      const [mode = '', owner = '', group = ''] = output.out.trim().split(' ');
      const ok = modeWithin(mode, check.mode) && owner === check.owner && check.group.includes(group);
      return result(
        ok,
        `${check.path} mode 0${mode.padStart(3, '0')} owner ${owner} group ${group}`,
        expected,
      );
    }
    case 'file-content': {
      const expected = `${check.path} ${check.expect === 'match' ? 'has' : 'has no'} a line matching /${check.pattern}/`;
      if (output.rc === MISSING) {
        return result(check.whenMissing === 'pass', `${check.path} does not exist`, expected);
      }
      if (output.rc !== 0) return { result: 'error', observed: `${check.path} could not be read`, expected };
      const line = firstMatchLine(output.out, check.pattern);
      const observed = line > 0 ? `line ${line} matches` : 'no line matches';
      return result(check.expect === 'match' ? line > 0 : line === 0, observed, expected);
    }
    case 'sshd-option':
      return evaluateSshd(check, output);
    case 'nginx-directive': {
      const expected = `nginx -T ${check.expect === 'match' ? 'has' : 'has no'} a line matching /${check.pattern}/`;
      if (output.rc === NOT_FOUND)
        return { result: 'notapplicable', observed: 'nginx is not installed', expected };
      if (output.rc !== 0)
        return { result: 'error', observed: `nginx -T failed (exit ${output.rc})`, expected };
      const line = firstMatchLine(output.out, check.pattern);
      const observed = line > 0 ? `line ${line} of nginx -T matches` : 'no line matches';
      return result(check.expect === 'match' ? line > 0 : line === 0, observed, expected);
    }
    case 'package': {
      const expected = `package ${check.name} ${check.state}`;
      if (output.rc === NOT_FOUND)
        return { result: 'error', observed: 'dpkg-query is not available', expected };
      const installed = output.rc === 0 && /\binstall ok installed\b/.test(output.out);
      return result(
        installed === (check.state === 'installed'),
        `package ${check.name} ${installed ? 'installed' : 'absent'}`,
        expected,
      );
    }
    case 'service': {
      const expected = `${check.name} ${check.state}`;
      if (output.rc === NOT_FOUND)
        return { result: 'error', observed: 'systemctl is not available', expected };
      const state = output.out.trim().split('\n')[0]?.trim() || 'not-found';
      const ok = check.state === 'enabled' ? ENABLED.has(state) : DISABLED.has(state);
      return result(ok, `${check.name} ${state}`, expected);
    }
    case 'mount': {
      const expected = check.option
        ? `${check.path} mounted with ${check.option}`
        : `${check.path} is a separate mount`;
      if (output.rc !== 0) return { result: 'error', observed: 'the mount table is not readable', expected };
      const options = mountOptions(output.out, check.path);
      if (!options) return result(false, `${check.path} is not a separate mount`, expected);
      if (!check.option) return result(true, `${check.path} is a separate mount`, expected);
      const has = options.includes(check.option);
      return result(has, `${check.path} mounted ${has ? 'with' : 'without'} ${check.option}`, expected);
    }
    case 'kernel-module':
      return evaluateKernelModule(check.name, output, second);
    case 'command': {
      const expected =
        check.expect === 'empty'
          ? 'no output'
          : `output ${check.expect === 'match' ? 'matches' : 'does not match'} /${check.pattern ?? ''}/`;
      if (output.rc === NOT_FOUND)
        return { result: 'error', observed: `${check.argv[0] ?? ''} is not available`, expected };
      const out = output.out.trim();
      if (check.expect === 'empty')
        return result(
          out === '',
          out === '' ? 'no output' : `${out.split('\n').length} line(s) of output`,
          expected,
        );
      const line = firstMatchLine(out, check.pattern ?? '');
      return result(
        check.expect === 'match' ? line > 0 : line === 0,
        line > 0 ? `line ${line} matches` : 'no line matches',
        expected,
      );
    }
  }
}
