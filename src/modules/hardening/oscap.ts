import { readFileSync, writeFileSync } from 'node:fs';
import type { Transport } from '../../adapters/transports/types.js';

/**
 * OpenSCAP cross-check: Debian's `ssg-debian` ships content for Debian 10 and 11 only, and on Debian 12
 * every rule reports notapplicable because of the content's platform elements. A working copy without
 * them (and without rule prerequisites), with exactly the rules we compare selected, evaluates on Debian 12 (`oscap xccdf eval`).
 */

export const SSG_DEBIAN11 = '/usr/share/xml/scap/ssg/content/ssg-debian11-ds-1.2.xml';
const RULE_PREFIX = 'xccdf_org.ssgproject.content_rule_';

/** The datastream with platform elements removed and only the given SSG rules selected. */
export function workingDatastream(xml: string, ssgRules: readonly string[]): string {
  const wanted = new Set(ssgRules);
  return (
    xml
      .replace(/<xccdf-1\.2:platform idref="[^"]*"\/>/g, '')
      // a rule that requires another (auditd enabled requires audit installed) is skipped unless both are selected
      .replace(/<xccdf-1\.2:requires idref="[^"]*"\/>/g, '')
      .replace(
        /<xccdf-1\.2:Rule selected="(true|false)" id="xccdf_org\.ssgproject\.content_rule_([a-z0-9_]+)"/g,
        (_m, _s, id: string) =>
          `<xccdf-1.2:Rule selected="${wanted.has(id) ? 'true' : 'false'}" id="${RULE_PREFIX}${id}"`,
      )
  );
}

export function writeWorkingDatastream(
  path: string,
  ssgRules: readonly string[],
  source = SSG_DEBIAN11,
): void {
  writeFileSync(path, workingDatastream(readFileSync(source, 'utf8'), ssgRules));
}

/** SSG rule id → result, from `oscap xccdf eval`'s text output (Rule/Result lines). */
export function parseOscapOutput(stdout: string): Map<string, string> {
  const results = new Map<string, string>();
  let rule: string | undefined;
  for (const line of stdout.split('\n')) {
    const [key, value = ''] = line.split('\t').map((s) => s.trim());
    if (key === 'Rule' && value.startsWith(RULE_PREFIX)) rule = value.slice(RULE_PREFIX.length);
    else if (key === 'Result' && rule) {
      results.set(rule, value);
      rule = undefined;
    }
  }
  return results;
}

/** Runs the working datastream on a host (oscap exits 2 when a rule fails: not an error). */
export async function evaluateWithOscap(
  transport: Transport,
  datastreamPath: string,
): Promise<Map<string, string>> {
  const run = await transport.exec(['oscap', 'xccdf', 'eval', datastreamPath]);
  if (run.code !== 0 && run.code !== 2)
    throw new Error(`oscap failed (${run.code}): ${run.stderr.slice(0, 500)}`);
  return parseOscapOutput(run.stdout);
}

/** Gatehouse's result in OpenSCAP's terms: every equivalent rule must pass for ours to pass. */
export function combinedOscapResult(results: readonly (string | undefined)[]): string {
  if (results.some((r) => r === undefined)) return 'missing';
  if (results.every((r) => r === 'pass')) return 'pass';
  if (results.some((r) => r === 'fail')) return 'fail';
  return results.find((r) => r !== 'pass') ?? 'unknown';
}
