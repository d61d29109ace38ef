import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { SentenceSplitter } from '@llamaindex/core/node-parser';
import { BaseQueryEngine, type QueryType } from '@llamaindex/core/query-engine';
import type { BaseRetriever } from '@llamaindex/core/retriever';
import { Document, EngineResponse, MetadataMode, type NodeWithScore } from '@llamaindex/core/schema';
import { VectorStoreQueryMode } from '@llamaindex/core/vector-store';
import { InvalidInputError, ModelMismatchError } from '../src/errors.js';
import { inProcess, overHttp, QuarryRetriever, QuarryVectorStore, toQuarryFilter, type QuarrySource } from '../src/integrations/llamaindex/index.js';
import { parseFilter } from '../src/retrieve/filter/tree.js';
import { BGE, MINILM } from './support/notes.js';
import { notesServed } from './support/notes-served.js';

const fx = notesServed('quarry-llamaindex-');

function local(opts: Parameters<typeof inProcess>[0] = {}): QuarrySource {
  return fx.track(inProcess({ dataDir: fx.data, collection: 'notes', ...opts }));
}

/** A query engine with no LLM: it retrieves and answers with the context it would hand one. */
class ContextEngine extends BaseQueryEngine {
  constructor(private readonly retriever: BaseRetriever) {
    super();
  }
  async _query(q: QueryType): Promise<EngineResponse> {
    const nodes = await this.retriever.retrieve(q);
    const context = nodes.map((n, i) => `[${i + 1}] ${n.node.getContent(MetadataMode.LLM)}`).join('\n');
    return EngineResponse.fromResponse(context, false, nodes);
  }
  protected _getPrompts() {
    return {};
  }
  protected _updatePrompts() {}
  protected _getPromptModules() {
    return {};
  }
}

test('in process: a query engine retrieves through the quarry retriever and formats the context', async () => {
  const retriever = new QuarryRetriever({ source: local({ model: MINILM }), similarityTopK: 2, search: { mode: 'hybrid' } });
  const nodes: NodeWithScore[] = await retriever.retrieve({ query: 'why does yeast make dough rise' });
  assert.equal(nodes.length, 2);
  assert.equal(nodes[0].node.sourceNode?.nodeId, 'bread');
  assert.equal(typeof nodes[0].score, 'number');
  assert.ok(nodes[0].score! >= nodes[1].score!);
  assert.equal(nodes[0].node.metadata.topic, 'food');

  const res = await new ContextEngine(retriever).query({ query: 'why does yeast make dough rise' });
  assert.match(res.message.content as string, /^\[1\] lang: en\ntopic: food\nyear: 2019\n/m, "the LLM's view keeps the document's metadata");
  assert.ok(!(res.message.content as string).includes('quarry:'), "quarry's own facts are not put into the prompt");
  assert.match(res.message.content as string, /Sourdough bread rises slowly/);
  assert.equal(res.sourceNodes?.[0].node.sourceNode?.nodeId, 'bread');
});

test('in process: another model is refused, not hidden', async () => {
  const retriever = new QuarryRetriever({ source: local({ model: BGE }), search: { mode: 'vector' } });
  await assert.rejects(retriever.retrieve('tides'), (e: unknown) => e instanceof ModelMismatchError && /BAAI\/bge-small-en-v1.5/.test(e.message));
});

test('LlamaIndex metadata filters become quarry filters; unsupported operators are refused', async () => {
  const f = toQuarryFilter({ filters: [{ key: 'lang', value: 'en', operator: '==' }, { key: 'year', value: 2021, operator: '>=' }, { key: 'topic', value: ['food', 'code'], operator: 'nin' }], condition: 'and' });
  assert.deepEqual(f, { $and: [{ lang: { $eq: 'en' } }, { year: { $gte: 2021 } }, { topic: { $nin: ['food', 'code'] } }] });
  parseFilter(f);
  const retriever = new QuarryRetriever({ source: local(), similarityTopK: 10, filters: { filters: [{ key: 'topic', value: 'food', operator: '==' }, { key: 'lang', value: 'fr', operator: '==' }], condition: 'or' }, search: { mode: 'bm25' } });
  const nodes = await retriever.retrieve('bread fromage cave dough');
  assert.deepEqual(nodes.map((n) => n.node.sourceNode?.nodeId).sort(), ['bread', 'cheese']);
  assert.throws(() => toQuarryFilter({ filters: [{ key: 'tags', value: ['a'], operator: 'any' }] }), InvalidInputError);
  assert.throws(() => toQuarryFilter({ filters: [{ key: 'tags', value: 'a', operator: 'in' }] }), InvalidInputError);
});

