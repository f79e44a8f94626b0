import { parse } from 'csv-parse/sync';

/**
 * Reading an import: a JSON document, a JSON list of one entity, a CSV file of one entity, or the
 * lists sent directly in the request body, all become rows of raw values with the number a person
 * can find them by (line number in a CSV file, position in a JSON list). Nothing here checks the
 * values themselves; import.ts does.
 */

/** The order an import applies entities in: everything a row refers to comes before it. */
export const importEntities = [
  'regions',
  'customers',
  'environments',
  'machineTypes',
  'assetGroups',
  'assets',
  'jumpboxes',
] as const;
export type ImportEntity = (typeof importEntities)[number];

export const MAX_IMPORT_ROWS = 20_000;

export interface RawRow {
  /** CSV: the line number (the header is line 1). JSON: the position in its list, from 1. */
  row: number;
  data: unknown;
}

export type RawDocument = Partial<Record<ImportEntity, RawRow[]>>;

export interface ImportError {
  /** Absent for problems with the file as a whole. */
  entity?: ImportEntity;
  /** 0 for the file as a whole. */
  row: number;
  /** The row's name, when it has one: easier to find than a number. */
  name?: string;
  field: string;
  message: string;
}

export interface ImportSource {
  format?: 'json' | 'csv' | undefined;
  entity?: ImportEntity | undefined;
  content?: string | undefined;
  lists?: Partial<Record<ImportEntity, unknown[]>>;
}

/** CSV columns per entity. Lists are `;`-separated; labels are `key=value;key=value`. */
export const csvColumns: Record<ImportEntity, readonly string[]> = {
  regions: ['name', 'displayName'],
  customers: ['name', 'displayName'],
  environments: ['customer', 'name', 'tier', 'region'],
  machineTypes: ['name', 'description'],
  assetGroups: ['name', 'description'],
  assets: [
    'name',
    'kind',
    'customer',
    'environment',
    'region',
    'machineType',
    'os',
    'address',
    'engine',
    'host',
    'port',
    'adminUsername',
    'adminPassword',
    'labels',
    'groups',
  ],
  jumpboxes: ['name', 'region', 'address', 'sourceCidrs', 'description'],
};

const fileError = (field: string, message: string): ImportError => ({ row: 0, field, message });

const isEntity = (key: string): key is ImportEntity => (importEntities as readonly string[]).includes(key);

function rowsOf(list: unknown[]): RawRow[] {
  return list.map((data, index) => ({ row: index + 1, data }));
}

