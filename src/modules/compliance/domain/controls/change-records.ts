import { controlActions, testCriteria } from '../control-actions.js';
import {
  detailString,
  iso,
  result,
  within,
  type ControlException,
  type ControlTestResult,
  type EvidenceEvent,
  type Period,
} from './types.js';

const actions = controlActions['change-records'];

/** CC8.1: every system rule or baseline change in the period names its author and a different reviewer. */
export function testChangeRecords(events: readonly EvidenceEvent[], period: Period): ControlTestResult {
  const population = [];
  const exceptions: ControlException[] = [];
  for (const event of events) {
    if (!within(event.occurredAt, period) || !(actions.changes as readonly string[]).includes(event.action))
      continue;
    const author = detailString(event, 'author');
    const reviewer = detailString(event, 'reviewer');
    const subject = `${event.action} ${event.targetId ?? ''} (event ${event.seq})`.replace('  ', ' ');
    if (!author)
      exceptions.push({ subject, rule: 'no-author', message: 'the change does not name its author' });
    if (!reviewer)
      exceptions.push({ subject, rule: 'no-reviewer', message: 'the change does not name a reviewer' });
    else if (author === reviewer) {
      exceptions.push({ subject, rule: 'self-reviewed', message: `${author} reviewed their own change` });
    }
    population.push({
      event: event.seq,
      at: iso(event.occurredAt),
      action: event.action,
      target: event.targetId,
      version: detailString(event, 'version'),
      author,
      reviewer,
      recordedBy: event.actorName,
    });
  }
  return result('change-records', testCriteria['change-records'], period, population, exceptions);
}
