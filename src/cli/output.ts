/** How commands print: a readable table for people, JSON with --json for scripts. */
export interface Output {
  json: boolean;
  /** Prints a value: as JSON with --json, otherwise with the given human renderer. */
  result(value: unknown, human?: () => void): void;
  table(rows: Record<string, unknown>[], columns: string[]): void;
  /** One page of a list: the page as JSON with --json, else a table and how to ask for the next page. */
  page<T extends object>(
    page: { items: T[]; nextCursor: string | number | null },
    columns: string[],
    toRow?: (item: T) => Record<string, unknown>,
  ): void;
  line(text: string): void;
  /** Progress and notices go to stderr so stdout stays parseable. */
  note(text: string): void;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(cell).join(',');
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? '-';
}

export function formatTable(rows: Record<string, unknown>[], columns: string[]): string {
  const cells = rows.map((row) => columns.map((column) => cell(row[column])));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((r) => r[i]!.length)));
  const render = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [render(columns.map((c) => c.toUpperCase())), ...cells.map(render)].join('\n');
}

export function createOutput(json: boolean, write = (s: string) => process.stdout.write(s)): Output {
  return {
    json,
    result(value, human) {
      if (json || !human) write(`${JSON.stringify(value, null, json ? 0 : 2)}\n`);
      else human();
    },
    table(rows, columns) {
      if (json) write(`${JSON.stringify(rows)}\n`);
      else write(rows.length === 0 ? '(none)\n' : `${formatTable(rows, columns)}\n`);
    },
    page(page, columns, toRow) {
      if (json) return this.result(page);
      this.table(
        page.items.map((item) => (toRow ? toRow(item) : (item as Record<string, unknown>))),
        columns,
      );
      if (page.nextCursor !== null) this.note(`more: --cursor ${page.nextCursor}`);
    },
    line(text) {
      write(`${text}\n`);
    },
    note(text) {
      process.stderr.write(`${text}\n`);
    },
  };
}
