/**
 * A collection's held-out judgments: the queries the promotion gate runs on live and shadow.
 * Given as a BEIR folder (queries.jsonl + qrels/<split>.tsv; the corpus is the collection
 * itself) or as a JSON Lines file of `{"query": "...", "expected": ["doc id", ...]}` (grade 1
 * each) or `{"query": "...", "relevant": {"doc id": grade}}`. Stored normalized beside the
 * collection, so the gate never depends on the file it came from.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { judgmentsFile } from '../store/deployment.js';
import { readQrels, readQueries, type BeirQuery } from './beir.js';

export interface StoredJudgments {
  format: 'quarry-judgments';
  collection: string;
  source: string;
  setAt: string;
  queries: BeirQuery[];
  /** query id -> doc id -> grade */
  qrels: Record<string, Record<string, number>>;
}

export interface LoadedJudgments {
  queries: BeirQuery[];
  qrels: Map<string, Map<string, number>>;
  source: string;
  setAt: string;
}

/** Reads judgments from a BEIR folder (split default test) or a JSON Lines file. */
export async function parseJudgments(path: string, split = 'test'): Promise<{ queries: BeirQuery[]; qrels: Map<string, Map<string, number>> }> {
  const p = resolve(path);
  if (!existsSync(p)) throw new InvalidInputError(`judgments not found: ${p}`, { field: 'judgments' });
  if (existsSync(join(p, 'queries.jsonl'))) {
    const qrelsPath = join(p, 'qrels', `${split}.tsv`);
    if (!existsSync(qrelsPath)) throw new InvalidInputError(`${p} has no qrels for split "${split}" (${qrelsPath})`, { field: 'split' });
    const qrels = await readQrels(qrelsPath);
    const texts = await readQueries(join(p, 'queries.jsonl'), new Set(qrels.keys()));
    const queries = [...qrels.keys()].filter((id) => texts.has(id)).map((id) => ({ id, text: texts.get(id)! }));
    if (queries.length === 0) throw new InvalidInputError(`${qrelsPath} judges no query found in ${join(p, 'queries.jsonl')}`, { field: 'judgments' });
    return { queries, qrels };
  }
  const records: unknown[] = [];
  const lines = (await readFile(p, 'utf8')).split('\n');
  const lineOf: number[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      records.push(JSON.parse(line));
    } catch {
      throw new InvalidInputError(`${p} line ${i + 1} is not JSON`, { field: 'judgments' });
    }
    lineOf.push(i + 1);
  });
  return judgmentsFromRecords(records, (i) => `${p} line ${lineOf[i]}`);
}

/**
 * Judged queries from records `{id?, query, expected: [doc ids]}` or `{id?, query, relevant:
 * {doc id: grade}}` (a JSON Lines file's lines, or an HTTP request's list).
 */
export function judgmentsFromRecords(records: readonly unknown[], where: (i: number) => string): { queries: BeirQuery[]; qrels: Map<string, Map<string, number>> } {
  const queries: BeirQuery[] = [];
  const qrels = new Map<string, Map<string, number>>();
  records.forEach((r, i) => {
    const rec = (r ?? {}) as { id?: unknown; query?: unknown; expected?: unknown; relevant?: unknown };
    if (typeof rec.query !== 'string' || rec.query.trim() === '') throw new InvalidInputError(`${where(i)}: "query" must be a non-empty string`, { field: 'judgments' });
    const rel = new Map<string, number>();
    if (Array.isArray(rec.expected)) {
      for (const d of rec.expected) {
        if (typeof d !== 'string') throw new InvalidInputError(`${where(i)}: "expected" must list document ids (strings)`, { field: 'judgments' });
        rel.set(d, 1);
      }
    } else if (rec.relevant && typeof rec.relevant === 'object') {
      for (const [d, g] of Object.entries(rec.relevant as Record<string, unknown>)) {
        if (typeof g !== 'number' || !Number.isFinite(g)) throw new InvalidInputError(`${where(i)}: the grade of "${d}" must be a number`, { field: 'judgments' });
        rel.set(d, g);
      }
    }
    if (![...rel.values()].some((g) => g > 0)) {
      throw new InvalidInputError(`${where(i)}: name at least one relevant document with "expected": [ids] or "relevant": {id: grade}`, { field: 'judgments' });
    }
    const id = typeof rec.id === 'string' && rec.id ? rec.id : `q${i + 1}`;
    if (qrels.has(id)) throw new InvalidInputError(`${where(i)}: query id "${id}" appears twice`, { field: 'judgments' });
    queries.push({ id, text: rec.query });
    qrels.set(id, rel);
  });
  if (queries.length === 0) throw new InvalidInputError(`${records.length === 0 ? 'no' : 'no valid'} judged queries given`, { field: 'judgments' });
  return { queries, qrels };
}

export async function writeJudgments(dataDir: string, collection: string, source: string, j: { queries: BeirQuery[]; qrels: Map<string, Map<string, number>> }): Promise<StoredJudgments> {
  const stored: StoredJudgments = {
    format: 'quarry-judgments',
    collection,
    source,
    setAt: new Date().toISOString(),
    queries: j.queries,
    qrels: Object.fromEntries([...j.qrels].map(([q, m]) => [q, Object.fromEntries(m)])),
  };
  await writeFileAtomic(judgmentsFile(dataDir, collection), JSON.stringify(stored) + '\n');
  return stored;
}

/** The stored judgments, or null when none were set. */
export async function readJudgments(dataDir: string, collection: string): Promise<LoadedJudgments | null> {
  const path = judgmentsFile(dataDir, collection);
  if (!existsSync(path)) return null;
  const s = JSON.parse(await readFile(path, 'utf8')) as StoredJudgments;
  return {
    queries: s.queries,
    qrels: new Map(Object.entries(s.qrels).map(([q, m]) => [q, new Map(Object.entries(m))])),
    source: s.source,
    setAt: s.setAt,
  };
}