function readJson(
  content: string,
  entity: ImportEntity | undefined,
): { document: RawDocument; errors: ImportError[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (error) {
    return { document: {}, errors: [fileError('content', `is not valid JSON: ${(error as Error).message}`)] };
  }
  if (entity) {
    if (!Array.isArray(parsed)) {
      return {
        document: {},
        errors: [fileError('content', `with entity '${entity}', send a JSON list of ${entity}`)],
      };
    }
    return { document: { [entity]: rowsOf(parsed) }, errors: [] };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return {
      document: {},
      errors: [fileError('content', `must be a JSON object with lists named ${importEntities.join(', ')}`)],
    };
  }
  const document: RawDocument = {};
  const errors: ImportError[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    if (!isEntity(key)) {
      errors.push(fileError(key, `unknown list; the lists are ${importEntities.join(', ')}`));
    } else if (!Array.isArray(value)) {
      errors.push(fileError(key, 'must be a list'));
    } else {
      document[key] = rowsOf(value);
    }
  }
  return { document, errors };
}

const splitList = (cell: string) => cell.split(/[;\s]+/).filter(Boolean);

/** One CSV record as the object the JSON form would have, or the errors that stop that. */
function csvRecordToRow(
  entity: ImportEntity,
  cells: Record<string, string>,
  row: number,
): { data: Record<string, unknown>; errors: ImportError[] } {
  const data: Record<string, unknown> = {};
  const errors: ImportError[] = [];
  const fail = (field: string, message: string) =>
    errors.push({ entity, row, field, message, ...(cells.name ? { name: cells.name.trim() } : {}) });
  for (const [column, raw] of Object.entries(cells)) {
    // passwords are taken as written; every other cell is trimmed, and an empty cell means "not given"
    const cell = column === 'adminPassword' ? raw : raw.trim();
    if (cell === '' && column !== 'adminPassword') continue;
    switch (column) {
      case 'port':
        data.port = /^\d{1,6}$/.test(cell) ? Number(cell) : cell;
        break;
      case 'groups':
      case 'sourceCidrs':
        data[column] = splitList(cell);
        break;
      case 'labels': {
        const labels: Record<string, string> = {};
        for (const pair of cell.split(';').filter((p) => p.trim() !== '')) {
          const at = pair.indexOf('=');
          if (at <= 0) fail('labels', `'${pair}' is not key=value; write labels as key=value;key=value`);
          else labels[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
        }
        data.labels = labels;
        break;
      }
      case 'adminUsername':
      case 'adminPassword':
        break;
      default:
        data[column] = cell;
    }
  }
  const username = cells.adminUsername?.trim();
  const password = cells.adminPassword;
  if (username) data.adminCredential = { username, password: password ?? '' };
  else if (password) fail('adminUsername', 'is required when adminPassword is given');
  return { data, errors };
}

function readCsv(content: string, entity: ImportEntity): { document: RawDocument; errors: ImportError[] } {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(content, {
      info: true,
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (error) {
    const line = (error as { lines?: number }).lines ?? 0;
    return {
      document: {},
      errors: [
        { entity, row: line, field: 'content', message: `is not valid CSV: ${(error as Error).message}` },
      ],
    };
  }
  const [head, ...body] = records;
  if (!head) return { document: { [entity]: [] }, errors: [] };
  const allowed = csvColumns[entity];
  const header = head.record.map((c) => c.trim());
  const errors: ImportError[] = [];
  header.forEach((column, index) => {
    if (!allowed.includes(column)) {
      errors.push({
        entity,
        row: head.info.lines,
        field: column || `column ${index + 1}`,
        message: `unknown column; the columns for ${entity} are ${allowed.join(', ')}`,
      });
    } else if (header.indexOf(column) !== index) {
      errors.push({ entity, row: head.info.lines, field: column, message: 'appears twice in the header' });
    }
  });
  if (!header.includes('name')) {
    errors.push({ entity, row: head.info.lines, field: 'name', message: 'the header needs a name column' });
  }
  if (errors.length > 0) return { document: {}, errors };

  const rows: RawRow[] = [];
  for (const { record, info } of body) {
    const line = info.lines;
    if (record.length !== header.length) {
      errors.push({
        entity,
        row: line,
        field: '(row)',
        message: `has ${record.length} fields but the header has ${header.length}; quote cells that contain commas`,
        ...(record[header.indexOf('name')] ? { name: record[header.indexOf('name')]!.trim() } : {}),
      });
      continue;
    }
    const cells = Object.fromEntries(header.map((column, i) => [column, record[i] ?? '']));
    const converted = csvRecordToRow(entity, cells, line);
    errors.push(...converted.errors);
    rows.push({ row: line, data: converted.data });
  }
  return { document: { [entity]: rows }, errors };
}

/** Reads the import into raw rows; file-level problems and CSV cell problems come back as errors. */
export function readImportSource(source: ImportSource): { document: RawDocument; errors: ImportError[] } {
  const lists = Object.entries(source.lists ?? {}).filter(([, v]) => v !== undefined);
  let result: { document: RawDocument; errors: ImportError[] };
  if (source.content !== undefined) {
    if (lists.length > 0) {
      return {
        document: {},
        errors: [
          fileError(
            'content',
            `send either content or the lists (${lists.map(([k]) => k).join(', ')}), not both`,
          ),
        ],
      };
    }
    if (!source.format)
      return { document: {}, errors: [fileError('format', "say how content is written: 'json' or 'csv'")] };
    if (source.format === 'csv' && !source.entity) {
      return {
        document: {},
        errors: [
          fileError('entity', `a CSV file holds one kind of object; name it: ${importEntities.join(', ')}`),
        ],
      };
    }
    result =
      source.format === 'csv'
        ? readCsv(source.content, source.entity!)
        : readJson(source.content, source.entity);
  } else {
    if (source.format || source.entity) {
      return {
        document: {},
        errors: [fileError('content', 'format and entity describe content; send content too')],
      };
    }
    if (lists.length === 0) {
      return {
        document: {},
        errors: [
          fileError(
            '(body)',
            `send content (with format), or one or more lists: ${importEntities.join(', ')}`,
          ),
        ],
      };
    }
    result = {
      document: Object.fromEntries(lists.map(([key, list]) => [key, rowsOf(list)])),
      errors: [],
    };
  }
  const total = Object.values(result.document).reduce((n, rows) => n + rows.length, 0);
  if (total > MAX_IMPORT_ROWS) {
    result.errors.push(fileError('(file)', `has ${total} rows; import at most ${MAX_IMPORT_ROWS} at a time`));
  }
  return result;
}
