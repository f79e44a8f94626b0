import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REMOTE_HELPER } from '../../src/adapters/connectors/linux-ssh/remote-helper.js';
import {
  renderHostTable,
  type HostRule,
  type HostTable,
} from '../../src/modules/network/domain/host-layer.js';

/**
 * The guard of `gatehouse-account nft check|apply`: the helper's own jq program (taken from the helper
 * text) run by the real jq. Every table Gatehouse renders passes; a document that touches anything but
 * table inet gatehouse — alone or after a valid prefix — is refused.
 */
const filter = /^NFT_OURS='([\s\S]*?)'$/m.exec(REMOTE_HELPER)![1]!;
const run = promisify(execFile);

async function accepted(document: unknown): Promise<boolean> {
  const child = run('jq', ['-e', '-s', filter], { timeout: 10_000 });
  child.child.stdin!.end(typeof document === 'string' ? document : JSON.stringify(document));
  try {
    await child;
    return true;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'number') throw error;
    return false;
  }
}

const ruleArb: fc.Arbitrary<HostRule> = fc.record({
  family: fc.constantFrom(4 as const, 6 as const),
  protocol: fc.constantFrom('tcp' as const, 'udp' as const),
  ports: fc.option(
    fc.integer({ min: 1, max: 65000 }).map((from) => ({ from, to: from })),
    { nil: null },
  ),
  source: fc.constantFrom(
    { type: 'any' as const },
    { type: 'cidr' as const, cidr: '198.51.100.0/24' },
    { type: 'set' as const, set: 'g4_jumpboxes' },
  ),
  rules: fc.array(fc.constantFrom('system:web:ssh', 'r-1', 'r-2'), { maxLength: 2 }),
});
const tableArb: fc.Arbitrary<HostTable> = fc.record({
  sets: fc.constant([{ name: 'g4_jumpboxes', family: 4 as const, elements: ['203.0.113.10/32'] }]),
  rules: fc.array(ruleArb, { maxLength: 6 }),
});

describe('gatehouse-account nft: the document guard (real jq)', () => {
  it('accepts every table Gatehouse renders', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb, async (table) => {
        expect(await accepted(renderHostTable(table))).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('refuses anything that touches another table, family or object, even after a valid prefix', async () => {
    const ours = renderHostTable({ sets: [], rules: [] }).nftables;
    const hostile: unknown[] = [
      { flush: { ruleset: null } },
      { delete: { table: { family: 'inet', name: 'filter' } } },
      { add: { table: { family: 'ip', name: 'gatehouse' } } },
      { add: { table: { family: 'inet', name: 'gatehouse', flags: ['dormant'] } } },
      { add: { rule: { family: 'ip', table: 'gatehouse', chain: 'input', expr: [] } } },
      { add: { rule: { family: 'inet', table: 'filter', chain: 'input', expr: [{ drop: null }] } } },
      { add: { chain: { family: 'inet', table: 'nat', name: 'x' } } },
      { flush: { table: { family: 'inet', name: 'gatehouse' } } },
      { replace: { rule: { family: 'inet', table: 'gatehouse', chain: 'input', handle: 1, expr: [] } } },
      { add: { element: { family: 'inet', table: 'gatehouse', name: 'g4_x', elem: ['1.2.3.4'] } } },
      {
        add: { rule: { family: 'inet', table: 'gatehouse' } },
        delete: { table: { family: 'ip', name: 'x' } },
      },
      { metainfo: { json_schema_version: 1 } },
      'flush ruleset',
    ];
    for (const command of hostile) {
      expect(await accepted({ nftables: [...ours, command] }), JSON.stringify(command)).toBe(false);
    }
    const twoValues = `${JSON.stringify({ nftables: [{ flush: { ruleset: null } }] })} {"nftables": []}`;
    for (const document of ['flush ruleset', '{}', '{"nftables": {}}', '[]', 'null', '', twoValues]) {
      expect(await accepted(document), document).toBe(false);
    }
  });
});
