/**
 * Reading a BEIR-format dataset folder: corpus.jsonl ({_id, title, text}), queries.jsonl
 * ({_id, text}) and qrels/<split>.tsv (query-id, corpus-id, score, with a header line).
 * Any folder in that form works; nothing here knows SciFact.
 */
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { InvalidInputError } from '../errors.js';

export interface BeirQuery {
  id: string;
  text: string;
}

export interface BeirDataset {
  dir: string;
  corpusPath: string;
  split: string;
  /** The queries that have judgments in the split, in qrels order. */
  queries: BeirQuery[];
  /** query id -> (doc id -> grade). */
  qrels: Map<string, Map<string, number>>;
}

async function* lines(path: string): AsyncGenerator<{ line: string; n: number }> {
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    if (line.trim() !== '') yield { line, n };
  }
}

export async function readQrels(path: string): Promise<Map<string, Map<string, number>>> {
  const qrels = new Map<string, Map<string, number>>();
  for await (const { line, n } of lines(path)) {
    const cols = line.split('\t');
    if (n === 1 && cols[0] === 'query-id') continue;
    if (cols.length < 3) throw new InvalidInputError(`${path} line ${n}: expected query-id, corpus-id, score separated by tabs`, { field: 'dataset' });
    const [q, d, s] = cols;
    const grade = Number(s);
    if (!Number.isFinite(grade)) throw new InvalidInputError(`${path} line ${n}: score "${s}" is not a number`, { field: 'dataset' });
    let m = qrels.get(q);
    if (!m) qrels.set(q, (m = new Map()));
    m.set(d, grade);
  }
  return qrels;
}

export async function readQueries(path: string, wanted?: ReadonlySet<string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const { line, n } of lines(path)) {
    let rec: { _id?: unknown; text?: unknown };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      throw new InvalidInputError(`${path} line ${n} is not JSON`, { field: 'dataset' });
    }
    const id = typeof rec._id === 'number' ? String(rec._id) : rec._id;
    if (typeof id !== 'string' || typeof rec.text !== 'string') throw new InvalidInputError(`${path} line ${n}: a query needs "_id" and "text"`, { field: 'dataset' });
    if (!wanted || wanted.has(id)) out.set(id, rec.text);
  }
  return out;
}

export async function loadBeirDataset(dir: string, split = 'test'): Promise<BeirDataset> {
  const corpusPath = join(dir, 'corpus.jsonl');
  const queriesPath = join(dir, 'queries.jsonl');
  const qrelsPath = join(dir, 'qrels', `${split}.tsv`);
  for (const [what, p] of [
    ['corpus', corpusPath],
    ['queries', queriesPath],
  ] as const) {
    if (!existsSync(p)) throw new InvalidInputError(`${dir} is not a BEIR dataset folder: no ${what} file ${p}`, { field: 'dataset' });
  }
  if (!existsSync(qrelsPath)) {
    const splits = existsSync(join(dir, 'qrels')) ? readdirSync(join(dir, 'qrels')).filter((f) => f.endsWith('.tsv')).map((f) => f.slice(0, -4)) : [];
    throw new InvalidInputError(`${dir} has no qrels for split "${split}" (${qrelsPath}); splits there: ${splits.join(', ') || 'none'}`, { field: 'split' });
  }
  const qrels = await readQrels(qrelsPath);
  const texts = await readQueries(queriesPath, new Set(qrels.keys()));
  const missing = [...qrels.keys()].filter((q) => !texts.has(q));
  if (missing.length > 0) throw new InvalidInputError(`${qrelsPath} judges ${missing.length} queries not in ${queriesPath} (first: ${missing[0]})`, { field: 'dataset' });
  const queries = [...qrels.keys()].map((id) => ({ id, text: texts.get(id)! }));
  return { dir, corpusPath, split, queries, qrels };
}
