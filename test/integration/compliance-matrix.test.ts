import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { backends } from '../support/stores.js';

const TABLES = [
  'compliance_cells',
  'compliance_areas',
  'compliance_gaps',
  'compliance_stories',
  'compliance_controls',
  'compliance_threat_models',
  'audit_events',
] as const;

const DEFAULT_AREAS = [
  'architecture',
  'auditing',
  'authentication-and-authorization',
  'business-continuity-plan',
  'change-management',
  'disaster-recovery',
  'hardening',
  'human-resources',
  'monitoring-and-operation',
  'user-privacy',
];

describe.each(backends)('compliance matrix on %s', (backend) => {
  let t: TestApp;
  let officer: string;
  let auditor: string;
  let requester: string;

  /** A fingerprint of the compliance tables and the audit log: equal fingerprints, nothing changed. */
  async function fingerprint(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const table of TABLES) {
      const { rows } = await sql<{ n: number; digest: string }>`
        SELECT count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS digest
        FROM ${sql.table(table)} x`.execute(t.gh.store.db);
      out[table] = `${rows[0]!.n}:${rows[0]!.digest}`;
    }
    return out;
  }

  async function ok(method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, body?: unknown, token = officer) {
    const res = await t.call(method, url, { token, ...(body !== undefined ? { body } : {}) });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res;
  }

  beforeAll(async () => {
    t = await createTestApp(backend);
    officer = await t.operatorToken('sofia', ['security-officer']);
    auditor = await t.operatorToken('audrey', ['auditor']);
    requester = await t.operatorToken('rick', []);
  });
  afterAll(() => t.close());

  it('serves the catalog and ships the ten default areas of concern', async () => {
    const catalog = (await ok('GET', '/api/v1/compliance/catalog', undefined, auditor)).json<{
      criteria: { id: string }[];
      components: { id: string }[];
    }>();
    expect(catalog.criteria).toHaveLength(33 + 28);
    expect(catalog.components.map((c) => c.id)).toEqual([
      'infrastructure',
      'software',
      'people',
      'procedures',
      'data',
    ]);
    const areas = (await ok('GET', '/api/v1/compliance/areas', undefined, auditor)).json<{ key: string }[]>();
    expect(areas.map((a) => a.key)).toEqual(DEFAULT_AREAS);
  });

  it('lets auditors read but not change, and requesters neither', async () => {
    const body = { applicable: true, status: 'met', notes: '' };
    expect(
      (await t.call('PUT', '/api/v1/compliance/cells/CC6.1/data', { token: auditor, body })).statusCode,
    ).toBe(403);
    expect((await t.call('GET', '/api/v1/compliance/matrix', { token: requester })).statusCode).toBe(403);
    expect((await t.call('GET', '/api/v1/compliance/matrix', { token: null })).statusCode).toBe(401);
  });

  it('assesses a cell and records who changed what in the audit log', async () => {
    const cell = (
      await ok('PUT', '/api/v1/compliance/cells/CC6.1/infrastructure', {
        applicable: true,
        status: 'partially-met',
        notes: 'jumpboxes only; no MFA on the console yet',
      })
    ).json<{ status: string }>();
    expect(cell.status).toBe('partially-met');
    const events = (
      await ok('GET', '/api/v1/audit/events?action=compliance.cell-updated', undefined, auditor)
    ).json<{ items: { actorName: string; targetId: string; details: { to: { status: string } } }[] }>();
    expect(events.items[0]).toMatchObject({
      actorName: 'sofia',
      targetId: 'CC6.1/infrastructure',
      details: { to: { status: 'partially-met' } },
    });
  });

  it('refuses bad input with a 400 or 409 and changes nothing', async () => {
    const before = await fingerprint();
    const gap = { criterion: 'CC6.1', component: 'people', area: 'no-such-area', title: 'x' };
    const bad = [
      await t.call('PUT', '/api/v1/compliance/gaps/g-1', { token: officer, body: gap }),
      await t.call('PUT', '/api/v1/compliance/gaps/g-1', {
        token: officer,
        body: { ...gap, area: 'auditing', criterion: 'CC9.9' },
      }),
      await t.call('PUT', '/api/v1/compliance/gaps/Bad_Key', {
        token: officer,
        body: { ...gap, area: 'auditing' },
      }),
      await t.call('PUT', '/api/v1/compliance/cells/CC0.1/data', {
        token: officer,
        body: { applicable: true, status: 'met' },
      }),
      await t.call('PUT', '/api/v1/compliance/stories/s-1', {
        token: officer,
        body: { title: 's', gaps: ['missing'] },
      }),
      await t.call('PUT', '/api/v1/compliance/controls/c-1', {
        token: officer,
        body: { title: 'c', owner: 'x', frequency: 'daily', mode: 'automated', criteria: ['CC6.1'] },
      }),
    ];
    for (const res of bad) {
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed' });
    }
    expect(bad[0]!.json<{ message: string }>().message).toMatch(/no area of concern 'no-such-area'/);
    // an area still used by a gap cannot go
    await ok('PUT', '/api/v1/compliance/gaps/g-keep', { ...gap, area: 'auditing' });
    const inUse = await t.call('DELETE', '/api/v1/compliance/areas/auditing', { token: officer });
    expect(inUse.statusCode).toBe(409);
    await ok('DELETE', '/api/v1/compliance/gaps/g-keep');
    const after = await fingerprint();
    expect({ ...after, audit_events: '' }).toEqual({ ...before, audit_events: '' });
  });

  it('exports YAML that re-imports to an identical matrix, here and on a fresh server', async () => {
    await ok('PUT', '/api/v1/compliance/areas/vendor-risk', {
      title: 'Vendor risk',
      description: 'Suppliers',
    });
    await ok('PUT', '/api/v1/compliance/cells/A1.2/data', {
      applicable: false,
      status: 'not-assessed',
      notes: 'no backups held',
    });
    await ok('PUT', '/api/v1/compliance/gaps/no-dr-test', {
      criterion: 'A1.3',
      component: 'procedures',
      area: 'disaster-recovery',
      title: 'Recovery never rehearsed',
      description: 'Line one\nline two: with a colon, and "quotes"',
    });
    await ok('PUT', '/api/v1/compliance/stories/rehearse-restore', {
      title: 'Rehearse a restore each quarter',
      gaps: ['no-dr-test'],
      estimate: 5,
      priority: 'high',
      state: 'in-progress',
      ticketUrl: 'https://tracker.example.com/browse/SEC-12',
    });
    await ok('PUT', '/api/v1/compliance/controls/dr-rehearsal', {
      title: 'Restore rehearsal',
      owner: 'ops',
      frequency: 'quarterly',
      mode: 'manual',
      criteria: ['A1.3', 'CC9.1'],
    });
    const exported = (await ok('GET', '/api/v1/compliance/matrix/export', undefined, auditor)).body;
    expect(exported).toContain('format: gatehouse.compliance.matrix.v1');
    const matrix = (await ok('GET', '/api/v1/compliance/matrix')).json<unknown>();

    // the same document again is no change and writes no event
    const before = await fingerprint();
    const again = (await ok('POST', '/api/v1/compliance/matrix/import', { yaml: exported })).json<{
      changed: boolean;
    }>();
    expect(again.changed).toBe(false);
    expect(await fingerprint()).toEqual(before);

    const fresh = await createTestApp(backend);
    try {
      const imported = await fresh.call('POST', '/api/v1/compliance/matrix/import', {
        body: { yaml: exported },
      });
      expect(imported.json()).toMatchObject({
        changed: true,
        counts: { gaps: 1, stories: 1, controls: 6, areas: 11 },
      });
      expect((await fresh.call('GET', '/api/v1/compliance/matrix/export')).body).toBe(exported);
      expect((await fresh.call('GET', '/api/v1/compliance/matrix')).json()).toEqual(matrix);
      const events = (
        await fresh.call('GET', '/api/v1/audit/events?action=compliance.matrix-imported')
      ).json<{
        items: unknown[];
      }>();
      expect(events.items).toHaveLength(1);
    } finally {
      await fresh.close();
    }
  });

  it('answers malformed or invalid YAML with line-numbered problems and changes nothing', async () => {
    const exported = (await ok('GET', '/api/v1/compliance/matrix/export')).body;
    const before = await fingerprint();
    const lines = exported.split('\n');
    const areaLine = lines.findIndex((l) => l.includes('area: disaster-recovery'));
    const broken = [...lines];
    broken[areaLine] = broken[areaLine]!.replace('disaster-recovery', 'flood-planning');
    const cases: [string, RegExp][] = [
      [
        'format: gatehouse.compliance.matrix.v1\ncatalog: tsc-2017@1\ngaps:\n  - key: a\n   bad: [\n',
        /line \d+, column \d+: /,
      ],
      [
        broken.join('\n'),
        new RegExp(
          `line ${areaLine + 1}, column \\d+ \\(gaps\\.0\\.area\\): there is no area of concern 'flood-planning'`,
        ),
      ],
      [
        exported.replace('priority: high', 'priority: urgent'),
        /line \d+, column \d+ \(stories\.0\.priority\)/,
      ],
      [exported.replace('catalog: tsc-2017@1', 'catalog: tsc-2017@9'), /line 2, column 10 \(catalog\)/],
    ];
    for (const [yaml, message] of cases) {
      const res = await t.call('POST', '/api/v1/compliance/matrix/import', {
        token: officer,
        body: { yaml },
      });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json<{ message: string }>().message).toMatch(message);
    }
    expect(await fingerprint()).toEqual(before);
  });

  it('approves a threat model only once every high threat has a mitigation', async () => {
    const model = {
      feature: 'Evidence packs',
      assets: [{ id: 'audit-log', description: 'The hash-chained audit log' }],
      entryPoints: [{ id: 'api', description: 'The evidence route' }],
      threats: [
        {
          id: 'forged-pack',
          title: 'A pack is edited after export',
          category: 'tampering',
          severity: 'high',
          assets: ['audit-log'],
          entryPoints: ['api'],
        },
      ],
    };
    await ok('PUT', '/api/v1/compliance/threat-models/evidence-packs', { title: 'Evidence packs', model });
    const refused = await t.call('POST', '/api/v1/compliance/threat-models/evidence-packs/approve', {
      token: officer,
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json<{ message: string }>().message).toMatch(/forged-pack/);
    const unknownControl = await t.call('PUT', '/api/v1/compliance/threat-models/evidence-packs', {
      token: officer,
      body: {
        title: 'Evidence packs',
        model: {
          ...model,
          threats: [{ ...model.threats[0], mitigations: [{ description: 'x', control: 'nope' }] }],
        },
      },
    });
    expect(unknownControl.statusCode).toBe(400);
    const mitigated = {
      ...model,
      threats: [
        {
          ...model.threats[0],
          mitigations: [{ description: 'SHA-256 manifest and chain proof', control: 'change-records' }],
        },
      ],
    };
    await ok('PUT', '/api/v1/compliance/threat-models/evidence-packs', {
      title: 'Evidence packs',
      model: mitigated,
    });
    const approved = (await ok('POST', '/api/v1/compliance/threat-models/evidence-packs/approve')).json<{
      status: string;
      approvedBy: string;
    }>();
    expect(approved).toMatchObject({ status: 'approved', approvedBy: 'sofia' });
  });
});
