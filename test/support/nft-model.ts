/**
 * A stand-in for nft that applies libnftables JSON commands to an in-memory ruleset and lists the
 * table the way nft 1.0 does (a /32 or /128 prefix printed as a bare address, the icmpv6 type match
 * without the l4proto match it implies). Unit tests use it for compile → apply → observe; the
 * enforcer's integration test checks the same round trip against the real nft.
 */
type Json = Record<string, unknown>;

interface TableState {
  sets: Json[];
  chains: Json[];
  rules: Json[];
}

export class NftModel {
  private tables = new Map<string, TableState>();

  apply(doc: { nftables: Json[] }): void {
    const next = new Map([...this.tables].map(([k, v]) => [k, structuredClone(v)]));
    for (const command of doc.nftables) {
      const [verb, body] = Object.entries(command)[0] as [string, Json];
      const [kind, object] = Object.entries(body)[0] as [string, Json];
      const tableKey = `${String(object.family)} ${String(kind === 'table' ? object.name : object.table)}`;
      if (kind === 'table') {
        if (verb === 'add' && !next.has(tableKey)) next.set(tableKey, { sets: [], chains: [], rules: [] });
        if (verb === 'delete') {
          if (!next.has(tableKey)) throw new Error(`No such file or directory: table ${tableKey}`);
          next.delete(tableKey);
        }
        continue;
      }
      const table = next.get(tableKey);
      if (!table) throw new Error(`No such file or directory: table ${tableKey}`);
      if (kind === 'set') table.sets.push(object);
      else if (kind === 'chain') table.chains.push(object);
      else if (kind === 'rule') table.rules.push(object);
      else throw new Error(`unsupported ${kind}`);
    }
    this.tables = next;
  }

  clone(): NftModel {
    const copy = new NftModel();
    copy.tables = new Map([...this.tables].map(([k, v]) => [k, structuredClone(v)]));
    return copy;
  }

  /** A table of another owner (the OS, a container runtime, hand-made rules before Gatehouse). */
  addTable(family: string, name: string, chain: Json, rules: Json[][]): void {
    this.tables.set(`${family} ${name}`, {
      sets: [],
      chains: [{ family, table: name, ...chain }],
      rules: rules.map((expr) => ({ family, table: name, chain: chain.name, expr })),
    });
  }

  listRuleset(): { nftables: Json[] } {
    const all: Json[] = [{ metainfo: { version: '1.0.6', json_schema_version: 1 } }];
    for (const key of this.tables.keys()) {
      const [family = '', name = ''] = key.split(' ');
      all.push(...this.list(family, name).nftables.slice(1));
    }
    return { nftables: all };
  }

  /** Adds one rule as a person would with `nft add rule` (drift). */
  addRule(family: string, table: string, rule: Json): void {
    this.tables.get(`${family} ${table}`)?.rules.push({ family, table, ...rule });
  }

  list(family: string, name: string): { nftables: Json[] } {
    const table = this.tables.get(`${family} ${name}`);
    if (!table) throw new Error(`No such file or directory: table ${family} ${name}`);
    const printElem = (e: unknown): unknown => {
      const prefix = (e as { prefix?: { addr: string; len: number } }).prefix;
      if (prefix && prefix.len === (prefix.addr.includes(':') ? 128 : 32)) return prefix.addr;
      return e;
    };
    const printExpr = (expr: Json[]): Json[] => {
      const icmpv6 = expr.some((e) => JSON.stringify(e).includes('"icmpv6"'));
      return expr
        .filter((e) => !(icmpv6 && JSON.stringify(e).includes('"l4proto"')))
        .map((e) => {
          const m = (e as { match?: Json }).match;
          return m ? { match: { ...m, right: printElem(m.right) } } : e;
        });
    };
    return {
      nftables: [
        { metainfo: { version: '1.0.6', json_schema_version: 1 } },
        { table: { family, name, handle: 1 } },
        ...table.sets.map((s) => ({
          set: { ...s, ...(Array.isArray(s.elem) ? { elem: s.elem.map(printElem) } : {}) },
        })),
        ...table.chains.map((c) => ({ chain: c })),
        ...table.rules.map((r) => ({ rule: { ...r, expr: printExpr(r.expr as Json[]) } })),
      ],
    };
  }
}
