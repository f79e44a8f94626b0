import { randomBytes } from 'node:crypto';

/** Recovery codes: 16 base32 characters (80 bits) in four groups, e.g. `k7qd-2xma-p3rt-9wze`. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

export function generateRecoveryCode(): string {
  const bytes = randomBytes(16);
  const chars = [...bytes].map((b) => ALPHABET[b % 32]!).join('');
  return chars.match(/.{4}/g)!.join('-');
}

/** What a person types may have spaces, capitals or no dashes; the stored hash is of the canonical form. */
export function canonicalRecoveryCode(input: string): string | undefined {
  const bare = input.toLowerCase().replace(/[\s-]/g, '');
  if (!/^[a-z2-7]{16}$/.test(bare)) return undefined;
  return bare.match(/.{4}/g)!.join('-');
}

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

/** Why a new password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string, username: string): string | undefined {
  if (password.length < PASSWORD_MIN) return `use at least ${PASSWORD_MIN} characters`;
  if (password.length > PASSWORD_MAX) return `use at most ${PASSWORD_MAX} characters`;
  if (password.toLowerCase().includes(username.toLowerCase())) return 'do not include your username';
  if (new Set(password).size < 5) return 'use more different characters';
  return undefined;
}
