import { InvalidInputError } from '../errors.js';

/**
 * Metadata filters, a small MongoDB-like language on document metadata:
 *   {"lang": "en"}                                  equality
 *   {"tag": {"$in": ["a", "b"]}}                     membership ($nin: not in)
 *   ($ne and $nin also match documents without the field; {"f": null} matches null or absent)
 *   {"year": {"$gte": 2020, "$lt": 2024}}            numeric range ($gt $gte $lt $lte $ne $eq)
 *   {"published": {"$gte": "2024-01-01"}}            date range (ISO 8601 strings compare as dates)
 *   {"$or": [{...}, {...}]}, {"$and": [...]}         combinations; top-level keys are ANDed
 * Dotted fields reach into nested objects ("author.name"). Compiled to SQL over the
 * document's metadata JSON with bound parameters only (no value ever enters the SQL text).
 */
export type Filter = Record<string, unknown>;

export interface CompiledFilter {
  sql: string;
  params: unknown[];
}

const FIELD_RE = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/;
const ISO_DATE_RE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const COMPARE: Record<string, string> = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };
const MAX_DEPTH = 8;
const MAX_IN = 1000;

export function parseFilter(input: unknown): Filter {
  let f = input;
  if (typeof input === 'string') {
    try {
      f = JSON.parse(input);
    } catch {
      throw new InvalidInputError(`filter is not valid JSON: ${input.slice(0, 80)}`, { field: 'filter' });
    }
  }
  if (!f || typeof f !== 'object' || Array.isArray(f)) throw new InvalidInputError('filter must be a JSON object', { field: 'filter' });
  compileFilter(f as Filter); // validate now, with the user's input at hand
  return f as Filter;
}

/** SQL over `metadataColumn` (a JSON text column) that is true for matching documents. */
export function compileFilter(filter: Filter, metadataColumn = 'd.metadata'): CompiledFilter {
  const params: unknown[] = [];
  const sql = compileObject(filter, metadataColumn, params, 0);
  return { sql, params };
}

function compileObject(f: Filter, col: string, params: unknown[], depth: number): string {
  if (depth > MAX_DEPTH) throw bad(`is nested more than ${MAX_DEPTH} levels deep`);
  const parts: string[] = [];
  for (const [key, value] of Object.entries(f)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) throw bad(`${key} takes a non-empty array of filters`);
      const sub = value.map((v) => {
        if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad(`${key} items must be objects`);
        return `(${compileObject(v as Filter, col, params, depth + 1)})`;
      });
      parts.push(`(${sub.join(key === '$and' ? ' AND ' : ' OR ')})`);
    } else if (key.startsWith('$')) {
      throw bad(`unknown operator ${key} at the top level (use $and, $or, or a field name)`);
    } else {
      if (!FIELD_RE.test(key)) throw bad(`field name ${JSON.stringify(key)} is not allowed (letters, digits, _ and -, dots for nesting)`);
      parts.push(compileField(key, value, col, params));
    }
  }
  return parts.length === 0 ? '1' : parts.join(' AND ');
}

function compileField(field: string, cond: unknown, col: string, params: unknown[]): string {
  const path = '$.' + field.split('.').map((p) => `"${p}"`).join('.');
  const extract = `json_extract(${col}, ?)`;
  if (cond === null || typeof cond !== 'object' || Array.isArray(cond)) {
    return eq(extract, path, scalar(field, cond), params);
  }
  const ops = Object.entries(cond as Record<string, unknown>);
  if (ops.length === 0) throw bad(`condition on ${field} is empty`);
  return ops
    .map(([op, v]) => {
      if (op === '$eq') return eq(extract, path, scalar(field, v), params);
      // A document without the field matches $ne and $nin (as in MongoDB): NULL counts as false.
      if (op === '$ne') return `NOT COALESCE((${eq(extract, path, scalar(field, v), params)}), 0)`;
      if (op === '$in' || op === '$nin') {
        if (!Array.isArray(v) || v.length === 0 || v.length > MAX_IN) throw bad(`${op} on ${field} takes an array of 1 to ${MAX_IN} values`);
        const any = `(${v.map((x) => eq(extract, path, scalar(field, x), params)).join(' OR ')})`;
        return op === '$in' ? any : `NOT COALESCE(${any}, 0)`;
      }
      if (op in COMPARE) {
        if (typeof v === 'number' && Number.isFinite(v)) {
          // Only numbers compare with numbers: SQLite would otherwise order text after every number.
          params.push(path, path, v);
          return `(json_type(${col}, ?) IN ('integer', 'real') AND ${extract} ${COMPARE[op]} ?)`;
        }
        if (typeof v === 'string' && ISO_DATE_RE.test(v) && !Number.isNaN(Date.parse(v))) {
          params.push(path, v);
          return `julianday(${extract}) ${COMPARE[op]} julianday(?)`;
        }
        throw bad(`${op} on ${field} needs a number or an ISO 8601 date (e.g. "2024-01-31"), got ${JSON.stringify(v)}`);
      }
      throw bad(`unknown operator ${op} on ${field} (use $eq $ne $in $nin $gt $gte $lt $lte)`);
    })
    .join(' AND ');
}

function eq(extract: string, path: string, v: string | number | boolean | null, params: unknown[]): string {
  if (v === null) {
    params.push(path);
    return `${extract} IS NULL`;
  }
  params.push(path, typeof v === 'boolean' ? (v ? 1 : 0) : v);
  return `${extract} = ?`;
}

function scalar(field: string, v: unknown): string | number | boolean | null {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
  throw bad(`value for ${field} must be a string, number, boolean or null, got ${JSON.stringify(v)}`);
}

function bad(why: string): InvalidInputError {
  return new InvalidInputError(`filter ${why}`, { field: 'filter' });
}
