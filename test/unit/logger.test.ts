import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), text: () => lines.join('') };
}

describe('logger', () => {
  it('redacts secrets wherever they nest, and keeps the rest', () => {
    const { logger, text } = capture();
    logger.info(
      {
        password: 'pw-top-secret',
        token: 'gth_token-secret',
        asset: { name: 'acme-db', adminCredential: { username: 'gatehouse', password: 'pw-nested' } },
        body: { item: { secret: 'deep-secret' } },
        req: { headers: { authorization: 'Bearer gth_header-secret', cookie: 'session=cookie-secret' } },
      },
      'something happened',
    );
    const out = text();
    for (const secret of [
      'pw-top-secret',
      'gth_token-secret',
      'pw-nested',
      'deep-secret',
      'gth_header-secret',
      'cookie-secret',
    ]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('acme-db');
    expect(out).toContain('something happened');
    expect(out).toContain('[redacted]');
  });
});

describe('store errors', () => {
  it('are told apart from Fastify errors, which also carry a code', async () => {
    const { isStoreError } = await import('../../src/platform/db/store.js');
    expect(isStoreError({ code: '23505' })).toBe(true);
    expect(isStoreError({ code: '22P02' })).toBe(true);
    expect(isStoreError({ code: 'FST_ERR_VALIDATION' })).toBe(false);
    expect(isStoreError(new Error('plain'))).toBe(false);
  });
});
