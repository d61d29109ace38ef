import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Document } from '@langchain/core/documents';
import { PromptTemplate } from '@langchain/core/prompts';
import { RunnableLambda, RunnablePassthrough, RunnableSequence } from '@langchain/core/runnables';
import { Comparison, Operation, StructuredQuery } from '@langchain/core/structured_query';
import { InvalidInputError, ModelMismatchError } from '../src/errors.js';
import { inProcess, overHttp, QuarryRetriever, QuarryTranslator, QuarryVectorStore, type QuarrySource } from '../src/integrations/langchain/index.js';
import { parseFilter } from '../src/retrieve/filter/tree.js';
import { BGE, MINILM } from './support/notes.js';
import { notesServed } from './support/notes-served.js';

const fx = notesServed('quarry-langchain-');

function local(opts: Parameters<typeof inProcess>[0] = {}): QuarrySource {
  return fx.track(inProcess({ dataDir: fx.data, collection: 'notes', ...opts }));
}

const formatDocs = (docs: Document[]) => docs.map((d, i) => `[${i + 1}] (${d.metadata.quarry.docId}) ${d.pageContent}`).join('\n');

/** A small RAG chain with no LLM: retrieve, format the context into the prompt, stop there. */
function chainOf(retriever: QuarryRetriever) {
  const prompt = PromptTemplate.fromTemplate('Answer from the context.\nContext:\n{context}\nQuestion: {question}');
  return RunnableSequence.from([{ context: retriever.pipe(RunnableLambda.from(formatDocs)), question: new RunnablePassthrough() }, prompt]);
}

test('in process: a chain retrieves, formats and builds the prompt from quarry results', async () => {
  const retriever = new QuarryRetriever({ source: local({ model: MINILM }), k: 2, search: { mode: 'hybrid' } });
  const docs = await retriever.invoke('why does yeast make dough rise');
  assert.equal(docs.length, 2);
  assert.equal(docs[0].metadata.quarry.docId, 'bread');
  assert.equal(docs[0].id, 'bread');
  assert.match(docs[0].pageContent, /Sourdough/);
  assert.equal(docs[0].metadata.topic, 'food', "the document's own metadata is kept");
  assert.equal(typeof docs[0].metadata.quarry.score, 'number');
  assert.match(docs[0].metadata.quarry.model, /all-MiniLM-L6-v2/);

  const prompt = await chainOf(retriever).invoke('why does yeast make dough rise');
  const text = prompt.toString();
  assert.match(text, /Context:\n\[1\] \(bread\) Sourdough bread rises slowly/);
  assert.match(text, /Question: why does yeast make dough rise$/);
});

test('in process: another model is refused, not hidden', async () => {
  const retriever = new QuarryRetriever({ source: local({ model: BGE }), search: { mode: 'vector' } });
  await assert.rejects(retriever.invoke('tides'), (e: unknown) => {
    assert.ok(e instanceof ModelMismatchError);
    assert.match(e.message, /was built with sentence-transformers\/all-MiniLM-L6-v2.*but BAAI\/bge-small-en-v1.5/);
    return true;
  });
});

test('over HTTP with a key: the vector store adds, searches with scores and filters, and deletes', async () => {
  const store = new QuarryVectorStore(overHttp({ client: fx.client(), collection: 'notes', model: MINILM }), { search: { mode: 'hybrid' } });
  const ids = await store.addDocuments([
    new Document({ pageContent: 'Volcanic glass called obsidian forms when lava cools very quickly.', metadata: { lang: 'en', topic: 'science', year: 2024 } }),
    new Document({ id: 'kiln', pageContent: 'A kiln fires clay pots at high temperature until the glaze turns to glass.', metadata: { lang: 'en', topic: 'craft', year: 2022 } }),
  ]);
  assert.equal(ids.length, 2);
  assert.equal(ids[1], 'kiln', "a document's own id is kept");

  const scored = await store.similaritySearchWithScore('how does lava turn into glass', 3);
  assert.equal(scored[0][0].pageContent, 'Volcanic glass called obsidian forms when lava cools very quickly.');
  assert.equal(scored[0][0].id, ids[0]);
  assert.ok(scored[0][1] >= scored[1][1], 'best first, by score');

  const onlyCraft = await store.similaritySearchWithScore('glass', 4, { topic: 'craft' });
  assert.deepEqual(onlyCraft.map(([d]) => d.id), ['kiln']);
  const recent = await store.similaritySearch('glass', 10, { year: { $gte: 2023 } });
  assert.ok(recent.length > 0 && recent.every((d) => (d.metadata.year as number) >= 2023));

  const viaRetriever = await store.asRetriever({ k: 1, filter: { topic: 'science', year: { $lt: 2024 } } }).invoke('the moon');
  assert.deepEqual(viaRetriever.map((d) => d.id), ['tides']);

  await store.delete({ ids });
  const after = await store.similaritySearch('obsidian kiln glaze', 10, { topic: { $in: ['science', 'craft'] }, year: { $gte: 2022 } });
  assert.deepEqual(after.map((d) => d.id), ['tides']);
  await assert.rejects(store.addVectors(), InvalidInputError);
  await assert.rejects(store.similaritySearchVectorWithScore(), InvalidInputError);
});