test('over HTTP with a key: the vector store adds split documents, queries with filters and scores, deletes by document', async () => {
  const store = new QuarryVectorStore(overHttp({ client: fx.client(), collection: 'notes', model: MINILM }), { search: { mode: 'vector' } });
  const doc = new Document({
    id_: 'volcano',
    text: 'Volcanic glass called obsidian forms when lava cools very quickly. Pumice is full of gas bubbles and floats on water.',
    metadata: { lang: 'en', topic: 'science', year: 2024 },
  });
  const nodes = new SentenceSplitter({ chunkSize: 24, chunkOverlap: 0 }).getNodesFromDocuments([doc]);
  assert.ok(nodes.length >= 2, 'the splitter made several nodes');
  const ids = await store.add(nodes);
  assert.deepEqual(ids, nodes.map((n) => n.id_));

  const result = await store.query({ queryStr: 'stone that floats on water', similarityTopK: 2, mode: VectorStoreQueryMode.DEFAULT, filters: { filters: [{ key: 'year', value: 2024, operator: '==' }] } });
  assert.equal(result.nodes?.length, 1, 'the split nodes were stored as their one document');
  assert.equal(result.nodes![0].sourceNode?.nodeId, 'volcano');
  assert.match(result.nodes![0].getContent(MetadataMode.NONE), /Pumice is full of gas bubbles/);
  assert.equal(result.similarities.length, 1);
  assert.ok(result.similarities[0] > 0.2, `a cosine: ${result.similarities[0]}`);

  const sparse = await store.query({ queryStr: 'obsidian', similarityTopK: 5, mode: VectorStoreQueryMode.SPARSE });
  assert.deepEqual(sparse.nodes?.map((n) => n.sourceNode?.nodeId), ['volcano']);
  await assert.rejects(store.query({ queryEmbedding: [0.1, 0.2], similarityTopK: 2, mode: VectorStoreQueryMode.DEFAULT }), InvalidInputError);
  await assert.rejects(store.query({ queryStr: 'x', similarityTopK: 2, mode: VectorStoreQueryMode.MMR }), InvalidInputError);

  await store.delete('volcano');
  assert.equal((await store.query({ queryStr: 'obsidian', similarityTopK: 5, mode: VectorStoreQueryMode.SPARSE })).nodes?.length, 0);

  const wrong = new QuarryRetriever({ source: overHttp({ client: fx.client(), collection: 'notes', model: BGE }) });
  await assert.rejects(wrong.retrieve('tides'), ModelMismatchError);
  const engine = new ContextEngine(new QuarryRetriever({ source: overHttp({ client: fx.client(), collection: 'notes', model: MINILM }), similarityTopK: 1, search: { mode: 'hybrid' } }));
  const res = await engine.query({ query: 'the pull of the moon on the ocean' });
  assert.match(res.message.content as string, /Ocean tides follow/);
});

test('in process: the vector store writes through the library and deletes by document', async () => {
  const store = new QuarryVectorStore(local({ model: MINILM }), { search: { mode: 'hybrid' } });
  await store.add([new Document({ id_: 'bees', text: 'Honey bees tell each other where flowers are with a waggle dance.', metadata: { topic: 'nature' } })]);
  const hit = await store.query({ queryStr: 'waggle dance of bees', similarityTopK: 1, mode: VectorStoreQueryMode.DEFAULT, filters: { filters: [{ key: 'topic', value: 'nature', operator: '==' }] } });
  assert.equal(hit.nodes?.[0].sourceNode?.nodeId, 'bees');
  await store.delete('bees');
  const gone = await store.query({ queryStr: 'waggle dance of bees', similarityTopK: 1, mode: VectorStoreQueryMode.DEFAULT, filters: { filters: [{ key: 'topic', value: 'nature', operator: '==' }] } });
  assert.deepEqual(gone.nodes, []);
});

