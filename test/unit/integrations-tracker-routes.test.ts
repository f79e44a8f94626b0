import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { claimsRef, refKeyProblem } from '../../src/modules/integrations/domain/tracker-routes.js';

const projectKey = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,19}$/);

describe('stored tracker routes', () => {
  it('accepts Jira project keys and ServiceNow prefixes, and says why anything else is refused', () => {
    expect(refKeyProblem('jira', 'OPS')).toBeNull();
    expect(refKeyProblem('jira', 'A_1')).toBeNull();
    for (const bad of ['ops', '1OPS', '', 'OPS-1', 'O PS', 'OPS;', 'A'.repeat(21)]) {
      expect(refKeyProblem('jira', bad)).toMatch(/is not a Jira project key/);
    }
    expect(refKeyProblem('servicenow', 'INC')).toBeNull();
    expect(refKeyProblem('servicenow', 'CHG')).toBeNull();
    for (const bad of ['PRB', 'inc', 'INC0010001', '']) {
      expect(refKeyProblem('servicenow', bad)).toMatch(/is not a ServiceNow prefix/);
    }
  });

  it('a Jira tracker claims exactly the issues of its projects', () => {
    expect(claimsRef('jira', ['OPS'], 'OPS-42')).toBe(true);
    expect(claimsRef('jira', ['OPS'], 'OPSX-42')).toBe(false);
    expect(claimsRef('jira', ['OPS'], 'OPS-0')).toBe(false);
    expect(claimsRef('jira', ['OPS'], 'ops-42')).toBe(false);
    fc.assert(
      fc.property(
        fc.array(projectKey, { minLength: 1, maxLength: 5 }),
        projectKey,
        fc.integer({ min: 1, max: 1e9 }),
        (keys, key, n) => {
          expect(claimsRef('jira', keys, `${key}-${n}`)).toBe(keys.includes(key));
        },
      ),
    );
  });

  it('a ServiceNow tracker claims the numbers of its prefixes only', () => {
    expect(claimsRef('servicenow', ['INC', 'CHG'], 'INC0010001')).toBe(true);
    expect(claimsRef('servicenow', ['INC'], 'CHG0030001')).toBe(false);
    expect(claimsRef('servicenow', ['INC'], 'INC-1')).toBe(false);
    fc.assert(
      fc.property(fc.string(), (ref) => {
        if (claimsRef('servicenow', ['INC', 'CHG'], ref)) expect(ref).toMatch(/^(INC|CHG)[0-9]{7,10}$/);
      }),
    );
  });
});
