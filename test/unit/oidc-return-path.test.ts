import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localPath } from '../../src/modules/identity/oidc.service.js';

describe('where the browser returns after signing in with the identity provider', () => {
  it('keeps a path of this site', () => {
    for (const path of ['/', '/approvals', '/access/123?tab=grants', '/audit?action=auth.%2A#top']) {
      expect(localPath(path)).toBe(path);
    }
  });

  it('refuses anything that could leave the site or smuggle characters', () => {
    for (const path of [
      undefined,
      '',
      'approvals',
      '//evil.example/',
      '/\\evil.example',
      '/\\/evil.example',
      'https://evil.example/',
      'javascript:alert(1)',
      '/a b',
      '/line\nbreak',
      `/${'a'.repeat(200)}`,
    ]) {
      expect(localPath(path), JSON.stringify(path)).toBeUndefined();
    }
  });

  it('never returns a value a browser would resolve to another origin', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        const path = localPath(text);
        if (path === undefined) return;
        expect(new URL(path, 'https://gatehouse.example').origin).toBe('https://gatehouse.example');
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.constantFrom('/', '//', '/\\', '\\'), fc.string({ maxLength: 20 }), (head, tail) => {
        const path = localPath(head + tail);
        if (path !== undefined) {
          expect(new URL(path, 'https://gatehouse.example').origin).toBe('https://gatehouse.example');
        }
      }),
    );
  });
});
