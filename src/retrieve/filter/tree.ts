/**
 * Metadata filters as data: a small MongoDB-like language on document metadata, parsed once
 * into a typed tree that each store compiles to what it runs (SQL for the local store, a
 * query DSL for a cluster), with `matches` as the reference semantics every compiler must
 * agree with (the store conformance suite checks it).
 *
 *   {"lang": "en"}                                  equality
 *   {"tag": {"$in": ["a", "b"]}}                     membership ($nin: not in)
 *   ($ne and $nin also match documents without the field; {"f": null} matches null or absent)
 *   {"year": {"$gte": 2020, "$lt": 2024}}            numeric range ($gt $gte $lt $lte $ne $eq)
 *   {"published": {"$gte": "2024-01-01"}}            date range (ISO 8601 strings compare as instants, UTC)
 *   {"$or": [{...}, {...}]}, {"$and": [...]}         combinations; top-level keys are ANDed
 * Dotted fields reach into nested objects ("author.name").
 */
import { InvalidInputError } from '../../errors.js';

/** The filter as users write it (JSON). */
export type Filter = Record<string, unknown>;
export type Scalar = string | number | boolean | null;
export type Comparison = 'gt' | 'gte' | 'lt' | 'lte';

export type FilterNode =
  | { op: 'all' }
  | { op: 'and' | 'or'; children: FilterNode[] }
  /** Field equal to value; a null value matches null or absent. */
  | { op: 'eq'; path: string[]; value: Scalar }
  /** Not equal (absent fields match). */
  | { op: 'ne'; path: string[]; value: Scalar }
  | { op: 'in' | 'nin'; path: string[]; values: Scalar[] }
  /** A numeric field compared with a number (text that looks like a number never matches). */
  | { op: 'range'; path: string[]; cmp: Comparison; number: number }
  /** A date-valued (ISO 8601 text) field compared as an instant; `date` is the bound as given. */
  | { op: 'dateRange'; path: string[]; cmp: Comparison; date: string };

const FIELD_RE = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/;
export const ISO_DATE_RE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const COMPARISONS: Record<string, Comparison> = { $gt: 'gt', $gte: 'gte', $lt: 'lt', $lte: 'lte' };
export const MAX_FILTER_DEPTH = 8;
const MAX_IN = 1000;

/** Parses and validates a filter (an object or JSON text) into its tree; errors name the problem. */
export function parseFilter(input: unknown): FilterNode {
  let f = input;
  if (typeof input === 'string') {
    try {
      f = JSON.parse(input);
    } catch {
      throw new InvalidInputError(`filter is not valid JSON: ${input.slice(0, 80)}`, { field: 'filter' });
    }
  }
  if (!f || typeof f !== 'object' || Array.isArray(f)) throw new InvalidInputError('filter must be a JSON object', { field: 'filter' });
  return parseObject(f as Filter, 0);
}

function parseObject(f: Filter, depth: number): FilterNode {
  if (depth > MAX_FILTER_DEPTH) throw bad(`is nested more than ${MAX_FILTER_DEPTH} levels deep`);
  const parts: FilterNode[] = [];
  for (const [key, value] of Object.entries(f)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) throw bad(`${key} takes a non-empty array of filters`);
      const children = value.map((v) => {
        if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad(`${key} items must be objects`);
        return parseObject(v as Filter, depth + 1);
      });
      parts.push({ op: key === '$and' ? 'and' : 'or', children });
    } else if (key.startsWith('$')) {
      throw bad(`unknown operator ${key} at the top level (use $and, $or, or a field name)`);
    } else {
      if (!FIELD_RE.test(key)) throw bad(`field name ${JSON.stringify(key)} is not allowed (letters, digits, _ and -, dots for nesting)`);
      parts.push(...parseField(key, value));
    }
  }
  if (parts.length === 0) return { op: 'all' };
  return parts.length === 1 ? parts[0] : { op: 'and', children: parts };
}

function parseField(field: string, cond: unknown): FilterNode[] {
  const path = field.split('.');
  if (cond === null || typeof cond !== 'object' || Array.isArray(cond)) return [{ op: 'eq', path, value: scalar(field, cond) }];
  const ops = Object.entries(cond as Record<string, unknown>);
  if (ops.length === 0) throw bad(`condition on ${field} is empty`);
  return ops.map(([op, v]): FilterNode => {
    if (op === '$eq') return { op: 'eq', path, value: scalar(field, v) };
    if (op === '$ne') return { op: 'ne', path, value: scalar(field, v) };
    if (op === '$in' || op === '$nin') {
      if (!Array.isArray(v) || v.length === 0 || v.length > MAX_IN) throw bad(`${op} on ${field} takes an array of 1 to ${MAX_IN} values`);
      return { op: op === '$in' ? 'in' : 'nin', path, values: v.map((x) => scalar(field, x)) };
    }
    const cmp = COMPARISONS[op];
    if (cmp) {
      if (typeof v === 'number' && Number.isFinite(v)) return { op: 'range', path, cmp, number: v };
      if (typeof v === 'string' && ISO_DATE_RE.test(v) && !Number.isNaN(Date.parse(v))) return { op: 'dateRange', path, cmp, date: v };
      throw bad(`${op} on ${field} needs a number or an ISO 8601 date (e.g. "2024-01-31"), got ${JSON.stringify(v)}`);
    }
    throw bad(`unknown operator ${op} on ${field} (use $eq $ne $in $nin $gt $gte $lt $lte)`);
  });
}

function scalar(field: string, v: unknown): Scalar {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
  throw bad(`value for ${field} must be a string, number, boolean or null, got ${JSON.stringify(v)}`);
}

function bad(why: string): InvalidInputError {
  return new InvalidInputError(`filter ${why}`, { field: 'filter' });
}

/** The value at a dotted path; undefined when absent. */
export function valueAt(metadata: unknown, path: string[]): unknown {
  let v = metadata;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/** ISO date text as an instant in ms (UTC; a date without a zone is read as UTC), or NaN. */
export function instantOf(v: unknown): number {
  if (typeof v !== 'string' || !ISO_DATE_RE.test(v)) return Number.NaN;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(v) && v.length > 10;
  const withT = v.replace(' ', 'T');
  return Date.parse(hasZone || withT.length === 10 ? withT : `${withT}Z`);
}

function equals(stored: unknown, value: Scalar): boolean {
  if (value === null) return stored === null || stored === undefined;
  return stored === value;
}

function compare(a: number, cmp: Comparison, b: number): boolean {
  if (cmp === 'gt') return a > b;
  if (cmp === 'gte') return a >= b;
  if (cmp === 'lt') return a < b;
  return a <= b;
}

/** Reference semantics: does a document with this metadata match? */
export function matches(node: FilterNode, metadata: Record<string, unknown>): boolean {
  switch (node.op) {
    case 'all':
      return true;
    case 'and':
      return node.children.every((c) => matches(c, metadata));
    case 'or':
      return node.children.some((c) => matches(c, metadata));
    case 'eq':
      return equals(valueAt(metadata, node.path), node.value);
    case 'ne':
      return !equals(valueAt(metadata, node.path), node.value);
    case 'in':
      return node.values.some((v) => equals(valueAt(metadata, node.path), v));
    case 'nin':
      return !node.values.some((v) => equals(valueAt(metadata, node.path), v));
    case 'range': {
      const v = valueAt(metadata, node.path);
      return typeof v === 'number' && compare(v, node.cmp, node.number);
    }
    case 'dateRange': {
      const t = instantOf(valueAt(metadata, node.path));
      return !Number.isNaN(t) && compare(t, node.cmp, instantOf(node.date));
    }
  }
}
