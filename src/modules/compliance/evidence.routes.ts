import { z } from 'zod';
import { principalOf } from '../../http/context.js';
import type { RoutePlugin } from '../../http/types.js';
import { periodQuery } from './compliance.schemas.js';
import type { ComplianceService } from './compliance.service.js';
import { buildReport, reportHtml, reportMarkdown } from './domain/report.js';
import type { EvidenceService } from './evidence.service.js';

const TAGS = ['compliance'];
const BASE = '/api/v1/compliance';

const periodOf = (query: { from: string; to: string }) => ({
  from: new Date(query.from),
  to: new Date(query.to),
});

const reportQuery = z
  .object({
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    format: z.enum(['json', 'markdown', 'html']).default('json'),
  })
  .strict()
  .refine((p) => Date.parse(p.from) < Date.parse(p.to), { message: 'from must be before to', path: ['to'] });

/** Automated control tests, evidence packs and reports for a period; all need compliance:read. */
export function evidenceRoutes(deps: {
  evidence: EvidenceService;
  compliance: ComplianceService;
}): RoutePlugin {
  const { evidence, compliance } = deps;
  return (app) => {
    app.get(
      `${BASE}/tests`,
      {
        config: { permission: 'compliance:read' },
        schema: {
          tags: TAGS,
          summary:
            "Run the automated control tests over the period: each one's population, result and exceptions",
          querystring: periodQuery,
        },
      },
      async (request) => evidence.run(periodOf(request.query)),
    );

    app.get(
      `${BASE}/evidence`,
      {
        config: { permission: 'compliance:read' },
        schema: {
          tags: TAGS,
          summary:
            'An evidence pack (zip) for the period: populations, results, matrix, signed manifest and audit-chain proof',
          querystring: periodQuery,
        },
      },
      async (request, reply) => {
        const { zip, summary } = await evidence.pack(periodOf(request.query), principalOf(request).username);
        return reply
          .type('application/zip')
          .header('content-disposition', 'attachment; filename="evidence-pack.zip"')
          .header('x-gatehouse-chain-proof', summary.chainProof.ok ? 'ok' : 'failed')
          .send(Buffer.from(zip));
      },
    );

    app.get(
      `${BASE}/report`,
      {
        config: { permission: 'compliance:read' },
        schema: {
          tags: TAGS,
          summary:
            'Coverage, open gaps by area and component, stories, failing controls (JSON, Markdown or HTML)',
          querystring: reportQuery,
        },
      },
      async (request, reply) => {
        const period = periodOf(request.query);
        const run = await evidence.run(period);
        const report = buildReport(compliance.catalog(), await compliance.matrix(), run.results, run.period);
        if (request.query.format === 'markdown')
          return reply.type('text/markdown; charset=utf-8').send(reportMarkdown(report));
        if (request.query.format === 'html')
          return reply.type('text/html; charset=utf-8').send(reportHtml(report));
        return report;
      },
    );
  };
}
