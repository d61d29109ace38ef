/**
 * The local store's filter compiler: a filter tree (retrieve/filter/tree.ts) to SQL over the
 * document's metadata JSON, with bound parameters only (no value ever enters the SQL text).
 * It must agree with the tree's `matches`; the store conformance suite checks it does.
 */
import type { Comparison, FilterNode, Scalar } from '../../retrieve/filter/tree.js';

export interface SqlFilter {
  sql: string;
  params: unknown[];
}

const SQL_COMPARE: Record<Comparison, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=' };

/** SQL over `metadataColumn` (a JSON text column) that is true for matching documents. */
export function compileFilterSql(node: FilterNode, metadataColumn = 'd.metadata'): SqlFilter {
  const params: unknown[] = [];
  const sql = compile(node, metadataColumn, params);
  return { sql, params };
}

function jsonPath(path: string[]): string {
  return '$.' + path.map((p) => `"${p}"`).join('.');
}

function compile(node: FilterNode, col: string, params: unknown[]): string {
  const extract = `json_extract(${col}, ?)`;
  switch (node.op) {
    case 'all':
      return '1';
    case 'and':
    case 'or':
      return `(${node.children.map((c) => `(${compile(c, col, params)})`).join(node.op === 'and' ? ' AND ' : ' OR ')})`;
    case 'eq':
      return eq(col, jsonPath(node.path), node.value, params);
    case 'ne':
      // A document without the field matches $ne (as in MongoDB): NULL counts as false.
      return `NOT COALESCE((${eq(col, jsonPath(node.path), node.value, params)}), 0)`;
    case 'in':
    case 'nin': {
      const path = jsonPath(node.path);
      const any = `(${node.values.map((v) => eq(col, path, v, params)).join(' OR ')})`;
      return node.op === 'in' ? any : `NOT COALESCE(${any}, 0)`;
    }
    case 'range': {
      const path = jsonPath(node.path);
      // Only numbers compare with numbers: SQLite would otherwise order text after every number.
      params.push(path, path, node.number);
      return `(json_type(${col}, ?) IN ('integer', 'real') AND ${extract} ${SQL_COMPARE[node.cmp]} ?)`;
    }
    case 'dateRange': {
      const path = jsonPath(node.path);
      // only text is a date: julianday() would read a stored number as a Julian day
      params.push(path, path, node.date);
      return `(json_type(${col}, ?) = 'text' AND julianday(${extract}) ${SQL_COMPARE[node.cmp]} julianday(?))`;
    }
  }
}

function eq(col: string, path: string, v: Scalar, params: unknown[]): string {
  // json_type tells a stored true from the number 1, and text from numbers, as `matches` does
  if (v === null) {
    params.push(path);
    return `json_extract(${col}, ?) IS NULL`;
  }
  if (typeof v === 'boolean') {
    params.push(path);
    return `json_type(${col}, ?) = '${v ? 'true' : 'false'}'`;
  }
  params.push(path, path, v);
  return typeof v === 'number' ? `(json_type(${col}, ?) IN ('integer', 'real') AND json_extract(${col}, ?) = ?)` : `(json_type(${col}, ?) = 'text' AND json_extract(${col}, ?) = ?)`;
}
