import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { upsertDocuments, type DocumentInput } from '../../src/api/upsert-documents.js';
import type { Embedder } from '../../src/embed/embedder.js';
import { ModelNotProvisionedError } from '../../src/errors.js';
import { buildServer, type ServerOptions } from '../../src/server/app.js';
import { createKey, keysFileOf, type Scope } from '../../src/server/keys.js';
import { HashEmbedder } from './hash-embedder.js';

export const HASH_MODEL = 'test/hash-embedder';

/** A server over `dataDir` whose only model is the hash embedder (no ONNX, fast). */
export async function hashServer(dataDir: string, embedder: Embedder, extra: Partial<ServerOptions> = {}): Promise<FastifyInstance> {
  return buildServer({
    dataDir,
    logger: false,
    loadEmbedder: async (ref) => {
      if (ref === HASH_MODEL || ref.startsWith(`${HASH_MODEL}:`)) return embedder;
      throw new ModelNotProvisionedError(ref, '(test)', 'only the hash embedder exists in these tests');
    },
    // tests fire bursts of searches at once and expect every one answered: a long queue, no wait target
    // (tests/server-overload.test.ts sets its own bounds)
    admission: { queue: 10_000, targetWaitMs: 600_000 },
    ...extra,
  });
}

export async function key(dataDir: string, scope: Scope, collections: string[]): Promise<string> {
  return (await createKey(keysFileOf(dataDir), { scope, collections })).key;
}

export function bearer(k: string): Record<string, string> {
  return { authorization: `Bearer ${k}` };
}

/** Documents "<prefix>-<i>" whose text holds `word`, with metadata {batch: prefix}. */
export function docs(prefix: string, n: number, word: string): DocumentInput[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i}`,
    text: `Note ${i} of batch ${prefix}: the ${word} was seen near the river on day ${i}.`,
    metadata: { batch: prefix, n: i },
  }));
}

/** A collection made through the library, as another process would. */
export async function seedCollection(dataDir: string, collection: string, embedder: Embedder, input: DocumentInput[]): Promise<void> {
  await upsertDocuments(input, { dataDir, collection, embedder });
}

export function json<T = Record<string, unknown>>(res: LightMyRequestResponse): T {
  return JSON.parse(res.body) as T;
}

/** A stream that keeps what pino writes, one parsed object per line. */
export function logCapture(): { stream: Writable; lines: () => Array<Record<string, unknown>>; raw: () => string } {
  let raw = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      raw += chunk.toString();
      cb();
    },
  });
  return {
    stream,
    raw: () => raw,
    lines: () =>
      raw
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export async function waitFor<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function hashEmbedder(): Promise<HashEmbedder> {
  return HashEmbedder.create();
}
