import type { TicketFacts } from '../../access/domain/policy.js';

/**
 * What Jira and ServiceNow answers mean for access, pure: whether a ticket is closed, who it is
 * assigned to, which ServiceNow table a number belongs to, and the comment bodies each API wants.
 */

/** A Jira issue key: project key, dash, number (`OPS-42`). */
export const JIRA_KEY = /^[A-Z][A-Z0-9_]{0,19}-[1-9][0-9]{0,9}$/;
/** A ServiceNow task number: INC0010001 (incident) or CHG0030001 (change request). */
export const SERVICENOW_NUMBER = /^(INC|CHG)[0-9]{7,10}$/;

export interface JiraIssue {
  key?: string;
  fields?: {
    status?: { name?: string; statusCategory?: { key?: string } };
    assignee?: { name?: string; emailAddress?: string; accountId?: string } | null;
  };
}

/** Closed when the status category is `done` (Jira's own notion, whatever the workflow calls it). */
export function jiraFacts(ref: string, issue: JiraIssue): TicketFacts {
  const category = issue.fields?.status?.statusCategory?.key;
  const assignee = issue.fields?.assignee;
  return {
    id: ref,
    state: category === 'done' ? 'closed' : 'open',
    assignee: assignee
      ? (assignee.name ?? assignee.emailAddress?.split('@')[0] ?? assignee.accountId ?? null)
      : null,
  };
}

/** Jira REST v2 takes a plain string; v3 an Atlassian Document Format document. */
export function jiraCommentBody(version: 2 | 3, text: string): Record<string, unknown> {
  if (version === 2) return { body: text };
  return {
    body: {
      type: 'doc',
      version: 1,
      content: [{ type: 'paragraph', content: [{ type: 'text', text }] }],
    },
  };
}

export type ServiceNowTable = 'incident' | 'change_request';

export function serviceNowTable(number: string): ServiceNowTable | null {
  if (!SERVICENOW_NUMBER.test(number)) return null;
  return number.startsWith('INC') ? 'incident' : 'change_request';
}

/** Incident states 6 Resolved, 7 Closed, 8 Canceled; change states 3 Closed, 4 Canceled. */
const closedStates: Record<ServiceNowTable, ReadonlySet<string>> = {
  incident: new Set(['6', '7', '8']),
  change_request: new Set(['3', '4']),
};

export interface ServiceNowRecord {
  sys_id?: string;
  number?: string;
  state?: string;
  active?: string;
  'assigned_to.user_name'?: string;
}

export function serviceNowFacts(ref: string, table: ServiceNowTable, record: ServiceNowRecord): TicketFacts {
  const closed = record.active === 'false' || closedStates[table].has(String(record.state ?? ''));
  const assignee = record['assigned_to.user_name'];
  return { id: ref, state: closed ? 'closed' : 'open', assignee: assignee ? assignee : null };
}
