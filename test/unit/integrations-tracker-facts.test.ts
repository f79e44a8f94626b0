import { describe, expect, it } from 'vitest';
import {
  jiraCommentBody,
  jiraFacts,
  serviceNowFacts,
  serviceNowTable,
} from '../../src/modules/integrations/domain/tracker-facts.js';

describe('Jira issue facts', () => {
  it('is closed exactly when the status category is done, whatever the status is called', () => {
    for (const [key, state] of [
      ['new', 'open'],
      ['indeterminate', 'open'],
      ['done', 'closed'],
      [undefined, 'open'],
    ] as const) {
      expect(
        jiraFacts('OPS-1', { fields: { status: { name: 'Whatever', statusCategory: { key } } } }).state,
      ).toBe(state);
    }
  });

  it('names the assignee by user name (Server), else email local part, else account id (Cloud)', () => {
    const facts = (assignee: Record<string, string> | null) =>
      jiraFacts('OPS-1', { fields: { assignee } }).assignee;
    expect(facts({ name: 'dana', emailAddress: 'x@example.com' })).toBe('dana');
    expect(facts({ emailAddress: 'dana@example.com', accountId: 'abc' })).toBe('dana');
    expect(facts({ accountId: '5b10a2844c20165700ede21g' })).toBe('5b10a2844c20165700ede21g');
    expect(facts(null)).toBeNull();
  });

  it('writes comments as a string for v2 and as an ADF document for v3', () => {
    expect(jiraCommentBody(2, 'hi')).toEqual({ body: 'hi' });
    expect(jiraCommentBody(3, 'hi')).toEqual({
      body: {
        type: 'doc',
        version: 1,
        content: [{ type: 'paragraph', content: [{ type: 'text', text: 'hi' }] }],
      },
    });
  });
});

describe('ServiceNow record facts', () => {
  it('maps numbers to their table and refuses anything else', () => {
    expect(serviceNowTable('INC0010001')).toBe('incident');
    expect(serviceNowTable('CHG0030001')).toBe('change_request');
    for (const bad of ['PRB0000001', 'INC001', 'inc0010001', "INC0010001' OR 1=1"])
      expect(serviceNowTable(bad)).toBeNull();
  });

  it('is closed when inactive or in a closing state of its table', () => {
    const state = (table: 'incident' | 'change_request', s: string, active = 'true') =>
      serviceNowFacts('X', table, { state: s, active }).state;
    expect(['1', '2', '3', '6', '7', '8'].map((s) => state('incident', s))).toEqual([
      'open',
      'open',
      'open',
      'closed',
      'closed',
      'closed',
    ]);
    expect(['-5', '-1', '0', '3', '4'].map((s) => state('change_request', s))).toEqual([
      'open',
      'open',
      'open',
      'closed',
      'closed',
    ]);
    expect(state('incident', '2', 'false')).toBe('closed');
    expect(serviceNowFacts('X', 'incident', { 'assigned_to.user_name': '' }).assignee).toBeNull();
  });
});
