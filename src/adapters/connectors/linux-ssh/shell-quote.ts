/**
 * The one way Gatehouse turns an argv into the command line an SSH `exec` request carries (SSH has no
 * argv: the server's login shell parses a string). Every argument is single-quoted, the only quote
 * inside which a POSIX shell interprets nothing; a `'` in an argument closes the quote, adds an
 * escaped quote and reopens: `it's` → `'it'\''s'`. NUL cannot be passed through a command line at all,
 * so it is refused. A property test runs real shells on arbitrary arguments and gets them back intact.
 */

export function shellQuote(arg: string): string {
  if (arg.includes('\u0000')) throw new Error('an argument cannot contain NUL');
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** `argv` as one shell command line, each element quoted. */
export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('an empty command');
  return argv.map(shellQuote).join(' ');
}
