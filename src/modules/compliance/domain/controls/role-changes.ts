import { controlActions, testCriteria } from '../control-actions.js';
import {
  detail,
  detailString,
  iso,
  result,
  within,
  type ControlException,
  type ControlTestResult,
  type EvidenceEvent,
  type Period,
} from './types.js';

const actions = controlActions['role-changes'];

const rolesIn = (value: unknown): string[] | null =>
  Array.isArray(value) && value.every((r) => typeof r === 'string') ? [...value].sort() : null;

/**
 * CC6.3 over every role set or changed in the period: made by someone who held `admin` at that moment
 * (replayed from the log since its start), never by the operator on themself. The first administrator
 * of a new store is created by the system's bootstrap and is the one change a system actor may make.
 */
export function testRoleChanges(events: readonly EvidenceEvent[], period: Period): ControlTestResult {
  const roles = new Map<string, string[]>();
  const population = [];
  const exceptions: ControlException[] = [];
  for (const event of events) {
    if (event.occurredAt > period.to || event.targetId === null) continue;
    if (!(actions.roleChanges as readonly string[]).includes(event.action)) continue;
    const created = event.action === 'operator.created';
    const to = created ? rolesIn(detail(event, 'roles')) : rolesIn(detail(event, 'changes', 'roles', 'to'));
    if (to === null) continue;
    const from = created
      ? []
      : (rolesIn(detail(event, 'changes', 'roles', 'from')) ?? roles.get(event.targetId) ?? []);
    const actorWasAdmin = event.actorId !== null && (roles.get(event.actorId) ?? []).includes('admin');
    roles.set(event.targetId, to);
    if (!within(event.occurredAt, period)) continue;
    const username = detailString(event, 'username') ?? event.targetId;
    const subject = `operator ${username} (event ${event.seq})`;
    const bootstrap = event.actorType === 'system' && event.actorName === 'bootstrap' && created;
    if (event.actorId !== null && event.actorId === event.targetId) {
      exceptions.push({
        subject,
        rule: 'self-granted',
        message: `${event.actorName} changed their own roles`,
      });
    } else if (!actorWasAdmin && !bootstrap) {
      exceptions.push({
        subject,
        rule: 'not-by-admin',
        message: `${event.actorName} did not hold admin when setting roles ${to.join(', ')}`,
      });
    }
    population.push({
      event: event.seq,
      at: iso(event.occurredAt),
      operator: username,
      by: event.actorName,
      from: from.join(' '),
      to: to.join(' '),
    });
  }
  return result('role-changes', testCriteria['role-changes'], period, population, exceptions);
}