test('over HTTP: a chain through the retriever, and another model refused', async () => {
  const source = overHttp({ client: fx.client(), collection: 'notes', model: MINILM });
  const prompt = await chainOf(new QuarryRetriever({ source, k: 1, search: { mode: 'vector' } })).invoke('memory safety without garbage collection');
  assert.match(prompt.toString(), /\[1\] \(rust\) The borrow checker/);

  const wrong = new QuarryRetriever({ source: overHttp({ client: fx.client(), collection: 'notes', model: BGE }) });
  await assert.rejects(wrong.invoke('tides'), (e: unknown) => e instanceof ModelMismatchError && /BAAI\/bge-small-en-v1.5/.test(e.message));
});

test("structured queries become quarry filters (and, or, not by De Morgan); what quarry cannot say is refused", async () => {
  const t = new QuarryTranslator();
  const q = new StructuredQuery(
    'food',
    new Operation('and', [new Comparison('eq', 'lang', 'en'), new Operation('not', [new Operation('or', [new Comparison('eq', 'topic', 'food'), new Comparison('eq', 'topic', 'code')])])]),
  );
  const { filter } = t.visitStructuredQuery(q);
  assert.deepEqual(filter, { $and: [{ lang: { $eq: 'en' } }, { $and: [{ topic: { $ne: 'food' } }, { topic: { $ne: 'code' } }] }] });
  parseFilter(filter); // quarry's own parser takes it
  const store = new QuarryVectorStore(local(), { search: { mode: 'bm25' } });
  const docs = await store.similaritySearch('the sun and the moon', 10, filter);
  assert.deepEqual(docs.map((d) => d.id), ['tides']);
  const range = t.visitStructuredQuery(new StructuredQuery('x', new Comparison('gte', 'year', 2021))).filter;
  const recent = await store.similaritySearch('borrow checker, sourdough and ocean tides', 10, range);
  assert.deepEqual(recent.map((d) => d.id).sort(), ['rust', 'tides']);
  assert.throws(() => t.visitStructuredQuery(new StructuredQuery('x', new Operation('not', [new Comparison('gt', 'year', 2020)]))), InvalidInputError);
  assert.deepEqual(t.mergeFilters({ lang: 'en' }, { year: { $gt: 1 } }), { $and: [{ lang: 'en' }, { year: { $gt: 1 } }] });
});

test('in process: the vector store writes through the library (add, search with score, filter, delete)', async () => {
  const store = new QuarryVectorStore(local({ model: MINILM }), { search: { mode: 'vector' } });
  const [id] = await store.addDocuments([new Document({ pageContent: 'Honey bees tell each other where flowers are with a waggle dance.', metadata: { lang: 'en', topic: 'nature', year: 2022 } })], { ids: ['bees'] });
  assert.equal(id, 'bees');
  const [[doc, score]] = await store.similaritySearchWithScore('how do bees communicate', 1, { topic: 'nature' });
  assert.equal(doc.id, 'bees');
  assert.ok(score > 0.3 && score <= 1, `a cosine: ${score}`);
  await store.delete({ ids: ['bees'] });
  assert.deepEqual(await store.similaritySearch('how do bees communicate', 4, { topic: 'nature' }), []);
  await assert.rejects(store.addDocuments([new Document({ pageContent: 'x' })], { ids: ['a', 'b'] }), InvalidInputError);
});

