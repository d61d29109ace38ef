/**
 * The fuzz run's requests: malformed or hostile ones, from a seeded PRNG so a run can be
 * repeated exactly (BENCH_FUZZ_SEED), with some valid ones interleaved. Each case says what
 * the server must answer: `reject` (any 4xx), `accept` (2xx), or `either` (legal but odd
 * input: 2xx or 4xx, never a 5xx or a dropped connection).
 *
 * Valid requests never change a collection: searches, reads, and a re-upsert of the fuzz
 * collection's own documents (unchanged, so no new version). Write routes are only ever
 * aimed at the fuzz collection, and its write and admin keys cover nothing else.
 */
import { prng } from '../support.js';
import { SCIFACT } from './server.js';

export type Expect = 'reject' | 'accept' | 'either';

export interface FuzzCase {
  category: string;
  name: string;
  expect: Expect;
  method: string;
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  chunked?: boolean;
  /** Bytes written on a socket as they are (what node:http refuses to send). */
  raw?: string | Buffer;
  halfClose?: boolean;
  /** The client broke the request off itself: no answer is acceptable, a 5xx is not. */
  mayDrop?: boolean;
}

export interface FuzzKeys {
  /** read, every collection */
  readAll: string;
  /** read, only a collection that does not exist */
  readOther: string;
  /** write, only the fuzz collection */
  write: string;
  /** admin, only the fuzz collection */
  admin: string;
  /** a read key revoked before the run */
  revoked: string;
  /** admin, every collection: only ever sent with names that must be refused */
  adminAll: string;
  /** metrics scope, every collection (/metrics, /readyz detail) */
  metrics: string;
}

export const FUZZ_COLLECTION = 'bench-fuzz';
const F = FUZZ_COLLECTION;
const S = SCIFACT;

/** The fuzz collection's documents (re-upserting them is a valid request that changes nothing). */
export const FUZZ_DOCS = Array.from({ length: 8 }, (_, i) => ({
  id: `fz-${i}`,
  title: `Fuzz note ${i}`,
  text: `Fuzz note ${i}: order ORD-${1000 + i} was packed in warehouse ${['Hamburg', 'Lyon', 'Porto', 'Gdansk'][i % 4]} and shipped on day ${i + 1}.`,
  metadata: { n: i, site: ['Hamburg', 'Lyon', 'Porto', 'Gdansk'][i % 4], tags: ['fuzz', i % 2 ? 'odd' : 'even'] },
}));

/** Categories and their share of the run (weights, not counts). */
export const CATEGORY_WEIGHTS: Record<string, number> = {
  'bad-json': 1200,
  'wrong-types': 1400,
  'out-of-bounds': 1000,
  'unknown-fields': 700,
  filters: 900,
  'prototype-keys': 700,
  'path-tricks': 900,
  methods: 500,
  auth: 900,
  'content-type': 500,
  'oversized-body': 150,
  'raw-protocol': 250,
  edge: 400,
  'names-and-inputs': 500,
  valid: 500,
};

/**
 * Names of what quarry keeps in a data folder (or could: rotated logs, temporaries, staging
 * folders, other collections' deployment files): a collection may never be named so.
 */
export const RESERVED_NAMES = [
  'keys.json',
  'audit.log',
  'eval-baselines.json',
  'KEYS.JSON',
  'Audit.Log',
  'audit.log.1',
  'eval-baselines.json.tmp',
  `${SCIFACT}.creating-4242`,
  `${SCIFACT}@deploy.json`,
  `${SCIFACT}@deploy.lock`,
  `${SCIFACT}@judgments.json`,
  `${SCIFACT}@g2`,
  '.eval-history',
  '.deleted-x',
  'write.lock',
  'meta.sqlite',
  'x.jsonl',
];

