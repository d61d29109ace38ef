import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { runIngest, type IngestSource } from '../src/api/ingest.js';
import type { EmbedProgress } from '../src/embed/embedder.js';
import type { LoadItem } from '../src/ingest/types.js';
import { Collection } from '../src/store/collection.js';
import { tempDir } from './support/env.js';
import { HashEmbedder } from './support/hash-embedder.js';

/** The stand-in embedder, slow and off the main thread as the real one is on its worker: it says when it is busy. */
class SlowEmbedder extends HashEmbedder {
  busy = false;
  override async embed(texts: string[], onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]> {
    this.busy = true;
    try {
      await sleep(40);
      return await super.embed(texts, onProgress);
    } finally {
      this.busy = false;
    }
  }
}

let dir: { path: string; cleanup: () => Promise<void> };
before(async () => {
  dir = await tempDir('quarry-pipeline-');
});
after(() => dir.cleanup());

const DOCS = 12;
const text = (i: number) => Array.from({ length: 6 }, (_, j) => `Document ${i} paragraph ${j}: ${'about tents and condensation '.repeat(8)}`).join('\n\n');

/** A source that notes, for each document the ingest pulls, whether the embedder was busy then. */
function source(embedder: SlowEmbedder, pulledWhileEmbedding: boolean[]): IngestSource {
  return {
    note: 'pipeline test',
    bytesTotal: async () => DOCS * Buffer.byteLength(text(0)),
    items: async function* (): AsyncGenerator<LoadItem> {
      for (let i = 0; i < DOCS; i++) {
        pulledWhileEmbedding.push(embedder.busy);
        const t = text(i);
        yield {
          kind: 'document',
          doc: {
            docId: `doc-${i}`,
            source: `/virtual/doc-${i}.txt`,
            format: 'text',
            metadata: {},
            contentHash: createHash('sha256').update(t).digest('hex'),
            byteLength: Buffer.byteLength(t),
            sections: [{ text: t, offset: 0 }],
          },
        };
      }
    },
  };
}

test('ingest reads and chunks the next batch while the embedder works on this one, and commits in order', async () => {
  const embedder = new SlowEmbedder((await HashEmbedder.create()).tokenizer);
  const pulled: boolean[] = [];
  const commits: string[] = [];
  const report = await runIngest(source(embedder, pulled), {
    dataDir: dir.path,
    collection: 'pipe',
    embedder,
    batchChunks: 4,
    onCommit: (docs) => commits.push(...docs.map((d) => d.docId)),
  });
  assert.equal(pulled.length, DOCS);
  // serially, every document would be read with the embedder idle
  assert.ok(pulled.filter(Boolean).length >= DOCS / 3, `documents read while a batch embedded: ${pulled.filter(Boolean).length} of ${DOCS}`);
  assert.deepEqual(commits, Array.from({ length: DOCS }, (_, i) => `doc-${i}`));
  assert.equal(report.documentsAdded, DOCS);
  const c = await Collection.open(dir.path, 'pipe', 'read');
  try {
    for (let i = 0; i < DOCS; i++) assert.ok(c.db.getDocument(`doc-${i}`), `doc-${i} is live`);
    assert.equal(c.db.liveVectorRefs().length, report.chunksWritten);
  } finally {
    await c.close();
  }
});

test('a batch that fails while the next is being read fails the run, and nothing of it is live', async () => {
  const embedder = new SlowEmbedder((await HashEmbedder.create()).tokenizer);
  let calls = 0;
  const failing = Object.assign(embedder, {
    embed: async (texts: string[], onProgress?: (p: EmbedProgress) => void) => {
      if (++calls === 3) {
        await sleep(40);
        throw new Error('the model fell over');
      }
      return SlowEmbedder.prototype.embed.call(embedder, texts, onProgress);
    },
  });
  const commits: string[] = [];
  await assert.rejects(
    runIngest(source(embedder, []), { dataDir: dir.path, collection: 'fail', embedder: failing, batchChunks: 4, onCommit: (d) => commits.push(...d.map((x) => x.docId)) }),
    /the model fell over/,
  );
  const c = await Collection.open(dir.path, 'fail', 'read');
  try {
    const live = Array.from({ length: DOCS }, (_, i) => `doc-${i}`).filter((id) => c.db.getDocument(id));
    assert.deepEqual(live, commits, 'exactly the acknowledged documents are live');
    assert.ok(live.length < DOCS);
  } finally {
    await c.close();
  }
});
