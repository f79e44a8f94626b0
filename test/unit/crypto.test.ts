import { mkdtempSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createSecretBox,
  createSigner,
  generateToken,
  hashToken,
  loadMasterKey,
  verifySignature,
} from '../../src/platform/crypto.js';

describe('secret box (AES-256-GCM)', () => {
  const box = createSecretBox(randomBytes(32));

  it('round-trips any text, and never stores it in the clear', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), (secret, context) => {
        const sealed = box.seal(secret, context);
        expect(box.open(sealed, context)).toBe(secret);
        if (secret.length >= 4) expect(sealed).not.toContain(secret);
      }),
    );
  });

  it('refuses a ciphertext moved to another record, altered, or under another key', () => {
    const sealed = box.seal('hunter2', 'asset:a:admin');
    expect(() => box.open(sealed, 'asset:b:admin')).toThrow(/altered or belongs to another record/);
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    expect(() =>
      box.open([...parts.slice(0, 3), body.toString('base64url')].join('.'), 'asset:a:admin'),
    ).toThrow();
    expect(() => createSecretBox(randomBytes(32)).open(sealed, 'asset:a:admin')).toThrow(
      /not the current master key/,
    );
  });

  it('uses a fresh nonce each time', () => {
    expect(box.seal('same', 'c')).not.toBe(box.seal('same', 'c'));
  });
});

describe('master key', () => {
  it('is generated with mode 0600 on first embedded use, then reused', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-key-'));
    const file = path.join(dir, 'data', 'master.key');
    const first = loadMasterKey({ generateAt: file });
    expect(first.generatedAt).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = loadMasterKey({ generateAt: file });
    expect(second.generatedAt).toBeUndefined();
    expect(second.key.equals(first.key)).toBe(true);
  });

  it('refuses a key file others can read, a wrong-sized key, or no key at all', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-key-'));
    const file = path.join(dir, 'master.key');
    writeFileSync(file, randomBytes(32).toString('base64'));
    chmodSync(file, 0o644);
    expect(() => loadMasterKey({ masterKeyFile: file })).toThrow(/chmod 600/);
    chmodSync(file, 0o600);
    expect(loadMasterKey({ masterKeyFile: file }).key).toHaveLength(32);
    expect(() => loadMasterKey({ masterKey: randomBytes(16).toString('base64') })).toThrow(/32-byte/);
    expect(() => loadMasterKey({})).toThrow(/GATEHOUSE_MASTER_KEY_FILE/);
    expect(() => loadMasterKey({ masterKeyFile: path.join(dir, 'missing.key') })).toThrow(/does not exist/);
  });
});

describe('checkpoint signer', () => {
  it('is derived from the master key: same key, same public key; signatures verify only with it', () => {
    const master = randomBytes(32);
    const signer = createSigner(master);
    expect(createSigner(master).publicKeyPem).toBe(signer.publicKeyPem);
    const signature = signer.sign('payload');
    expect(verifySignature(signer.publicKeyPem, 'payload', signature)).toBe(true);
    expect(verifySignature(signer.publicKeyPem, 'payload!', signature)).toBe(false);
    expect(verifySignature(createSigner(randomBytes(32)).publicKeyPem, 'payload', signature)).toBe(false);
  });
});

describe('API tokens', () => {
  it('are random, prefixed, and stored only as a hash', () => {
    const a = generateToken();
    const b = generateToken();
    expect(a).toMatch(/^gth_[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(hashToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(a)).not.toContain(a.slice(4));
  });
});
