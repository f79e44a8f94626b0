import type { ExecResult, Transport } from '../../src/adapters/transports/types.js';
import { NftModel } from './nft-model.js';

/**
 * A host's nft as a Transport over the in-memory NftModel: `list table`, `list ruleset`,
 * `-c -f -` (check) and `-f -` (apply, all or nothing). `failNext` makes the next apply fail, the way
 * an unreachable host or a refused transaction would.
 */
export class FakeNftHost implements Transport {
  readonly kind = 'fake-nft';
  readonly model = new NftModel();
  failApplies = 0;
  calls: string[] = [];

  async exec(argv: readonly string[], stdin?: string): Promise<ExecResult> {
    const line = argv.join(' ');
    this.calls.push(line);
    await Promise.resolve();
    try {
      if (line === 'nft -j list table inet gatehouse')
        return ok(JSON.stringify(this.model.list('inet', 'gatehouse')));
      if (line === 'nft -j list ruleset') return ok(JSON.stringify(this.model.listRuleset()));
      if (line === 'sh -c cat | nft -c -j -f -') {
        const trial = this.model.clone();
        trial.apply(JSON.parse(stdin ?? '') as { nftables: Record<string, unknown>[] });
        return ok('');
      }
      if (line === 'sh -c cat | nft -j -f -') {
        if (this.failApplies > 0) {
          this.failApplies--;
          return { code: 1, stdout: '', stderr: 'Error: Could not process rule: Connection timed out' };
        }
        this.model.apply(JSON.parse(stdin ?? '') as { nftables: Record<string, unknown>[] });
        return ok('');
      }
      return { code: 1, stdout: '', stderr: `unsupported: ${line}` };
    } catch (error) {
      return { code: 1, stdout: '', stderr: `Error: ${(error as Error).message}` };
    }
  }
}

const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: '' });
