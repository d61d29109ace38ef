import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadEmbedder } from '../src/api/load-model.js';
import type { Embedder } from '../src/embed/embedder.js';
import { EmbedWorkerError, WorkerEmbedder } from '../src/embed/worker-embedder.js';
import { InvalidInputError } from '../src/errors.js';
import { closeEmbedders, MINILM, sharedEmbedder } from './support/model.js';

let worker: Embedder;
before(async () => {
  worker = await loadEmbedder(MINILM, undefined, { offThread: true });
});
after(async () => {
  await worker.close();
  await closeEmbedders();
});

const texts = Array.from({ length: 96 }, (_, i) => `Passage ${i} on why a tent gets wet inside overnight: condensation from breath, ground moisture and cold fabric (${'detail '.repeat(i % 40)}).`);

test('the server\'s embedder runs the model on a worker thread and gives exactly the inline vectors', async () => {
  assert.ok(worker instanceof WorkerEmbedder);
  const inline = await sharedEmbedder(MINILM);
  assert.deepEqual(worker.identity, inline.identity);
  assert.deepEqual(await worker.embedQuery('why is my tent wet in the morning'), await inline.embedQuery('why is my tent wet in the morning'));
  const progress: number[] = [];
  const got = await worker.embed(texts, (p) => progress.push(p.done));
  const want = await inline.embed(texts);
  assert.equal(got.length, texts.length);
  got.forEach((v, i) => assert.deepEqual(v, want[i], `text ${i}`));
  assert.equal(progress.at(-1), texts.length);
});

test('while the worker embeds, the main thread keeps turning (a server still reads and sheds requests)', async () => {
  let turns = 0;
  let embedding = true;
  const spin = () => {
    turns++;
    if (embedding) setImmediate(spin);
  };
  setImmediate(spin);
  await worker.embed(texts);
  embedding = false;
  // inline, a forward pass holds the thread for its whole length: a handful of turns per batch
  assert.ok(turns > 200, `only ${turns} event-loop turns while ${texts.length} passages embedded`);
});

test('errors come back typed; after close every call is refused, pending ones included', async () => {
  const e = await loadEmbedder(MINILM, undefined, { offThread: true });
  await assert.rejects(e.embed('not an array' as unknown as string[]), InvalidInputError);
  const pending = assert.rejects(e.embed(texts), EmbedWorkerError);
  await e.close();
  await pending;
  await assert.rejects(e.embedQuery('tent'), /the embedder was closed/);
});

test('a progress callback that throws stops the call with its error (Ctrl-C between sub-batches); the embedder goes on serving', async () => {
  class Stop extends Error {}
  let calls = 0;
  await assert.rejects(
    worker.embed(texts, () => {
      calls++;
      throw new Stop('stopped by the caller');
    }),
    Stop,
  );
  assert.equal(calls, 1);
  const v = await worker.embedQuery('still here');
  assert.equal(v.length, 384);
});