/** Queries with nothing to search for once invisible and control characters are set aside. */
export const EMPTY_QUERIES = ['\u200b', '\u0000', '\u0001\u0002\u0003', '\ufeff', '\u2060\u200d\u200c', '\u3164', '\u00a0\u3000', '\u200b \u200b\t\u200b', '\u{e0041}'];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function makeGenerator(seed: number, keys: FuzzKeys, queries: string[]) {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const chance = (p: number) => rnd() < p;
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const word = (n = int(3, 10)) => Array.from({ length: n }, () => letters[int(0, 25)]).join('');
  const query = () => pick(queries);

  const auth = (k: string) => ({ authorization: `Bearer ${k}` });
  const jsonHeaders = (k: string) => ({ 'content-type': 'application/json', ...auth(k) });

  /** A valid body for each write-or-search route, and the key that may use it. */
  interface Route {
    name: string;
    method: string;
    path: string;
    key: string;
    body: () => Record<string, Json>;
  }
  const searchS: Route = { name: 'search scifact', method: 'POST', path: `/collections/${S}/search`, key: keys.readAll, body: () => ({ query: query(), k: int(1, 20), mode: pick(['vector', 'bm25', 'hybrid']) }) };
  const searchF: Route = { name: 'search fuzz', method: 'POST', path: `/collections/${F}/search`, key: keys.readAll, body: () => ({ query: `${word()} order`, k: 5, mode: pick(['vector', 'bm25', 'hybrid']) }) };
  const upsertF: Route = {
    name: 'upsert fuzz',
    method: 'POST',
    path: `/collections/${F}/documents`,
    key: keys.write,
    body: () => ({ documents: [{ id: `fz-new-${word()}`, text: `${word()} ${word()}`, metadata: { a: 1 } }] }),
  };
  const deleteF: Route = { name: 'delete docs fuzz', method: 'DELETE', path: `/collections/${F}/documents`, key: keys.write, body: () => ({ ids: ['fz-0'] }) };
  const rollbackF: Route = { name: 'rollback fuzz', method: 'POST', path: `/collections/${F}/rollback`, key: keys.write, body: () => ({ version: 1 }) };
  const createC: Route = { name: 'create collection', method: 'POST', path: '/collections', key: keys.admin, body: () => ({ name: F, chunkTokens: 128 }) };
  const evalF: Route = { name: 'evaluation fuzz', method: 'POST', path: `/collections/${F}/evaluations`, key: keys.admin, body: () => ({ dataset: 'scifact', modes: ['bm25'] }) };
  const bodyRoutes = [searchS, searchS, searchF, upsertF, deleteF, rollbackF, createC, evalF];

  const jsonCase = (category: string, name: string, expect: Expect, r: Route, body: string | Buffer, extra: Partial<FuzzCase> = {}): FuzzCase => ({
    category,
    name: `${r.name}: ${name}`,
    expect,
    method: r.method,
    path: r.path,
    headers: jsonHeaders(r.key),
    body,
    ...extra,
  });

  // --- bad JSON ----------------------------------------------------------------------------
  function badJson(): FuzzCase {
    const r = pick(bodyRoutes);
    const good = JSON.stringify(r.body());
    const v = int(0, 15);
    switch (v) {
      case 0:
        return jsonCase('bad-json', 'truncated', 'reject', r, good.slice(0, int(1, good.length - 1)));
      case 1:
        return jsonCase('bad-json', 'trailing comma', 'reject', r, good.replace(/}$/, ',}'));
      case 2:
        return jsonCase('bad-json', 'single quotes', 'reject', r, good.replace(/"/g, "'"));
      case 3:
        return jsonCase('bad-json', 'NaN', 'reject', r, good.replace(/}$/, ',"k":NaN}'));
      case 4:
        return jsonCase('bad-json', 'comment', 'reject', r, `/* hi */${good}`);
      case 5:
        return jsonCase('bad-json', 'empty body', 'reject', r, '');
      case 6:
        return jsonCase('bad-json', 'not an object', 'reject', r, pick(['null', '[]', '"query"', '123', 'true', '[{"query":"x"}]']));
      case 7:
        return jsonCase('bad-json', 'garbage after', 'reject', r, good + pick(['}', ']', 'x', '{}', '\u0000']));
      case 8:
        return jsonCase('bad-json', 'raw control character in a string', 'reject', r, good.replace(/"([^"]*)"/, '"$1\u0001\n"'));
      case 9:
        return jsonCase('bad-json', 'invalid UTF-8 outside strings', 'reject', r, Buffer.concat([Buffer.from('{'), Buffer.from([0xff, 0xfe, 0xc0]), Buffer.from(good.slice(1))]));
      case 10: {
        const depth = pick([1000, 5000, 20_000]);
        return jsonCase('bad-json', `nested arrays ${depth} deep`, 'reject', r, '['.repeat(depth) + ']'.repeat(depth));
      }
      case 11:
        return jsonCase('bad-json', '1e999 (Infinity)', 'reject', r, good.replace(/}$/, ',"k":1e999}'));
      case 12:
        return jsonCase('bad-json', 'unterminated string', 'reject', r, '{"query":"abc');
      case 13:
        return jsonCase('bad-json', 'lone brace', 'reject', r, pick(['{', '}', '{{}}', '{"":}', '{"query"}', '{query:"x"}']));
      case 14:
        return jsonCase('bad-json', 'hex number', 'reject', r, good.replace(/}$/, ',"k":0x10}'));
      default:
        return jsonCase('bad-json', 'only whitespace', 'reject', r, ' \n\t ');
    }
  }

  // --- wrong types -------------------------------------------------------------------------
  const wrongFor: Record<string, Json[]> = {
    string: [null, true, 1, [], {}, ['x']],
    integer: [null, true, '10', [], {}, 1.5, '1e3'],
    number: [null, true, '1', [], {}],
    boolean: [null, 1, 'true', [], {}, 0],
    object: [null, true, 1, 'x', [], [{}]],
    array: [null, true, 1, 'x', {}],
  };
  const searchFieldTypes: Array<[string, string]> = [
    ['query', 'string'],
    ['k', 'integer'],
    ['offset', 'integer'],
    ['mode', 'string'],
    ['filter', 'object'],
    ['minScore', 'number'],
    ['weights', 'object'],
    ['fusion', 'string'],
    ['rrfK', 'number'],
    ['window', 'integer'],
    ['bm25', 'object'],
    ['rerank', 'boolean'],
    ['rerankTopN', 'integer'],
    ['rerankWeight', 'number'],
    ['params', 'object'],
  ];
  function wrongTypes(): FuzzCase {
    const v = int(0, 9);
    if (v <= 4) {
      const r = pick([searchS, searchF]);
      const [field, type] = pick(searchFieldTypes);
      const value = pick(wrongFor[type]);
      return jsonCase('wrong-types', `${field} = ${JSON.stringify(value)}`, 'reject', r, JSON.stringify({ ...r.body(), [field]: value }));
    }
    if (v <= 6) {
      const which = int(0, 7);
      const doc: Record<string, Json> = { id: 'fz-x', text: 'x' };
      let body: Json;
      let name: string;
      switch (which) {
        case 0:
          body = { documents: pick(wrongFor.array) };
          name = 'documents not an array';
          break;
        case 1:
          body = { documents: [pick([null, 1, 'x', [], true])] };
          name = 'a document that is not an object';
          break;
        case 2:
          body = { documents: [{ ...doc, id: pick([null, 1, true, [], {}]) }] };
          name = 'id not a string';
          break;
        case 3:
          body = { documents: [{ ...doc, text: pick([null, 1, true, [], {}]) }] };
          name = 'text not a string';
          break;
        case 4:
          body = { documents: [{ ...doc, title: pick([null, 1, true, [], {}]) }] };
          name = 'title not a string';
          break;
        case 5:
          body = { documents: [{ ...doc, metadata: pick([null, 1, 'x', [], true]) }] };
          name = 'metadata not an object';
          break;
        case 6:
          body = { documents: [] };
          name = 'no documents';
          break;
        default:
          body = { documents: [{ ...doc, id: '' }] };
          name = 'empty id';
      }
      return jsonCase('wrong-types', name, 'reject', upsertF, JSON.stringify(body));
    }
    if (v === 7) {
      const body = pick<Json>([{ ids: 'fz-0' }, { ids: [1] }, { ids: [] }, { ids: [''] }, { ids: null }, { ids: [null] }, { id: 'fz-0' }]);
      return jsonCase('wrong-types', `delete ${JSON.stringify(body)}`, 'reject', deleteF, JSON.stringify(body));
    }
    if (v === 8) {
      const body = pick<Json>([{ version: '1' }, { version: 1.5 }, { version: null }, { version: true }, { version: 0 }, { version: -1 }, { version: [1] }, {}]);
      return jsonCase('wrong-types', `rollback ${JSON.stringify(body)}`, 'reject', rollbackF, JSON.stringify(body));
    }
    const body = pick<Json>([
      { name: 1 },
      { name: F, model: 5 },
      { name: F, chunkTokens: '256' },
      { name: F, chunkTokens: 1.5 },
      { name: F, chunkTokens: 7 },
      { name: F, overlapTokens: -1 },
      { name: F, index: 'flat' },
      { name: F, index: { type: 'bogus' } },
      { name: F, index: {} },
      { name: F, index: { type: 'ivf', params: { nlist: [1] } } },
      { name: F, index: { type: 'hnsw', recallFloor: 2 } },
      { name: '' },
      { name: '-x' },
      { model: 'x' },
    ]);
    if (chance(0.5)) return jsonCase('wrong-types', `create ${JSON.stringify(body)}`, 'reject', createC, JSON.stringify(body));
    const ebody = pick<Json>([
      { dataset: 1 },
      { dataset: 'scifact', modes: 'bm25' },
      { dataset: 'scifact', modes: ['bogus'] },
      { dataset: 'scifact', modes: [] },
      { dataset: 'scifact', modes: ['bm25', 'bm25'] },
      { dataset: 'scifact', k: 0 },
      { dataset: 'scifact', split: '../test' },
      { dataset: 'scifact', baseline: 'yes' },
      { dataset: '' },
    ]);
    return jsonCase('wrong-types', `evaluation ${JSON.stringify(ebody)}`, 'reject', evalF, JSON.stringify(ebody));
  }

  // --- out of bounds and huge strings --------------------------------------------------------
  function outOfBounds(): FuzzCase {
    const v = int(0, 19);
    if (v <= 11) {
      const r = pick([searchS, searchF]);
      const over: Array<[string, Json]> = [
        ['query', 'q'.repeat(pick([2049, 4096, int(2049, 60_000)]))],
        ['query', '🦀'.repeat(2049)],
        ['k', pick([0, -1, 1001, 1e6, 2 ** 53])],
        ['offset', pick([-1, 10_001, 1e9])],
        ['window', pick([0, 10_001])],
        ['rrfK', pick([-1, 1e7])],
        ['minScore', pick([2e9, -2e9])],
        ['rerankTopN', pick([0, 1001])],
        ['rerankWeight', pick([1.1, -0.1])],
        ['weights', pick<Json>([{ vector: 1001 }, { bm25: -1 }])],
        ['bm25', pick<Json>([{ k1: 11 }, { b: 1.5 }, { b: -0.1 }])],
        ['params', pick<Json>([{ nprobe: 0 }, { efSearch: 100_001 }, { refine: -1 }, { nprobe: 1e7 }])],
        ['filter', Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`f${i}`, i]))],
        ['mode', 'v'.repeat(10_000)],
      ];
      const [field, value] = pick(over);
      const label = typeof value === 'string' ? `${field} of ${value.length} chars` : `${field} = ${JSON.stringify(value).slice(0, 60)}`;
      return jsonCase('out-of-bounds', label, 'reject', r, JSON.stringify({ ...r.body(), [field]: value }));
    }
    if (v <= 16) {
      const which = int(0, 6);
      let body: Json;
      let name: string;
      switch (which) {
        case 0:
          body = { documents: [{ id: 'i'.repeat(int(1025, 20_000)), text: 'x' }] };
          name = 'document id over its bound';
          break;
        case 1:
          body = { documents: [{ id: 'fz-t', text: 'x', title: 't'.repeat(2001) }] };
          name = 'title of 2001 chars';
          break;
        case 2:
          body = { documents: [{ id: 'fz-m', text: 'x', metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}`, i])) }] };
          name = 'metadata with 65 fields';
          break;
        case 3:
          body = { documents: Array.from({ length: 1001 }, (_, i) => ({ id: `d${i}`, text: '' })) };
          name = '1001 documents';
          break;
        case 4:
          // about 5 MB of body, parsed then refused: kept rare
          if (chance(0.15)) {
            body = { documents: [{ id: 'fz-big', text: 'w '.repeat(2_500_001) }] };
            name = 'text of 5,000,002 chars';
          } else {
            return jsonCase(
              'out-of-bounds',
              'deep metadata plus an unknown field',
              'reject',
              upsertF,
              `{"documents":[{"id":"fz-m","text":"x","bogus":1,"metadata":{"deep":${nestObjectText(int(100, 2000))}}}]}`,
            );
          }
          break;
        case 5:
          return jsonCase('out-of-bounds', 'delete 10,001 ids', 'reject', deleteF, JSON.stringify({ ids: Array.from({ length: 10_001 }, (_, i) => `${i}`) }));
        default:
          return jsonCase('out-of-bounds', 'rollback to a version that does not exist', 'reject', rollbackF, JSON.stringify({ version: pick([999_999, 2 ** 53 - 1]) }));
      }
      return jsonCase('out-of-bounds', name, 'reject', upsertF, JSON.stringify(body));
    }
    const body = pick<Json>([
      { name: 'n'.repeat(65) },
      { name: F, chunkTokens: 8193 },
      { name: F, overlapTokens: 4097 },
      { name: F, model: 'm'.repeat(201) },
      { name: F, index: { type: 'ivf', params: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`p${i}`, i])) } },
    ]);
    if (chance(0.6)) return jsonCase('out-of-bounds', `create ${JSON.stringify(body).slice(0, 60)}`, 'reject', createC, JSON.stringify(body));
    const e = pick<Json>([{ dataset: 'd'.repeat(1025) }, { dataset: 'scifact', limitQueries: 0 }, { dataset: 'scifact', k: 101 }]);
    return jsonCase('out-of-bounds', `evaluation ${JSON.stringify(e).slice(0, 60)}`, 'reject', evalF, JSON.stringify(e));
  }

  /** `{"a":{"a":...1...}}` as text (JSON.stringify would overflow the stack at these depths). */
  function nestObjectText(depth: number): string {
    return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  }
  /** A JSON body with `text` spliced in as the value of `field`. */
  function splice(body: Record<string, Json>, field: string, text: string): string {
    return JSON.stringify({ ...body, [field]: '\u0000splice' }).replace('"\\u0000splice"', () => text);
  }

  // --- unknown fields ----------------------------------------------------------------------
  function unknownFields(): FuzzCase {
    const extra = pick(['bogus', 'Query', 'q', '$where', 'k ', 'collection', 'admin', 'limit', 'top_k', '']);
    const v = int(0, 5);
    if (v <= 2) {
      const r = pick([searchS, searchF]);
      const b = r.body();
      const where = pick(['top', 'weights', 'bm25', 'params']);
      if (where === 'top') b[extra] = 1;
      else b[where] = where === 'weights' ? { vector: 1, [extra]: 1 } : where === 'bm25' ? { k1: 1.2, [extra]: 1 } : { nprobe: 4, [extra]: 1 };
      return jsonCase('unknown-fields', `"${extra}" in ${where}`, 'reject', r, JSON.stringify(b));
    }
    if (v === 3) {
      const inDoc = chance(0.5);
      const body = inDoc ? { documents: [{ id: 'fz-u', text: 'x', [extra]: 1 }] } : { documents: [{ id: 'fz-u', text: 'x' }], [extra]: 1 };
      return jsonCase('unknown-fields', `"${extra}" in ${inDoc ? 'a document' : 'the body'}`, 'reject', upsertF, JSON.stringify(body));
    }
    if (v === 4) {
      const r = pick([deleteF, rollbackF]);
      return jsonCase('unknown-fields', `"${extra}"`, 'reject', r, JSON.stringify({ ...r.body(), [extra]: true }));
    }
    const r = pick([createC, evalF]);
    const b = r.body();
    if (r === createC && chance(0.5)) b.index = { type: 'flat', [extra]: 1 };
    else b[extra] = 1;
    return jsonCase('unknown-fields', `"${extra}"`, 'reject', r, JSON.stringify(b));
  }

  // --- filters -------------------------------------------------------------------------------
  /** `{"$and":[{"$or":[...{"n":1}...]}]}` as text. */
  function nestedAndText(depth: number): string {
    const ops = Array.from({ length: depth - 1 }, () => pick(['$and', '$or']));
    return ops.map((op) => `{"${op}":[`).join('') + '{"n":1}' + ']}'.repeat(depth - 1);
  }
  function filters(): FuzzCase {
    const r = pick([searchS, searchF]);
    const v = int(0, 12);
    let filter: Json = null;
    let filterText: string | undefined;
    let name: string;
    let expect: Expect = 'reject';
    switch (v) {
      case 0:
      case 1: {
        // n operators nested below the top-level object; quarry allows 8 (docs/server.md)
        const n = pick([8, 9, 12, 50, 500, 3000]);
        filterText = nestedAndText(n + 1);
        name = `$and/$or nested ${n} levels`;
        if (n <= 8) expect = 'accept';
        break;
      }
      case 2: {
        const op = pick(['$where', '$regex', '$expr', '$function', '$text', '$jsonSchema', '$', '$$x', '$not', '$elemMatch', '$size', '$mod']);
        filter = { site: { [op]: pick<Json>(['x', 1, {}, ['a'], 'function(){return true}']) } };
        name = `operator ${op}`;
        break;
      }
      case 3:
        filter = { site: { $in: Array.from({ length: 1001 }, (_, i) => `v${i}`) } };
        name = '$in with 1001 values';
        break;
      case 4:
        filter = { site: { [pick(['$in', '$nin'])]: pick<Json>(['Hamburg', 1, {}, null]) } };
        name = '$in not an array';
        break;
      case 5:
        filter = { n: { [pick(['$gt', '$gte', '$lt', '$lte'])]: pick<Json>(['abc', {}, [], null, true, '2024-13-45']) } };
        name = 'range on a value that is neither number nor date';
        break;
      case 6:
        filter = { [pick(['$and', '$or'])]: pick<Json>(['x', 1, {}, [1, 2], [null], [[]]]) };
        name = '$and/$or not a list of filters';
        break;
      case 7:
        filter = { site: { $gt: 1, $bogus: 2 } };
        name = 'known and unknown operator together';
        break;
      case 8:
        // plain nested objects: an equality on an object value, or refused; never a crash
        filterText = nestObjectText(pick([3, 9, 100, 2000]));
        name = 'nested plain objects';
        expect = 'either';
        break;
      case 9:
        filter = { [pick(['', ' ', '.', '..', 'a..b', 'a.', '.a', 'x'.repeat(5000), '\u0000', 'é.ü', '$'])]: 1 };
        name = 'odd field name';
        expect = 'either';
        break;
      case 10:
        filter = { site: 'v'.repeat(int(1000, 60_000)) };
        name = 'huge equality value';
        expect = 'either';
        break;
      case 11:
        filter = { [pick(['$and', '$or'])]: [] };
        name = 'empty $and/$or';
        expect = 'either';
        break;
      default:
        filter = { site: { $in: [] } };
        name = 'empty $in';
        expect = 'either';
    }
    const body = filterText !== undefined ? splice(r.body(), 'filter', filterText) : JSON.stringify({ ...r.body(), filter });
    return jsonCase('filters', name, body.length > 64 * 1024 ? 'reject' : expect, r, body);
  }

  // --- prototype keys -------------------------------------------------------------------------
  function prototypeKeys(): FuzzCase {
    const v = int(0, 13);
    const q = JSON.stringify(query());
    const pollute = '{"fuzzPolluted":true,"isAdmin":true}';
    const cases: Array<[string, Route, string, Expect]> = [
      ['__proto__ at the top', searchS, `{"query":${q},"__proto__":${pollute}}`, 'reject'],
      ['only __proto__', searchS, `{"__proto__":{"query":${q}}}`, 'reject'],
      ['constructor.prototype', searchS, `{"query":${q},"constructor":{"prototype":${pollute}}}`, 'reject'],
      ['escaped \\u005f\\u005fproto__', searchS, `{"query":${q},"\\u005f\\u005fproto__":${pollute}}`, 'reject'],
      ['__proto__ in filter', searchS, `{"query":${q},"filter":{"__proto__":${pollute}}}`, 'reject'],
      ['__proto__ in weights', searchS, `{"query":${q},"mode":"hybrid","weights":{"__proto__":{"vector":5}}}`, 'reject'],
      ['__proto__ in metadata', upsertF, `{"documents":[{"id":"fz-p","text":"t","metadata":{"__proto__":${pollute}}}]}`, 'reject'],
      ['constructor.prototype in metadata', upsertF, `{"documents":[{"id":"fz-p","text":"t","metadata":{"constructor":{"prototype":${pollute}}}}]}`, 'reject'],
      ['__proto__ in a document', upsertF, `{"documents":[{"id":"fz-p","text":"t","__proto__":${pollute}}]}`, 'reject'],
      ['__proto__ in create', createC, `{"name":"fz-proto","__proto__":${pollute}}`, 'reject'],
      ['__proto__ in index params', createC, `{"name":"${F}","index":{"type":"ivf","params":{"__proto__":{"nlist":1}}}}`, 'reject'],
      // legal: filters on fields that happen to be Object.prototype names; must match nothing special
      ['filter on an Object.prototype name', searchS, `{"query":${q},"filter":{"${pick(['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__'])}":${pick(['"x"', '1', '{"$gt":0}', '{"$in":["a"]}', '{"$ne":null}'])}}}`, 'either'],
      ['dotted path through __proto__', searchS, `{"query":${q},"filter":{"${pick(['__proto__.fuzzPolluted', 'a.__proto__.b', 'constructor.prototype.x', 'tags.__proto__'])}":true}}`, 'either'],
      ['__proto__ as a document id', upsertF, `{"documents":[{"id":"__proto__","text":"t","bogus":1}]}`, 'reject'],
    ];
    const [name, r, body, expect] = cases[v];
    return jsonCase('prototype-keys', name, expect, r, body);
  }

  // --- path tricks ----------------------------------------------------------------------------
  function pathTricks(): FuzzCase {
    const names = [
      '..%2f..%2fetc',
      '..%2F..%2F..%2Fetc%2Fpasswd',
      '%2e%2e',
      '%2e',
      '.%2e',
      `${S}%2f..%2f..%2fkeys.json`,
      `${S}%00`,
      '%00',
      `a%00b`,
      '%ZZ',
      '%c0%ae%c0%ae',
      '%E2%80%AEabc',
      'b%C3%A9ir',
      'a'.repeat(65),
      'a'.repeat(101),
      'a'.repeat(int(1000, 6000)),
      `${S}%20`,
      '%20',
      `-${S}`,
      `${S}%0d%0aX-Injected:%201`,
      '~root',
      '%252e%252e',
    ];
    const v = int(0, 10);
    const name = pick(names);
    if (v === 10) {
      // evaluation datasets must stay inside the server's datasets root (bench/serve/fuzz.ts
      // puts one symbolic link there, "escape", pointing out of it)
      const [dataset, expect] = pick<[string, Expect]>([
        ['../../etc', 'reject'],
        ['..', 'reject'],
        ['/etc', 'reject'],
        ['/work', 'reject'],
        ['escape', 'reject'],
        ['escape/scifact', 'reject'],
        ['scifact/../../..', 'reject'],
        ['no-such-dataset', 'reject'],
        ['%2e%2e', 'reject'],
        ['..\\..\\windows', 'reject'],
        // the root itself holds no dataset: refused, or a job that fails; never a 5xx
        ['.', 'either'],
      ]);
      return {
        category: 'path-tricks',
        name: `evaluation dataset ${JSON.stringify(dataset)}`,
        expect,
        method: 'POST',
        path: `/collections/${F}/evaluations`,
        headers: jsonHeaders(keys.admin),
        body: JSON.stringify({ dataset, modes: ['bm25'], limitQueries: 1 }),
      };
    }
    if (v <= 3) return { category: 'path-tricks', name: `GET /collections/${name.slice(0, 40)}`, expect: 'reject', method: 'GET', path: `/collections/${name}`, headers: auth(keys.readAll) };
    if (v <= 5) {
      const sub = pick(['search', 'versions', 'evaluations']);
      const method = sub === 'search' ? 'POST' : 'GET';
      return {
        category: 'path-tricks',
        name: `${method} /collections/${name.slice(0, 40)}/${sub}`,
        expect: 'reject',
        method,
        path: `/collections/${name}/${sub}`,
        headers: jsonHeaders(keys.readAll),
        ...(method === 'POST' ? { body: JSON.stringify(searchS.body()) } : {}),
      };
    }
    if (v === 6) {
      const method = pick(['POST', 'DELETE']);
      const sub = pick(['documents', 'rollback', '']);
      return {
        category: 'path-tricks',
        name: `${method} write route on /collections/${name.slice(0, 40)}`,
        expect: 'reject',
        method,
        path: `/collections/${name}${sub ? `/${sub}` : ''}`,
        headers: jsonHeaders(pick([keys.write, keys.admin])),
        body: JSON.stringify(sub === 'documents' ? { documents: [{ id: 'x', text: 'x' }] } : sub === 'rollback' ? { version: 1 } : {}),
      };
    }
    const odd = pick([
      `/collections/${S}/search/`,
      `/collections/${S}/search%2f`,
      '/collections//search',
      `//collections/${S}/search`,
      `/./collections/${S}/search`,
      `/collections/${S}/../../healthz`,
      `/collections/${S}/evaluations/..%2f..%2fkeys`,
      `/collections/${S}/evaluations/${'0'.repeat(16)}`,
      `/collections/${S}/evaluations/ABCDEF0123456789`,
      `/COLLECTIONS/${S}/search`,
      `/collections/${S};x=1/search`,
      '/%2e%2e/%2e%2e/etc/passwd',
      '/metrics/../healthz',
      '/metrics%00',
      '/openapi.json/../keys.json',
      `/collections/no-such-collection-${word()}/search`,
      `/collections/${S}/search?${'x'.repeat(int(100, 8000))}`,
      '/' + 'x/'.repeat(int(10, 3000)),
      '/collections/' + encodeURIComponent('../../etc/passwd'),
      `/collections/${S}/documents`,
    ]);
    // a POST with a valid search body on every path: a path that routes to search anyway is the only 2xx
    const routesToSearch = odd.startsWith(`/collections/${S}/search?`);
    return {
      category: 'path-tricks',
      name: `POST ${odd.slice(0, 60)}`,
      expect: routesToSearch ? 'either' : 'reject',
      method: 'POST',
      path: odd,
      headers: jsonHeaders(keys.readAll),
      body: JSON.stringify(searchS.body()),
    };
  }

  // --- wrong methods -------------------------------------------------------------------------
  function methods(): FuzzCase {
    const combos: Array<[string, string, string]> = [
      ['GET', `/collections/${S}/search`, keys.readAll],
      ['PUT', `/collections/${S}/search`, keys.readAll],
      ['PATCH', `/collections/${S}/search`, keys.readAll],
      ['DELETE', `/collections/${S}/search`, keys.readAll],
      ['HEAD', `/collections/${S}/search`, keys.readAll],
      ['OPTIONS', `/collections/${S}/search`, keys.readAll],
      ['PUT', '/collections', keys.admin],
      ['PATCH', `/collections/${F}`, keys.admin],
      ['PUT', `/collections/${F}/documents`, keys.write],
      ['GET', `/collections/${F}/documents`, keys.write],
      ['GET', `/collections/${F}/rollback`, keys.write],
      ['POST', '/healthz', keys.readAll],
      ['DELETE', '/healthz', keys.readAll],
      ['POST', '/readyz', keys.readAll],
      ['POST', '/metrics', keys.readAll],
      ['PUT', '/openapi.json', keys.readAll],
      ['TRACE', '/', keys.readAll],
      ['PROPFIND', `/collections/${S}`, keys.readAll],
      ['MKCOL', `/collections/${F}x`, keys.admin],
      ['POST', `/collections/${S}/versions`, keys.readAll],
      ['DELETE', `/collections/${F}/versions`, keys.admin],
      ['POST', `/collections/${S}`, keys.readAll],
    ];
    const [method, path, k] = pick(combos);
    return {
      category: 'methods',
      name: `${method} ${path}`,
      expect: 'reject',
      method,
      path,
      headers: jsonHeaders(k),
      ...(method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS' && method !== 'TRACE' ? { body: JSON.stringify(searchS.body()) } : {}),
    };
  }

  // --- keys ------------------------------------------------------------------------------------
  function authCases(): FuzzCase {
    const target = pick([
      { method: 'POST', path: `/collections/${S}/search`, body: JSON.stringify(searchS.body()) },
      { method: 'GET', path: `/collections/${S}` },
      { method: 'GET', path: '/collections' },
      { method: 'GET', path: '/metrics' },
      { method: 'GET', path: '/readyz' },
      { method: 'GET', path: '/openapi.json' },
      { method: 'POST', path: `/collections/${F}/documents`, body: JSON.stringify({ documents: [{ id: 'fz-a', text: 'x' }] }) },
      { method: 'DELETE', path: `/collections/${F}`, body: undefined },
      { method: 'DELETE', path: `/collections/${S}`, body: undefined },
      { method: 'POST', path: `/collections/${F}/rollback`, body: JSON.stringify({ version: 1 }) },
    ]);
    const wrongSecret = keys.readAll.replace(/_([0-9a-f]{64})$/, (_m, s: string) => `_${s.slice(0, 63)}${s.endsWith('0') ? '1' : '0'}`);
    const v = int(0, 15);
    let h: Record<string, string | string[]>;
    let name: string;
    switch (v) {
      case 0:
        h = {};
        name = 'no Authorization';
        break;
      case 1:
        h = { authorization: '' };
        name = 'empty Authorization';
        break;
      case 2:
        h = { authorization: pick(['Bearer', 'Bearer ', 'Bearer  ', 'bearer']) };
        name = 'Bearer without a key';
        break;
      case 3:
        h = { authorization: pick(['Basic dXNlcjpwYXNz', 'Token abc', 'Digest x', `Basic ${Buffer.from(keys.readAll).toString('base64')}`]) };
        name = 'another scheme';
        break;
      case 4:
        h = auth(wrongSecret);
        name = 'right id, wrong secret';
        break;
      case 5:
        h = auth(`qk_${'0'.repeat(12)}_${'0'.repeat(64)}`);
        name = 'well-formed unknown key';
        break;
      case 6:
        h = auth('k'.repeat(int(201, 8000)));
        name = 'key too long';
        break;
      case 7:
        h = auth(keys.revoked);
        name = 'revoked key';
        break;
      case 8:
        h = auth(`${keys.readAll}${pick(['x', '0', ' extra', '_0'])}`);
        name = 'key with something after it';
        break;
      case 9:
        h = auth(keys.readOther);
        name = 'key for another collection';
        break;
      case 10:
        h = auth(keys.readAll);
        name = 'read key';
        break;
      case 11:
        h = auth(keys.write);
        name = 'write key (fuzz collection only)';
        break;
      case 12:
        h = { authorization: [`Bearer qk_${'1'.repeat(12)}_${'2'.repeat(64)}`, `Bearer ${keys.readAll}`] };
        name = 'two Authorization headers, the first unknown';
        break;
      case 13:
        h = { 'x-api-key': keys.readAll };
        name = 'key in another header';
        break;
      case 14:
        h = auth(keys.readAll.toUpperCase());
        name = 'key upper-cased';
        break;
      default:
        h = auth(`qk_${keys.readAll.slice(3, 15)}_${'g'.repeat(64)}`);
        name = 'right id, secret not hex';
    }
    // which of these may pass: a valid key on a route its scope and collections allow
    const readRoute = (target.method === 'GET' || target.path.endsWith('/search')) && target.path !== '/metrics';
    let expect: Expect = 'reject';
    if (v === 10 && readRoute) expect = 'accept';
    // routes that name no collection (listing, /readyz, /openapi.json) need only the read scope; /metrics needs admin or metrics
    if (v === 9 && readRoute && !target.path.startsWith('/collections/')) expect = 'accept';
    if (v === 11 && (readRoute && !target.path.includes(S) ? true : target.path === `/collections/${F}/documents`)) expect = 'accept';
    // /readyz needs no key for its bare status; a key that is sent must be valid
    if (target.path === '/readyz' && (v === 0 || v === 1 || v === 13)) expect = 'accept';
    if (v === 11 && target.path === `/collections/${F}/rollback`) expect = 'accept';
    if (expect === 'accept') {
      // keep valid writes from changing anything: re-upsert an existing document unchanged
      if (target.path === `/collections/${F}/documents`) target.body = JSON.stringify({ documents: [FUZZ_DOCS[0]] });
      // a rollback makes a new version: turn it into one that is refused
      if (target.path === `/collections/${F}/rollback`) {
        target.body = JSON.stringify({ version: 999_999 });
        expect = 'reject';
      }
    }
    const withKeyInQuery = v === 0 && chance(0.3);
    return {
      category: 'auth',
      name: `${target.method} ${target.path.replace(S, 'S').replace(F, 'F')}: ${name}${withKeyInQuery ? ' (key in the query string)' : ''}`,
      expect,
      method: target.method,
      path: withKeyInQuery ? `${target.path}?api_key=${keys.readAll}&access_token=${keys.readAll}` : target.path,
      headers: { ...(target.body !== undefined ? { 'content-type': 'application/json' } : {}), ...h },
      ...(target.body !== undefined ? { body: target.body } : {}),
    };
  }

  // --- content types ---------------------------------------------------------------------------
  function contentTypes(): FuzzCase {
    const r = pick([searchS, searchS, upsertF, rollbackF]);
    const body = r === upsertF ? JSON.stringify({ documents: [FUZZ_DOCS[1]] }) : r === rollbackF ? JSON.stringify({ version: 999_999 }) : JSON.stringify(r.body());
    const reject = [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=----x',
      'application/xml',
      'text/json',
      'application/jsonp',
      'application/json-patch+json',
      'application/octet-stream',
      'image/png',
      '*/*',
      'json',
      'application/',
    ];
    const odd = ['APPLICATION/JSON', 'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'application/json; foo=bar', 'application/json ; charset=utf-8'];
    const v = int(0, 9);
    if (v <= 5) {
      const ct = pick(reject);
      return { ...jsonCase('content-type', `"${ct}"`, 'reject', r, body), headers: { 'content-type': ct, authorization: `Bearer ${r.key}` } };
    }
    if (v === 6) return { ...jsonCase('content-type', 'no content-type', 'reject', r, body), headers: { authorization: `Bearer ${r.key}` } };
    if (v === 7) {
      return { ...jsonCase('content-type', 'UTF-16 body declared as JSON', 'reject', r, Buffer.from('\ufeff' + body, 'utf16le')) };
    }
    if (v === 8) return { ...jsonCase('content-type', 'form-encoded body declared as JSON', 'reject', r, `query=${encodeURIComponent(query())}&k=5`) };
    // spelled oddly but JSON: accepted or refused, never a crash; the rollback to 999999 is refused either way
    const ct = pick(odd);
    return { ...jsonCase('content-type', `"${ct}"`, r === rollbackF ? 'reject' : 'either', r, body), headers: { 'content-type': ct, authorization: `Bearer ${r.key}` } };
  }

  // --- oversized bodies -------------------------------------------------------------------------
  function oversized(): FuzzCase {
    const v = int(0, 9);
    const pad = (n: number) => JSON.stringify({ ...searchS.body(), filter: { site: 'p'.repeat(n) } });
    if (v <= 3) return jsonCase('oversized-body', 'search body over 64 KB', 'reject', searchS, pad(int(65 * 1024, 200 * 1024)));
    if (v === 4) return jsonCase('oversized-body', 'search body of 1 MB', 'reject', searchS, pad(1024 * 1024));
    if (v === 5) return jsonCase('oversized-body', 'search body over 64 KB, chunked (no Content-Length)', 'reject', searchS, pad(int(70 * 1024, 300 * 1024)), { chunked: true });
    if (v === 6) return jsonCase('oversized-body', 'rollback body of 100 KB (whitespace)', 'reject', rollbackF, `{"version":999999${' '.repeat(100 * 1024)}}`);
    if (v === 7) return jsonCase('oversized-body', 'delete body over 1 MB', 'reject', deleteF, JSON.stringify({ ids: Array.from({ length: 9000 }, (_, i) => `id-${i}-${'x'.repeat(120)}`) }));
    if (v === 8) {
      const n = 11 * 1024 * 1024;
      return jsonCase('oversized-body', 'documents body of 11 MB', 'reject', upsertF, JSON.stringify({ documents: [{ id: 'fz-huge', text: 'h'.repeat(n) }] }), { chunked: chance(0.5) });
    }
    return {
      ...jsonCase('oversized-body', 'Content-Length says 200 MB', 'reject', searchS, ''),
      raw: `POST /collections/${S}/search HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${keys.readAll}\r\nContent-Type: application/json\r\nContent-Length: 209715200\r\n\r\n{"query":"x"`,
    };
  }

  // --- raw protocol ------------------------------------------------------------------------------
  function rawProtocol(): FuzzCase {
    const host = 'Host: 127.0.0.1\r\n';
    const key = `Authorization: Bearer ${keys.readAll}\r\n`;
    const body = JSON.stringify(searchS.body());
    const cases: Array<[string, string, Expect, boolean?]> = [
      ['garbage request line', `${pick(['HELLO', 'GET', '\u0000\u0001\u0002', 'GET / HTTP/1.1 extra', '/healthz'])}\r\n\r\n`, 'reject'],
      ['HTTP/9.9', `GET /readyz HTTP/9.9\r\n${host}\r\n`, 'reject'],
      ['HTTP/1.1 without Host', `GET /readyz HTTP/1.1\r\n${key}\r\n`, 'reject'],
      ['NUL in a header value', `GET /readyz HTTP/1.1\r\n${host}X-Bad: a\u0000b\r\n\r\n`, 'reject'],
      ['header block over 16 KB', `GET /readyz HTTP/1.1\r\n${host}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 'reject'],
      ['Content-Length and chunked together', `POST /collections/${S}/search HTTP/1.1\r\n${host}${key}Content-Type: application/json\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`, 'reject'],
      ['Content-Length not a number', `POST /collections/${S}/search HTTP/1.1\r\n${host}${key}Content-Type: application/json\r\nContent-Length: ${pick(['abc', '-1', '1e3', '0x10', '99999999999999999999'])}\r\n\r\n${body}`, 'reject'],
      ['two different Content-Lengths', `POST /collections/${S}/search HTTP/1.1\r\n${host}${key}Content-Type: application/json\r\nContent-Length: ${body.length}\r\nContent-Length: 3\r\n\r\n${body}`, 'reject'],
      ['bad chunk size', `POST /collections/${S}/search HTTP/1.1\r\n${host}${key}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${body}\r\n0\r\n\r\n`, 'reject'],
      ['space in the path', `GET /coll ections HTTP/1.1\r\n${host}\r\n`, 'reject'],
      // /readyz needs no key (its bare status): the keyless cases aim at /collections
      ['absolute-form URL to another host, no key', `GET http://evil.example/collections HTTP/1.1\r\nHost: evil.example\r\n\r\n`, 'reject'],
      ['lower-case method', `get /readyz HTTP/1.1\r\n${host}${key}\r\n`, 'reject'],
      ['space in a header name', `GET /readyz HTTP/1.1\r\n${host}Bad Header: x\r\n${key}\r\n`, 'reject'],
      ['obsolete folded header', `GET /readyz HTTP/1.1\r\n${host}X-Fold: a\r\n  b\r\n${key}\r\n`, 'reject'],
      ['unknown method', `FOO /readyz HTTP/1.1\r\n${host}${key}\r\n`, 'reject'],
      ['HTTP/1.0 without a key', `GET /collections HTTP/1.0\r\n\r\n`, 'reject'],
      ['CR in the path', `GET /read\ryz HTTP/1.1\r\n${host}\r\n`, 'reject'],
      ['request line of 100 KB', `GET /${'a'.repeat(100_000)} HTTP/1.1\r\n${host}\r\n`, 'reject'],
      // the client stops mid-body and half-closes: an answer is optional, a crash is not
      ['body shorter than Content-Length, then EOF', `POST /collections/${S}/search HTTP/1.1\r\n${host}${key}Content-Type: application/json\r\nContent-Length: ${body.length + 50}\r\n\r\n${body}`, 'either', true],
    ];
    const [name, raw, expect, halfClose] = pick(cases);
    return { category: 'raw-protocol', name, expect, method: 'RAW', path: '', raw: Buffer.from(raw, 'latin1'), ...(halfClose ? { halfClose, mayDrop: true } : {}) };
  }

  // --- legal but odd ------------------------------------------------------------------------------
  function edge(): FuzzCase {
    const r = pick([searchS, searchF]);
    const b = r.body();
    const odd: Array<[string, Record<string, Json>]> = [
      ['query with a NUL character', { query: `abc\u0000def ${word()}` }],
      ['query of a lone surrogate', { query: pick(['\ud800', '\udfff x', 'a\ud83e']) }],
      ['query of emoji', { query: '🦀🔥'.repeat(int(1, 600)) }],
      ['query of exactly 2048 characters', { query: 'z'.repeat(2048) }],
      ['query of whitespace', { query: pick([' ', '\t\n', '\u00a0\u2003', '\u200b']) }],
      ['query of punctuation', { query: pick(['!!!', '"""', '\\\\', '%00', '*', '?', '...', '---']) }],
      ['query of special tokens', { query: pick(['[CLS] [SEP]', '[PAD][PAD][MASK]', '[UNK]', '<s></s>', '<|endoftext|>']) }],
      ['right-to-left and combining marks', { query: 'שלום עולם مرحبا ́́́́ a\u0301\u0302\u0303' }],
      ['query of 2048 distinct rare words', { query: Array.from({ length: 400 }, () => word(4)).join(' ').slice(0, 2048) }],
      ['k = 1000', { k: 1000 }],
      ['offset = 10000', { offset: 10_000, k: 10 }],
      ['window = 10000, hybrid', { window: 10_000, mode: 'hybrid' }],
      ['both weights 0', { mode: 'hybrid', weights: { vector: 0, bm25: 0 } }],
      ['rrfK = 0', { mode: 'hybrid', fusion: 'rrf', rrfK: 0 }],
      ['minScore = 1e9', { minScore: 1e9 }],
      ['minScore = -1e9', { minScore: -1e9 }],
      ['bm25 k1 = 0, b = 0', { mode: 'bm25', bm25: { k1: 0, b: 0 } }],
      ['index params on a flat index', { params: { nprobe: 1_000_000, efSearch: 100_000, refine: 100_000 } }],
      ['filter on a field no document has', { filter: { nosuchfield: { $in: ['a', 'b'] } } }],
      ['filter with an ISO date range', { filter: { n: { $gte: '2024-01-01', $lt: '2024-12-31T23:59:59Z' } } }],
      ['k = 1 and offset = 9999 (past the end)', { k: 1, offset: 9999, mode: 'bm25' }],
    ];
    const [name, patch] = pick(odd);
    return jsonCase('edge', name, 'either', r, JSON.stringify({ ...b, ...patch }));
  }

  // --- valid requests -----------------------------------------------------------------------------
  function valid(): FuzzCase {
    const v = int(0, 13);
    if (v <= 5) return jsonCase('valid', 'search', 'accept', searchS, JSON.stringify(searchS.body()));
    if (v === 6) return jsonCase('valid', 'search', 'accept', searchF, JSON.stringify(searchF.body()));
    if (v === 7) return jsonCase('valid', 're-upsert of unchanged documents', 'accept', upsertF, JSON.stringify({ documents: FUZZ_DOCS.slice(0, int(1, FUZZ_DOCS.length)) }));
    if (v === 8) return { ...jsonCase('valid', 'search with "bearer" in lower case', 'accept', searchS, JSON.stringify(searchS.body())), headers: { 'content-type': 'application/json', authorization: `bearer ${keys.readAll}` } };
    const get = pick([`/collections/${S}`, `/collections/${S}/versions`, '/collections', '/readyz', '/healthz', `/collections/${F}`, `/collections/${F}/evaluations`, `/collections/${F}/versions`]);
    return { category: 'valid', name: `GET ${get.replace(S, 'S').replace(F, 'F')}`, expect: 'accept', method: 'GET', path: get, headers: auth(keys.readAll) };
  }

  // --- names and inputs (issue 14) -----------------------------------------------------------
  function namesAndInputs(): FuzzCase {
    const v = int(0, 7);
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    if (v === 0) {
      const name = pick(RESERVED_NAMES);
      return { category: 'names-and-inputs', name: `create a collection named ${name}`, expect: 'reject', method: 'POST', path: '/collections', headers: jsonHeaders(keys.adminAll), body: JSON.stringify({ name, chunkTokens: 128 }) };
    }
    if (v === 1) {
      const name = pick(RESERVED_NAMES);
      const sub = pick(['', '/search', '/card', '/versions', '/generations', '/stats', '/evaluations/history']);
      const method = sub === '/search' ? 'POST' : 'GET';
      return {
        category: 'names-and-inputs',
        name: `${method} /collections/${name}${sub}`,
        expect: 'reject',
        method,
        path: `/collections/${encodeURIComponent(name)}${sub}`,
        headers: method === 'POST' ? jsonHeaders(keys.adminAll) : auth(keys.adminAll),
        ...(method === 'POST' ? { body: JSON.stringify({ query: query() }) } : {}),
      };
    }
    if (v === 2) {
      // nesting past the body's bound: up to a million levels (2 MB), refused before it is parsed
      const n = pick([65, 1000, 100_000, 1_000_000]);
      return { ...jsonCase('names-and-inputs', `metadata nested ${n} levels`, 'reject', upsertF, `{"documents":[{"id":"fz-deep","text":"deep","metadata":{"a":${deep(n)}}}]}`) };
    }
    if (v === 3) {
      // within the body's bound, past metadata's
      let m: Json = { leaf: 1 };
      for (let i = 0, n = int(17, 50); i < n; i++) m = { a: m };
      return jsonCase('names-and-inputs', 'metadata nested past 16 levels', 'reject', upsertF, JSON.stringify({ documents: [{ id: 'fz-deep', text: 'deep', metadata: m }] }));
    }
    if (v === 4) return jsonCase('names-and-inputs', 'filter nested 65+ levels', 'reject', searchS, `{"query":"cells","filter":{"a":${deep(int(65, 20_000))}}}`);
    if (v === 5) {
      const q = pick(EMPTY_QUERIES);
      return jsonCase('names-and-inputs', `query ${JSON.stringify(q)}`, 'reject', pick([searchS, searchF]), JSON.stringify({ query: q, mode: pick(['vector', 'bm25', 'hybrid']) }));
    }
    if (v === 6) {
      // the tenants' views: a read key gets the bare readiness, and no /metrics
      const path = pick(['/readyz', '/metrics']);
      const k = pick([keys.readOther, keys.readAll, keys.write]);
      return { category: 'names-and-inputs', name: `GET ${path} with a read or write key`, expect: path === '/readyz' ? 'accept' : 'reject', method: 'GET', path, headers: auth(k) };
    }
    return { category: 'names-and-inputs', name: 'GET /metrics with a metrics key', expect: 'accept', method: 'GET', path: '/metrics', headers: auth(keys.metrics) };
  }

  const makers: Record<string, () => FuzzCase> = {
    'bad-json': badJson,
    'wrong-types': wrongTypes,
    'out-of-bounds': outOfBounds,
    'unknown-fields': unknownFields,
    filters,
    'prototype-keys': prototypeKeys,
    'path-tricks': pathTricks,
    methods,
    auth: authCases,
    'content-type': contentTypes,
    'oversized-body': oversized,
    'raw-protocol': rawProtocol,
    edge,
    'names-and-inputs': namesAndInputs,
    valid,
  };
  const names = Object.keys(CATEGORY_WEIGHTS);
  const total = names.reduce((s, n) => s + CATEGORY_WEIGHTS[n], 0);

  /** The next case: a category drawn by weight, then one of its templates. */
  return function next(): FuzzCase {
    let x = rnd() * total;
    for (const n of names) {
      x -= CATEGORY_WEIGHTS[n];
      if (x < 0) return makers[n]();
    }
    return makers[names[names.length - 1]]();
  };
}
