/**
 * The embedded Wikipedia corpus, cached on disk outside the repository so the slow part of
 * the ANN benchmark (embedding 175k passages on a CPU) runs once.
 *
 *   ~/.cache/quarry/bench/wiki-minilm-fp32/vectors.f32   row i = passage i, 384 float32, unit length
 *   ~/.cache/quarry/bench/wiki-minilm-fp32/meta.json     model identity, dims, corpus sha256, done
 *
 * Resumable: each batch is appended and fsynced, then meta.json (the checkpoint) is replaced
 * atomically; on restart the vector file is cut back to meta.done rows and embedding goes on
 * from there. A change of model or corpus (identity or sha256) starts over.
 *
 * Run alone (in the background) with: node dist/bench/ann/vectors.js
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadEmbedder } from '../../src/api/load-model.js';
import type { ModelIdentity } from '../../src/embed/identity.js';
import { defaultModelsDir } from '../../src/embed/models/index.js';
import { benchCacheDir, CORPUS_PATH, MODEL_REF } from './paths.js';

export const VECTORS_DIR = join(benchCacheDir(), 'wiki-minilm-fp32');
const BATCH = 512;

export interface VectorMeta {
  model: ModelIdentity;
  dims: number;
  /** Passages in the corpus. */
  count: number;
  corpusSha256: string;
  corpusPath: string;
  /** Rows embedded so far (== count when complete). */
  done: number;
  /** How each passage becomes text: as quarry's indexer does for a JSONL record. */
  textTemplate: string;
  updatedAt: string;
}

export interface Passage {
  id: string;
  title: string;
  text: string;
}

export function readCorpus(path = CORPUS_PATH): { passages: Passage[]; sha256: string } {
  const bytes = readFileSync(path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const passages: Passage[] = [];
  for (const line of bytes.toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    const r = JSON.parse(line) as { _id: string; title?: string; text: string };
    passages.push({ id: r._id, title: r.title ?? '', text: r.text });
  }
  return { passages, sha256 };
}

/** title + "\n" + text, the way quarry's indexer embeds a JSONL record with a title. */
export function passageText(p: Passage): string {
  return p.title ? `${p.title}\n${p.text}` : p.text;
}

export function readMeta(dir = VECTORS_DIR): VectorMeta | undefined {
  const path = join(dir, 'meta.json');
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as VectorMeta;
}

function writeMeta(dir: string, meta: VectorMeta): void {
  const tmp = join(dir, 'meta.json.tmp');
  const fd = openSync(tmp, 'w');
  writeSync(fd, JSON.stringify(meta, null, 2) + '\n');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, join(dir, 'meta.json'));
}

function sameModel(a: ModelIdentity, b: ModelIdentity): boolean {
  return a.id === b.id && a.variant === b.variant && a.weightsSha256 === b.weightsSha256 && a.tokenizerSha256 === b.tokenizerSha256;
}

/**
 * Embeds passages [done, upTo) and appends them; returns the meta after. `upTo` defaults to
 * the whole corpus. Prints a progress line to stderr.
 */
export async function buildVectors(upTo?: number, dir = VECTORS_DIR): Promise<VectorMeta> {
  mkdirSync(dir, { recursive: true });
  const release = acquireLock(dir);
  try {
    return await embedInto(dir, upTo);
  } finally {
    release();
  }
}

