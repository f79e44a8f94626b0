import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from '../../../platform/errors.js';

/**
 * Temporary passwords: a configurable policy (length, character classes, symbols) and the generator.
 * Pure apart from the random source, which is injected (`crypto.randomInt` by default, unbiased).
 *
 * No ambiguous characters (0 O o 1 l I |), so a password read off a screen is typed right. Symbols are
 * limited to ones that are not special in a connection URL's userinfo or an SQL string and rarely in a
 * shell: no quotes, backslash, backtick, `$`, `!`, `*`, space, `%`, `@`, `:`, `/`, `?`, `#`. The
 * connectors still pass every password through the drivers' own quoting; this keeps copy-and-paste
 * painless, it is not what makes the SQL safe.
 */

export const passwordClasses = ['lower', 'upper', 'digit', 'symbol'] as const;
export type PasswordClass = (typeof passwordClasses)[number];

const ambiguous = new Set('0Oo1lI|');
const withoutAmbiguous = (chars: string) => [...chars].filter((c) => !ambiguous.has(c)).join('');

const alphabets: Record<Exclude<PasswordClass, 'symbol'>, string> = {
  lower: withoutAmbiguous('abcdefghijklmnopqrstuvwxyz'),
  upper: withoutAmbiguous('ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
  digit: withoutAmbiguous('0123456789'),
};

/** Every symbol a policy may choose from; the default uses all of them. */
export const allowedSymbols = '-_.~+=^,';

export const passwordPolicySchema = z
  .object({
    length: z.number().int().min(12, 'at least 12 characters').max(128, 'at most 128 characters').default(24),
    classes: z
      .array(z.enum(passwordClasses))
      .min(1, 'list at least one character class')
      .default([...passwordClasses])
      .describe('Each listed class appears at least once'),
    symbols: z
      .string()
      .min(1)
      .refine(
        (s) => [...s].every((c) => allowedSymbols.includes(c)),
        `symbols must be among ${allowedSymbols}`,
      )
      .default(allowedSymbols),
  })
  .strict()
  .refine((p) => new Set(p.classes).size <= p.length, 'the length must fit one character of each class');

export type PasswordPolicy = z.output<typeof passwordPolicySchema>;
export const defaultPasswordPolicy: PasswordPolicy = passwordPolicySchema.parse({});

/** `randomInt(max)` returns an integer in [0, max), uniformly. */
export type RandomInt = (max: number) => number;

function alphabetOf(policy: PasswordPolicy, cls: PasswordClass): string {
  return cls === 'symbol' ? withoutAmbiguous(policy.symbols) : alphabets[cls];
}

/**
 * A password of `policy.length` characters with at least one of each class in the policy: one drawn
 * from each class, the rest from their union, then shuffled (Fisher-Yates) so positions carry no hint.
 */
export function generatePassword(
  policy: PasswordPolicy = defaultPasswordPolicy,
  random: RandomInt = (max) => randomInt(max),
): string {
  const classes = [...new Set(policy.classes)];
  const pick = (alphabet: string) => alphabet.charAt(random(alphabet.length));
  const union = classes.map((cls) => alphabetOf(policy, cls)).join('');
  const chars = classes.map((cls) => pick(alphabetOf(policy, cls)));
  while (chars.length < policy.length) chars.push(pick(union));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  return chars.join('');
}

/** Whether a password meets the policy: used to check the generator and passwords supplied by hand. */
export function passwordMeetsPolicy(
  password: string,
  policy: PasswordPolicy = defaultPasswordPolicy,
): boolean {
  const chars = [...password];
  if (chars.length !== policy.length) return false;
  const union = new Set(policy.classes.flatMap((cls) => [...alphabetOf(policy, cls)]));
  if (!chars.every((c) => union.has(c))) return false;
  return policy.classes.every((cls) => chars.some((c) => alphabetOf(policy, cls).includes(c)));
}

/** Bits of entropy of a password drawn uniformly from the policy's alphabet (a lower bound). */
export function passwordEntropyBits(policy: PasswordPolicy = defaultPasswordPolicy): number {
  const size = new Set(policy.classes.flatMap((cls) => [...alphabetOf(policy, cls)])).size;
  return Math.floor((policy.length - new Set(policy.classes).size) * Math.log2(size));
}

/**
 * SCRAM iterations for the verifiers of generated passwords (decision 0016). Key stretching slows the
 * guessing of a password a person chose; a password drawn with at least this many bits of entropy
 * cannot be guessed either way, so stretching it only costs the CPU of every grant.
 */
export const UNSTRETCHED_MIN_ENTROPY_BITS = 100;
/** What PostgreSQL itself uses (scram_iterations): for anything weaker. */
export const STRETCHED_SCRAM_ITERATIONS = 4096;
export const UNSTRETCHED_SCRAM_ITERATIONS = 16;

/**
 * The iteration count for the policy: the configured one, refused below 4096 unless the policy gives
 * at least 100 bits; without one, 16 for such a policy and 4096 otherwise.
 */
export function scramIterationsFor(policy: PasswordPolicy, configured?: number): number {
  const bits = passwordEntropyBits(policy);
  const strongEnough = bits >= UNSTRETCHED_MIN_ENTROPY_BITS;
  if (configured === undefined)
    return strongEnough ? UNSTRETCHED_SCRAM_ITERATIONS : STRETCHED_SCRAM_ITERATIONS;
  if (configured < STRETCHED_SCRAM_ITERATIONS && !strongEnough) {
    throw new ConfigError(
      `connectors.postgresScramIterations ${configured} is below ${STRETCHED_SCRAM_ITERATIONS}, which only ` +
        `passwords of at least ${UNSTRETCHED_MIN_ENTROPY_BITS} bits of entropy may use; the password policy ` +
        `gives ${bits} bits: make the passwords longer or raise the iterations to ${STRETCHED_SCRAM_ITERATIONS}`,
    );
  }
  return configured;
}
