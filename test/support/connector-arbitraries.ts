import fc from 'fast-check';
import { managedUsernamePattern } from '../../src/adapters/connectors/index.js';

/** Pieces that break naive quoting in one SQL dialect or another. */
const hostile = [
  "'",
  '"',
  '\\',
  "\\'",
  "''",
  ';',
  '--',
  '-- ',
  '#',
  '/*',
  '*/',
  '/*!',
  '$$',
  '$q$',
  '%',
  '_',
  '?',
  '??',
  ':name',
  '`',
  '\n',
  '\r',
  '\t',
  '\u001a',
  ' ',
  "E'",
  "'); DROP ROLE postgres; --",
  "' OR '1'='1",
  'é',
  '∑',
  '😀',
  'ﬁ',
  '\u00a0',
  '\u200b',
  'ẞ',
  'שלום',
];

const wellFormed = (text: string) => Buffer.from(text, 'utf8').toString('utf8') === text;

/** Passwords made of hostile pieces and arbitrary unicode, without NUL, 1-200 characters. */
export const hostilePassword = fc
  .array(fc.oneof(fc.constantFrom(...hostile), fc.string({ unit: 'binary', minLength: 1, maxLength: 6 })), {
    minLength: 1,
    maxLength: 12,
  })
  .map((parts) => parts.join(''))
  .filter((p) => p.length > 0 && !p.includes('\u0000') && wellFormed(p) && [...p].length <= 200);

/** Names outside the managed-account grammar, many of them close to it. */
export const invalidUsername = fc
  .oneof(
    fc.string(),
    fc.string().map((s) => `gh_${s}`),
    fc.constantFrom(...hostile).map((h) => `gh_a${h}b`),
    fc.constantFrom(
      'gh_',
      'GH_a',
      'gh_A',
      'gh-a',
      'gha',
      'gh_a b',
      'gh_é',
      `gh_${'a'.repeat(61)}`,
      'postgres',
      'root',
    ),
  )
  .filter((u) => !managedUsernamePattern.test(u));
