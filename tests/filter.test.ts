import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError } from '../src/errors.js';
import { matches, parseFilter, type Filter } from '../src/retrieve/filter/tree.js';
import { compileFilterSql } from '../src/store/local/filter-sql.js';
import { SqliteDb, type SqlValue } from '../src/store/sqlite.js';

const docs = [
  { id: 'a', metadata: { lang: 'en', year: 2019, tag: 'x', published: '2019-05-01', author: { name: 'Ada' }, draft: false } },
  { id: 'b', metadata: { lang: 'de', year: 2021, tag: 'y', published: '2021-01-15T10:00:00Z', author: { name: 'Bo' }, draft: true } },
  { id: 'c', metadata: { lang: 'en', year: 2023, tag: 'z', published: '2023-12-31', author: { name: 'Cy' } } },
  { id: 'd', metadata: { lang: 'en', year: '2024', note: null } },
  { id: 'e', metadata: {} },
];

function matching(filter: Filter): string[] {
  const db = new SqliteDb(':memory:');
  db.exec('CREATE TABLE d (id TEXT, metadata TEXT)');
  for (const d of docs) db.prepare('INSERT INTO d VALUES (?, ?)').run(d.id, JSON.stringify(d.metadata));
  const tree = parseFilter(filter);
  const { sql, params } = compileFilterSql(tree);
  const rows = db.prepare(`SELECT id FROM d WHERE ${sql} ORDER BY id`).all(...(params as SqlValue[])) as Array<{ id: string }>;
  void db.close(); // in memory: nothing on disk for a late close to touch
  const got = rows.map((r) => r.id);
  // the SQL compiler agrees with the tree's reference semantics
  assert.deepEqual(got, docs.filter((d) => matches(tree, d.metadata)).map((d) => d.id), `SQL and matches() disagree on ${JSON.stringify(filter)}`);
  return got;
}

test('equality, in, not in, not equal', () => {
  assert.deepEqual(matching({ lang: 'en' }), ['a', 'c', 'd']);
  assert.deepEqual(matching({ lang: 'en', tag: 'z' }), ['c']);
  assert.deepEqual(matching({ tag: { $in: ['x', 'y'] } }), ['a', 'b']);
  // documents without the field match $nin and $ne
  assert.deepEqual(matching({ lang: { $nin: ['en'] } }), ['b', 'e']);
  assert.deepEqual(matching({ lang: { $ne: 'de' } }), ['a', 'c', 'd', 'e']);
  assert.deepEqual(matching({ draft: true }), ['b']);
  assert.deepEqual(matching({ 'author.name': 'Cy' }), ['c']);
  // null matches an explicit null and an absent field
  assert.deepEqual(matching({ note: null }), ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(matching({ note: { $ne: null } }), []);
});

test('numeric ranges compare numbers only; a number stored as text does not sneak in', () => {
  assert.deepEqual(matching({ year: { $gte: 2020 } }), ['b', 'c']);
  assert.deepEqual(matching({ year: { $gt: 2019, $lt: 2023 } }), ['b']);
  assert.deepEqual(matching({ year: { $lte: 2019 } }), ['a']);
});

test('date ranges compare as dates, with or without a time', () => {
  assert.deepEqual(matching({ published: { $gte: '2021-01-01' } }), ['b', 'c']);
  assert.deepEqual(matching({ published: { $lt: '2021-01-15T12:00:00Z' } }), ['a', 'b']);
  assert.deepEqual(matching({ published: { $gt: '2021-01-15T10:00:00Z' } }), ['c']);
});

test('types never mix: true is not 1, text is not a number, a number is not a date', () => {
  assert.deepEqual(matching({ draft: 1 }), []);
  assert.deepEqual(matching({ year: '2024' }), ['d']);
  assert.deepEqual(matching({ year: 2024 }), []);
  assert.deepEqual(matching({ year: { $gte: '2000-01-01' } }), []);
  assert.deepEqual(matching({ 'author.name': { $in: ['Ada', 'Bo'] } }), ['a', 'b']);
});

test('a date without a zone is UTC; zones are honoured', () => {
  assert.deepEqual(matching({ published: { $gte: '2021-01-15T10:00' } }), ['b', 'c']);
  assert.deepEqual(matching({ published: { $gt: '2021-01-15T10:30:00-01:00' } }), ['c']);
  assert.deepEqual(matching({ published: { $gt: '2021-01-15T10:30:00+01:00' } }), ['b', 'c']);
});

test('$or and $and combine filters', () => {
  assert.deepEqual(matching({ $or: [{ lang: 'de' }, { tag: 'z' }] }), ['b', 'c']);
  assert.deepEqual(matching({ $and: [{ lang: 'en' }, { year: { $gte: 2020 } }] }), ['c']);
});

test('bad filters are refused with a message that names the problem', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['{not json', /not valid JSON/],
    [[1, 2], /must be a JSON object/],
    [{ 'bad field!': 1 }, /field name/],
    [{ year: { $regex: 'x' } }, /unknown operator \$regex/],
    [{ year: { $gt: 'soon' } }, /needs a number or an ISO 8601 date/],
    [{ tag: { $in: [] } }, /\$in on tag takes an array/],
    [{ tag: { a: 1 } }, /unknown operator a/],
    [{ $or: [] }, /non-empty array/],
    [{ $where: 'x' }, /unknown operator \$where/],
    [{ tag: [1, 2] }, /must be a string, number, boolean or null/],
  ];
  for (const [f, re] of cases) {
    assert.throws(() => parseFilter(f), (e: unknown) => e instanceof InvalidInputError && re.test((e as Error).message), JSON.stringify(f));
  }
});

test('values never enter the SQL text', () => {
  const { sql, params } = compileFilterSql(parseFilter({ lang: "en' OR 1=1 --", year: { $gte: 5 } }));
  assert.ok(!sql.includes('OR 1=1'));
  assert.ok(params.includes("en' OR 1=1 --"));
  assert.deepEqual(matching({ lang: "en' OR 1=1 --" }), []);
});
