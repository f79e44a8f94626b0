import { JIRA_KEY, SERVICENOW_NUMBER } from './tracker-facts.js';

/**
 * Which refs a stored tracker routes, pure: a Jira tracker claims the issue keys of its projects
 * (`OPS` claims `OPS-42`, not `OPSX-1`), a ServiceNow tracker the numbers of its prefixes (`INC`, `CHG`).
 */
export type TrackerKind = 'jira' | 'servicenow';

/** A Jira project key: an upper-case letter, then up to 19 upper-case letters, digits or `_`. */
export const JIRA_PROJECT_KEY = /^[A-Z][A-Z0-9_]{0,19}$/;
export const SERVICENOW_PREFIXES = ['INC', 'CHG'] as const;

/** Why `key` cannot be a ref key of a `kind` tracker, or null when it can. */
export function refKeyProblem(kind: TrackerKind, key: string): string | null {
  if (kind === 'jira') {
    return JIRA_PROJECT_KEY.test(key) ? null : `'${key}' is not a Jira project key like OPS`;
  }
  return (SERVICENOW_PREFIXES as readonly string[]).includes(key)
    ? null
    : `'${key}' is not a ServiceNow prefix (INC or CHG)`;
}

/** Whether a `kind` tracker with these ref keys owns `ref`. */
export function claimsRef(kind: TrackerKind, keys: readonly string[], ref: string): boolean {
  if (kind === 'jira') {
    return JIRA_KEY.test(ref) && keys.includes(ref.slice(0, ref.lastIndexOf('-')));
  }
  return SERVICENOW_NUMBER.test(ref) && keys.includes(ref.slice(0, 3));
}
