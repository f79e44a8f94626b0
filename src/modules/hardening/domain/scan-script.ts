import { z } from 'zod';
import type { Check } from './baseline-schema.js';

/**
 * A baseline's checks compiled to ONE read-only POSIX shell script per host, run in one round trip.
 * Checks become probes (commands that only read); probes several checks share (`sshd -T`, the mount
 * table) run once. The script prints one JSON line per probe with its exit status and its output in
 * base64, and the checks are evaluated in pure code (evaluate.ts) on what came back.
 *
 * Every argument is a value the baseline grammar allowed, and is still single-quoted as one word: the
 * script never interpolates a value into shell syntax.
 */

export interface Probe {
  /** Stable within one script: p0, p1 … */
  id: string;
  argv: readonly string[];
}

/** What a probe returned: exit status and standard output (standard error is dropped). */
export interface ProbeOutput {
  rc: number;
  out: string;
}

/** Exit status of a file probe when the file does not exist (any other failure: it could not be read). */
export const MISSING = 3;

/** Reads a file; exits MISSING when there is none, so "absent" and "unreadable" stay apart. */
export const readFileArgv = (path: string): string[] => [
  'sh',
  '-c',
  `test -e "$1" || exit ${MISSING}; exec cat -- "$1"`,
  'read-file',
  path,
];

/** Mode, owner and group of a file (following links); exits MISSING when there is none. */
export const statFileArgv = (path: string): string[] => [
  'sh',
  '-c',
  `test -e "$1" || exit ${MISSING}; exec stat -L -c '%a %U %G' -- "$1"`,
  'stat-file',
  path,
];

/** The probe (as argv) a check needs, or undefined for a manual check. */
export function probeArgv(check: Check): string[] | undefined {
  switch (check.type) {
    case 'sysctl':
      return ['cat', `/proc/sys/${check.key.replaceAll('.', '/')}`];
    case 'file-mode':
      return statFileArgv(check.path);
    case 'file-content':
      return readFileArgv(check.path);
    case 'sshd-option':
      return ['sshd', '-T'];
    case 'nginx-directive':
      return ['nginx', '-T'];
    case 'package':
      return ['dpkg-query', '-W', '-f=${Status}', check.name];
    case 'service':
      return ['systemctl', 'is-enabled', check.name];
    case 'mount':
      return ['cat', '/proc/self/mounts'];
    case 'kernel-module':
      return [
        'find',
        '/etc/modprobe.d',
        '/lib/modprobe.d',
        '/usr/lib/modprobe.d',
        '-name',
        '*.conf',
        '-exec',
        'cat',
        '{}',
        '+',
      ];
    case 'command':
      return [...check.argv];
    case 'manual':
      return undefined;
  }
}

/** The loaded-modules probe kernel-module checks need besides the modprobe configuration. */
export const LOADED_MODULES: readonly string[] = ['cat', '/proc/modules'];

const keyOf = (argv: readonly string[]) => argv.join('\u0000');

export interface ScanPlan {
  probes: Probe[];
  /** probe ids per check index: the check's own probe, then (kernel modules) the loaded-modules probe */
  probeIdsOf: (check: Check) => string[];
}

/** Deduplicated probes for a list of checks. */
export function planProbes(checks: readonly Check[]): ScanPlan {
  const byKey = new Map<string, Probe>();
  const add = (argv: readonly string[]): string => {
    const key = keyOf(argv);
    let probe = byKey.get(key);
    if (!probe) {
      probe = { id: `p${byKey.size}`, argv };
      byKey.set(key, probe);
    }
    return probe.id;
  };
  const idsOf = (check: Check): string[] => {
    const argv = probeArgv(check);
    if (!argv) return [];
    const ids = [add(argv)];
    if (check.type === 'kernel-module') ids.push(add(LOADED_MODULES));
    return ids;
  };
  for (const check of checks) idsOf(check);
  return { probes: [...byKey.values()], probeIdsOf: idsOf };
}

/** One shell word: the value inside single quotes, each ' written as '\''. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Output above this many bytes per probe is cut (a config dump is far smaller). */
export const PROBE_OUTPUT_LIMIT = 1_048_576;

/** The read-only scan script for these probes: POSIX sh, run as `sh -s` with the script on stdin. */
export function scanScript(probes: readonly Probe[]): string {
  const lines = [
    '# Gatehouse hardening scan: read-only probes, one JSON line each',
    'export LC_ALL=C',
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH',
    'probe() {',
    '  id=$1; shift',
    '  o=$("$@" 2>/dev/null; echo "~$?")',
    '  rc=${o##*~}; o=${o%~*}',
    `  b=$(printf '%s' "$o" | head -c ${PROBE_OUTPUT_LIMIT} | base64 | tr -d '\\n')`,
    `  printf '{"probe":"%s","rc":%s,"out":"%s"}\\n' "$id" "$rc" "$b"`,
    '}',
    ...probes.map((p) => `probe ${p.id} ${p.argv.map(shellQuote).join(' ')}`),
    'echo \'{"done":true}\'',
  ];
  return `${lines.join('\n')}\n`;
}

const probeLine = z.object({ probe: z.string().regex(/^p\d+$/), rc: z.number().int(), out: z.string() });

/**
 * The probes' outputs from the script's stdout. Lines that are not ours are ignored (a login banner,
 * a shell profile's noise); a script that did not reach its end is an error, never a partial result.
 */
export function parseScanOutput(stdout: string): Map<string, ProbeOutput> {
  const outputs = new Map<string, ProbeOutput>();
  let done = false;
  for (const line of stdout.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      continue;
    }
    if (typeof value === 'object' && value !== null && (value as { done?: unknown }).done === true) {
      done = true;
      continue;
    }
    const parsed = probeLine.safeParse(value);
    if (!parsed.success) continue;
    outputs.set(parsed.data.probe, {
      rc: parsed.data.rc,
      out: Buffer.from(parsed.data.out, 'base64').toString('utf8'),
    });
  }
  if (!done) throw new Error('the scan script did not finish: its output ends before the last probe');
  return outputs;
}