/** The pid of a live process that holds the embedding lock, if any. */
export function lockHolder(dir = VECTORS_DIR): number | undefined {
  const path = join(dir, 'embed.lock');
  if (!existsSync(path)) return undefined;
  const pid = Number(readFileSync(path, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined; // stale: its process is gone
  }
}

/** One writer at a time: a lock file holding the writer's pid (a stale one is taken over). */
function acquireLock(dir: string): () => void {
  const path = join(dir, 'embed.lock');
  const holder = lockHolder(dir);
  if (holder !== undefined && holder !== process.pid) {
    throw new Error(`another process (pid ${holder}) is filling the vector cache in ${dir}; wait for it or stop it`);
  }
  writeFileSync(path, String(process.pid));
  return () => rmSync(path, { force: true });
}

async function embedInto(dir: string, upTo: number | undefined): Promise<VectorMeta> {
  const { passages, sha256 } = readCorpus();
  const target = Math.min(upTo ?? passages.length, passages.length);
  const embedder = await loadEmbedder(MODEL_REF, defaultModelsDir());
  const dims = embedder.dims;
  let meta = readMeta(dir);
  if (meta && (meta.corpusSha256 !== sha256 || !sameModel(meta.model, embedder.identity) || meta.dims !== dims)) {
    process.stderr.write('vector cache: model or corpus changed, starting over\n');
    meta = undefined;
  }
  if (!meta) {
    meta = {
      model: embedder.identity,
      dims,
      count: passages.length,
      corpusSha256: sha256,
      corpusPath: CORPUS_PATH,
      done: 0,
      textTemplate: 'title + "\\n" + text',
      updatedAt: new Date().toISOString(),
    };
  }
  const fd = openSync(join(dir, 'vectors.f32'), existsSync(join(dir, 'vectors.f32')) ? 'r+' : 'w+');
  try {
    // a crash between the append and the checkpoint leaves extra rows: drop them
    const rowBytes = dims * 4;
    if (fstatSync(fd).size !== meta.done * rowBytes) ftruncateSync(fd, meta.done * rowBytes);
    writeMeta(dir, meta);
    const started = performance.now();
    const from = meta.done;
    while (meta.done < target) {
      const end = Math.min(meta.done + BATCH, target);
      const texts = passages.slice(meta.done, end).map(passageText);
      const vecs = await embedder.embed(texts);
      const buf = new Float32Array(vecs.length * dims);
      vecs.forEach((v, i) => buf.set(v, i * dims));
      writeSync(fd, new Uint8Array(buf.buffer), 0, buf.byteLength, meta.done * rowBytes);
      fsyncSync(fd);
      meta = { ...meta, done: end, updatedAt: new Date().toISOString() };
      writeMeta(dir, meta);
      const secs = (performance.now() - started) / 1000;
      const rate = (meta.done - from) / secs;
      const eta = (target - meta.done) / rate;
      process.stderr.write(
        `vector cache: ${meta.done}/${target} passages embedded (${rate.toFixed(0)}/s, ${(secs / 60).toFixed(1)} min, eta ${(eta / 60).toFixed(1)} min)\n`,
      );
    }
  } finally {
    closeSync(fd);
    await embedder.close();
  }
  return meta;
}

/** Loads the first `rows` cached vectors (all embedded rows when omitted). */
export function loadVectors(rows?: number, dir = VECTORS_DIR): { data: Float32Array; rows: number; dims: number; meta: VectorMeta } {
  const meta = readMeta(dir);
  if (!meta) throw new Error(`no vector cache in ${dir}: run node dist/bench/ann/vectors.js first`);
  const n = Math.min(rows ?? meta.done, meta.done);
  const bytes = n * meta.dims * 4;
  const fd = openSync(join(dir, 'vectors.f32'), 'r');
  const data = new Float32Array(n * meta.dims);
  try {
    let off = 0;
    const view = new Uint8Array(data.buffer);
    while (off < bytes) {
      const got = readSyncChunk(fd, view, off, Math.min(bytes - off, 1 << 28));
      if (got === 0) throw new Error(`vector cache ${dir} is shorter than meta.json says`);
      off += got;
    }
  } finally {
    closeSync(fd);
  }
  return { data, rows: n, dims: meta.dims, meta };
}

function readSyncChunk(fd: number, view: Uint8Array, off: number, len: number): number {
  return readSync(fd, view, off, len, off);
}

// Run alone, this module fills the cache (meant for the background: see README.md).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const upTo = process.env.BENCH_ANN_LIMIT ? Number(process.env.BENCH_ANN_LIMIT) : undefined;
  buildVectors(upTo).then(
    (m) => process.stderr.write(`vector cache: complete, ${m.done}/${m.count} rows in ${VECTORS_DIR}\n`),
    (e) => {
      process.stderr.write(`vector cache: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    },
  );
}
