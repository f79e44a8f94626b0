import { describe, expect, it } from 'vitest';
import {
  combinedOscapResult,
  parseOscapOutput,
  workingDatastream,
} from '../../src/modules/hardening/oscap.js';

describe('the OpenSCAP working copy', () => {
  it('removes platforms and prerequisites and selects exactly the compared rules', () => {
    const xml = [
      '<xccdf-1.2:Rule selected="false" id="xccdf_org.ssgproject.content_rule_a" severity="low">',
      '<xccdf-1.2:platform idref="#machine"/><xccdf-1.2:requires idref="xccdf_org.ssgproject.content_rule_c"/>',
      '<xccdf-1.2:Rule selected="true" id="xccdf_org.ssgproject.content_rule_b">',
    ].join('\n');
    const copy = workingDatastream(xml, ['a']);
    expect(copy).toContain('<xccdf-1.2:Rule selected="true" id="xccdf_org.ssgproject.content_rule_a"');
    expect(copy).toContain('<xccdf-1.2:Rule selected="false" id="xccdf_org.ssgproject.content_rule_b"');
    expect(copy).not.toContain('platform');
    expect(copy).not.toContain('requires');
  });

  it("reads oscap's Rule/Result lines, and combines several equivalents into one result", () => {
    const out =
      'Title\tX\nRule\txccdf_org.ssgproject.content_rule_a\nIdent\tCCE-1\nResult\tpass\n\nRule\txccdf_org.ssgproject.content_rule_b\nResult\tfail\n';
    expect(parseOscapOutput(out)).toEqual(
      new Map([
        ['a', 'pass'],
        ['b', 'fail'],
      ]),
    );
    expect(combinedOscapResult(['pass', 'pass'])).toBe('pass');
    expect(combinedOscapResult(['pass', 'fail'])).toBe('fail');
    expect(combinedOscapResult(['pass', undefined])).toBe('missing');
    expect(combinedOscapResult(['notapplicable'])).toBe('notapplicable');
  });
});
