import { isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';

/** A problem in a YAML document, at the line and column a person editing it would look at. */
export interface DocumentProblem {
  line: number;
  column: number;
  /** Where in the document, dotted (`gaps.3.area`); empty for the document itself. */
  path: string;
  message: string;
}

export type DocumentResult<T> = { ok: true; value: T } | { ok: false; problems: DocumentProblem[] };

type Path = readonly (string | number)[];

/** Finds the line of a path in a parsed document: the deepest node that exists along it. */
export type Locate = (path: Path) => { line: number; column: number };

/**
 * Parses YAML, then checks it with a zod schema and, when that passes, with `check` (rules that need
 * the whole document, like references between entries). Every problem names its line: YAML syntax
 * errors by their own position, schema and rule problems by the node their path points at.
 */
export function parseYamlDocument<S extends z.ZodType, T = z.infer<S>>(
  text: string,
  schema: S,
  check: (value: z.infer<S>) => { path: Path; message: string }[] = () => [],
  convert: (value: z.infer<S>) => T = (value) => value as T,
): DocumentResult<T> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((error) => {
        const at = error.linePos?.[0] ?? lines.linePos(error.pos[0]);
        return { line: at.line, column: at.col, path: '', message: error.message.split('\n')[0]! };
      }),
    };
  }
  const locate: Locate = (path) => {
    for (let depth = path.length; depth >= 0; depth -= 1) {
      const node: unknown = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) {
        const at = lines.linePos(node.range[0]);
        return { line: at.line, column: at.col };
      }
    }
    return { line: 1, column: 1 };
  };
  const problem = (path: Path, message: string): DocumentProblem => ({
    ...locate(path),
    path: path.join('.'),
    message,
  });
  const parsed = schema.safeParse(doc.toJS({ maxAliasCount: 100 }));
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) =>
        problem(
          issue.path.filter((p): p is string | number => typeof p !== 'symbol'),
          issue.message,
        ),
      ),
    };
  }
  const found = check(parsed.data);
  if (found.length > 0) return { ok: false, problems: found.map((p) => problem(p.path, p.message)) };
  return { ok: true, value: convert(parsed.data) };
}

/** Problems as one message per line: `line 12, column 5 (gaps.3.area): no such area 'x'`. */
export function describeProblems(problems: readonly DocumentProblem[]): string {
  return problems
    .map((p) => `line ${p.line}, column ${p.column}${p.path ? ` (${p.path})` : ''}: ${p.message}`)
    .join('\n');
}
