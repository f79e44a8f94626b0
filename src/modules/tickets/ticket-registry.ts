import { BUILTIN_TRACKER, ticketFacts } from './domain/ticket-facts.js';
import { TICKET_REF } from './domain/ticket-ref.js';
import type { TicketService } from './tickets.service.js';
import type {
  TicketClosedListener,
  TicketRegistry,
  TicketTracker,
  TrackerRoute,
  Unsubscribe,
} from './tickets.types.js';

/** Gatehouse's own tickets as a tracker: facts from the store, closes from the ticket service. */
export function createBuiltinTracker(deps: {
  tickets: Pick<TicketService, 'find' | 'onClosed'>;
}): TicketTracker {
  return {
    name: BUILTIN_TRACKER,
    lookup: async (ref) => {
      if (!TICKET_REF.test(ref)) return null;
      const ticket = await deps.tickets.find(ref);
      return ticket ? ticketFacts(ticket) : null;
    },
    onClosed: (listener) => deps.tickets.onClosed(listener),
  };
}

/** A route for the refs of the given project keys (`['OPS', 'SEC']` claims `OPS-42`, not `OPSX-1`). */
export function projectKeyRoute(tracker: TicketTracker, projectKeys: readonly string[]): TrackerRoute {
  const keys = new Set(projectKeys);
  return {
    tracker,
    claim: (ref) => (TICKET_REF.test(ref) && keys.has(ref.slice(0, ref.lastIndexOf('-'))) ? ref : null),
  };
}

/** A route for every well-formed ref: the built-in tracker's, placed last. */
export function anyRefRoute(tracker: TicketTracker): TrackerRoute {
  return { tracker, claim: (ref) => (TICKET_REF.test(ref) ? ref : null) };
}

/**
 * Routes refs to trackers: the first route that claims a ref owns it. Today that is only the built-in
 * tracker; the integrations add Jira/ServiceNow routes (by project key or ticket URL) before it.
 */
export function createTicketRegistry(routes: readonly TrackerRoute[]): TicketRegistry {
  const trackers = routes.map((r) => r.tracker).filter((t, i, all) => all.indexOf(t) === i);
  const names = trackers.map((t) => t.name);
  if (new Set(names).size !== names.length) {
    throw new Error(`Two ticket trackers share a name: ${names.join(', ')}; give each its own`);
  }

  function resolve(ref: string) {
    for (const route of routes) {
      const claimed = route.claim(ref);
      if (claimed !== null) return { tracker: route.tracker, ref: claimed };
    }
    return null;
  }

  return {
    resolve,
    lookup: async (ref) => {
      const owner = resolve(ref);
      if (!owner) return null;
      const facts = await owner.tracker.lookup(owner.ref);
      return facts && { ...facts, id: owner.ref };
    },
    comment: async (ref, text) => {
      const owner = resolve(ref);
      if (owner?.tracker.comment) await owner.tracker.comment(owner.ref, text);
    },
    onClosed: (listener: TicketClosedListener): Unsubscribe => {
      const unsubscribes = trackers.flatMap((t) => (t.onClosed ? [t.onClosed(listener)] : []));
      return () => unsubscribes.forEach((unsubscribe) => unsubscribe());
    },
    trackers: () => names,
  };
}
