import { describe, expect, it } from 'vitest';
import { parseTicketRef, ticketLocator } from '../../src/modules/tickets/domain/ticket-ref.js';
import {
  anyRefRoute,
  createTicketRegistry,
  projectKeyRoute,
} from '../../src/modules/tickets/ticket-registry.js';
import type {
  ClosedTicket,
  TicketClosedListener,
  TicketFacts,
  TicketTracker,
} from '../../src/modules/tickets/tickets.types.js';
import type { Tx } from '../../src/platform/db/store.js';

/** An in-memory tracker that behaves like a real one: facts by ref, closes told to its listeners. */
function fakeTracker(name: string, tickets: Record<string, Omit<TicketFacts, 'id'>>) {
  const listeners: TicketClosedListener[] = [];
  const comments: [string, string][] = [];
  const tracker: TicketTracker & { close(ref: string): Promise<void>; comments: typeof comments } = {
    name,
    comments,
    lookup: async (ref) => (tickets[ref] ? { id: ref, ...tickets[ref] } : null),
    comment: async (ref, text) => {
      comments.push([ref, text]);
    },
    onClosed: (listener) => {
      listeners.push(listener);
      return () => listeners.splice(listeners.indexOf(listener), 1);
    },
    close: async (ref) => {
      const closed: ClosedTicket = {
        id: ref,
        state: 'closed',
        assignee: tickets[ref]?.assignee ?? null,
        tracker: name,
        closedAt: new Date(0),
        closedBy: null,
      };
      for (const listener of listeners)
        await listener({} as Tx, closed, { actor: { type: 'system', id: null, name } });
    },
  };
  return tracker;
}

describe('ticket refs', () => {
  it('parses project and number; refuses lower case, leading zeros, short keys and long numbers', () => {
    expect(parseTicketRef('OPS-42')).toEqual({ project: 'OPS', number: 42 });
    expect(parseTicketRef('A1B2C3D4E5-999999999')).toEqual({ project: 'A1B2C3D4E5', number: 999_999_999 });
    for (const bad of [
      'ops-42',
      'OPS-042',
      'OPS-0',
      'O-1',
      '1OPS-1',
      'OPS-1234567890',
      'OPS42',
      'OPS-4 ',
      ' OPS-4',
    ]) {
      expect(parseTicketRef(bad), bad).toBeNull();
    }
  });

  it('tells a ref from an id, and neither from anything else', () => {
    expect(ticketLocator('OPS-1')).toEqual({ ref: 'OPS-1' });
    expect(ticketLocator('0190F5E2-7B1C-7000-8000-000000000001')).toEqual({
      id: '0190f5e2-7b1c-7000-8000-000000000001',
    });
    expect(ticketLocator('ops-1')).toBeNull();
  });
});

describe('ticket registry', () => {
  const jira = fakeTracker('jira', { 'PAY-7': { state: 'open', assignee: 'alice' } });
  const builtin = fakeTracker('builtin', { 'OPS-1': { state: 'closed', assignee: null } });
  const registry = createTicketRegistry([projectKeyRoute(jira, ['PAY', 'SEC']), anyRefRoute(builtin)]);

  it('routes a ref to the first tracker that claims it, the built-in one last', async () => {
    expect(registry.trackers()).toEqual(['jira', 'builtin']);
    expect(registry.resolve('PAY-7')?.tracker.name).toBe('jira');
    expect(registry.resolve('PAYX-7')?.tracker.name).toBe('builtin');
    expect(registry.resolve('OPS-1')?.tracker.name).toBe('builtin');
    expect(registry.resolve('not a ref')).toBeNull();
    expect(await registry.lookup('PAY-7')).toEqual({ id: 'PAY-7', state: 'open', assignee: 'alice' });
    expect(await registry.lookup('OPS-1')).toEqual({ id: 'OPS-1', state: 'closed', assignee: null });
    expect(await registry.lookup('SEC-9')).toBeNull();
    expect(await registry.lookup('nonsense')).toBeNull();
  });

  it('comments through the owning tracker', async () => {
    await registry.comment('PAY-7', 'access granted');
    await registry.comment('nonsense', 'goes nowhere');
    expect(jira.comments).toEqual([['PAY-7', 'access granted']]);
  });

  it('tells one listener about closes from every tracker, until unsubscribed', async () => {
    const heard: string[] = [];
    const unsubscribe = registry.onClosed(async (_tx, ticket) => {
      heard.push(`${ticket.tracker}:${ticket.id}`);
    });
    await jira.close('PAY-7');
    await builtin.close('OPS-1');
    unsubscribe();
    await jira.close('PAY-7');
    expect(heard).toEqual(['jira:PAY-7', 'builtin:OPS-1']);
  });

  it('refuses two trackers with one name', () => {
    expect(() =>
      createTicketRegistry([
        anyRefRoute(fakeTracker('builtin', {})),
        anyRefRoute(fakeTracker('builtin', {})),
      ]),
    ).toThrow(/share a name/);
  });
});
