import type { Page } from 'playwright-core';

/** The Audit page's search fields, by their labels. */
export interface AuditSearch {
  action?: string;
  actor?: string;
  targetType?: string;
  targetId?: string;
  ticket?: string;
}

const LABELS: Record<keyof AuditSearch, string> = {
  action: 'Action',
  actor: 'Actor',
  targetType: 'Target type',
  targetId: 'Target id',
  ticket: 'Ticket',
};

const API_NAMES: Record<keyof AuditSearch, string> = {
  action: 'action',
  actor: 'actorName',
  targetType: 'targetType',
  targetId: 'targetId',
  ticket: 'ticket',
};

/** One row of the Audit page's results, as the operator reads it. */
export interface AuditRow {
  event: string;
  action: string;
  actor: string;
  ticket: string;
}

/**
 * Searches the audit log in the back-office, as an operator would: opens /audit (the page's signed-in
 * operator needs audit:read), fills the given fields, presses Search and returns the first page of
 * results, newest first. For tests that check a path left its events:
 *
 *   const rows = await searchAuditPage(page, { ticket });
 *   expect(rows.map((r) => r.action)).toContain('access-request.approved');
 */
export async function searchAuditPage(page: Page, search: AuditSearch): Promise<AuditRow[]> {
  if (new URL(page.url()).pathname !== '/audit') {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
  }
  await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
  const form = page.getByRole('search', { name: 'Search the audit log' });
  await form.getByRole('button', { name: 'Clear', exact: true }).click();
  for (const [key, label] of Object.entries(LABELS) as [keyof AuditSearch, string][]) {
    await form.getByLabel(label, { exact: true }).fill(search[key] ?? '');
  }
  // the answer to this search (Clear's own search, for other filters, may answer first)
  const searched = page.waitForResponse((response) => {
    const url = new URL(response.url());
    if (url.pathname !== '/api/v1/audit/events' || !response.ok()) return false;
    return (Object.keys(LABELS) as (keyof AuditSearch)[]).every(
      (key) => (url.searchParams.get(API_NAMES[key]) ?? '') === (search[key]?.trim() ?? ''),
    );
  });
  await form.getByRole('button', { name: 'Search', exact: true }).click();
  await searched;
  // the table (or the empty state) for this search, not the previous one
  await page.locator('table.audit-table[aria-busy="false"], .empty').first().waitFor();
  const rows = page.locator('table.audit-table tbody tr');
  const found: AuditRow[] = [];
  for (const row of await rows.all()) {
    const cells = await row.locator('th, td').allTextContents();
    found.push({
      event: cells[0] ?? '',
      action: cells[2] ?? '',
      actor: cells[3] ?? '',
      ticket: cells[5] ?? '',
    });
  }
  return found;
}
