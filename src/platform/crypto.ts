import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, IntegrityError } from './errors.js';

const KEY_BYTES = 32;

export interface MasterKeySource {
  masterKey?: string | undefined;
  masterKeyFile?: string | undefined;
  /** Where to create a key file when none is configured (embedded mode only). */
  generateAt?: string | undefined;
}

function decodeKey(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) {
    throw new ConfigError(`${where} must hold a base64-encoded 32-byte key (got ${key.length} bytes)`);
  }
  return key;
}

/**
 * Loads the master key: from the environment, from a file (which must not be readable by group or
 * others), or — on the first embedded run — generates one into a new 0600 file.
 */
export function loadMasterKey(source: MasterKeySource): { key: Buffer; generatedAt?: string } {
  if (source.masterKey) return { key: decodeKey(source.masterKey, 'GATEHOUSE_MASTER_KEY') };
  const file = source.masterKeyFile ?? source.generateAt;
  if (!file) {
    throw new ConfigError(
      'No master key: set GATEHOUSE_MASTER_KEY_FILE to a file holding a base64 32-byte key ' +
        '(create one with: head -c 32 /dev/urandom | base64 > master.key && chmod 600 master.key)',
    );
  }
  if (!existsSync(file)) {
    if (source.masterKeyFile && !source.generateAt) {
      throw new ConfigError(`GATEHOUSE_MASTER_KEY_FILE points to ${file}, which does not exist`);
    }
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(KEY_BYTES).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return { key: decodeKey(readFileSync(file, 'utf8'), file), generatedAt: file };
  }
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      `Master key file ${file} is readable by others (mode ${mode.toString(8)}); run: chmod 600 ${file}`,
    );
  }
  return { key: decodeKey(readFileSync(file, 'utf8'), file) };
}

function derive(master: Buffer, label: string, bytes = KEY_BYTES): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `gatehouse ${label}`, bytes));
}

/**
 * Authenticated encryption of secrets at rest (AES-256-GCM). The `context` (e.g. `asset:<id>:admin`)
 * is bound as associated data, so a ciphertext copied to another row does not decrypt.
 */
export interface SecretBox {
  readonly keyId: string;
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

export function createSecretBox(master: Buffer): SecretBox {
  const key = derive(master, 'secrets v1');
  const keyId = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return {
    keyId,
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `v1.${keyId}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(sealed, context) {
      const [version, sealedKeyId, ivText, bodyText] = sealed.split('.');
      if (version !== 'v1' || !ivText || !bodyText)
        throw new IntegrityError('Sealed secret has an unknown format');
      if (sealedKeyId !== keyId) {
        throw new IntegrityError(
          `Secret was sealed under key ${sealedKeyId}, not the current master key ${keyId}`,
        );
      }
      const body = Buffer.from(bodyText, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivText, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - 16));
      try {
        return Buffer.concat([
          decipher.update(body.subarray(0, body.length - 16)),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new IntegrityError('Secret failed authentication: it was altered or belongs to another record');
      }
    },
  };
}

/** Ed25519 key pair for audit checkpoints, derived from the master key so nothing more must be stored. */
export interface Signer {
  readonly keyId: string;
  /** SPKI PEM, to hand to whoever verifies checkpoints offline. */
  readonly publicKeyPem: string;
  sign(data: string): string;
}

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function publicKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

export function createSigner(master: Buffer): Signer {
  const seed = derive(master, 'audit checkpoint ed25519 v1');
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: publicKeyId(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (data) => sign(null, Buffer.from(data, 'utf8'), privateKey).toString('base64'),
  };
}

export function verifySignature(publicKeyPem: string, data: string, signature: string): boolean {
  try {
    return verify(
      null,
      Buffer.from(data, 'utf8'),
      createPublicKey(publicKeyPem),
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** API tokens: `gth_` + 32 random bytes. Only their SHA-256 is stored; the entropy makes a slow hash unneeded. */
export const TOKEN_PREFIX = 'gth_';

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return sha256Hex(token);
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
