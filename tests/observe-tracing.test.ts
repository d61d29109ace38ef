import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { indexPaths } from '../src/api/index-paths.js';
import { search, type SearchOptions } from '../src/api/search.js';
import { SPAN_NAMES } from '../src/observe/span-names.js';
import { initTracing, shutdownTracing, tracingConfigFromEnv, tracingEnabled, withSpan } from '../src/observe/tracing.js';
import { EmbeddingReranker, type Reranker } from '../src/retrieve/rerank.js';
import { modelsDir, tempDir } from './support/env.js';
import { closeEmbedders, sharedEmbedder } from './support/model.js';

const COLLECTION = 'traced';
let dir: { path: string; cleanup: () => Promise<void> };

/** Keeps its spans through shutdown (InMemorySpanExporter clears them), to prove none arrive afterwards. */
class KeepingExporter extends InMemorySpanExporter {
  override shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

before(async () => {
  dir = await tempDir();
  const corpus = join(dir.path, 'notes.jsonl');
  const docs = [
    'The parcel was delayed at the Hamburg warehouse and the customer asked for a refund.',
    'Forklift certification and overtime rules were discussed at the staffing review.',
    'Invoice INV-7781 was paid twice; finance will reverse the second payment.',
    'Customs held the container in Antwerp for two days because a form was missing.',
  ];
  await writeFile(corpus, docs.map((text, i) => JSON.stringify({ _id: `doc-${i}`, text })).join('\n') + '\n');
  await indexPaths([corpus], { dataDir: dir.path, collection: COLLECTION, modelsDir: modelsDir(), embedder: await sharedEmbedder() });
});
after(async () => {
  await shutdownTracing();
  await closeEmbedders();
  await dir.cleanup();
});

async function run(query: string, opts: SearchOptions = {}) {
  return search(query, { dataDir: dir.path, collection: COLLECTION, modelsDir: modelsDir(), embedder: await sharedEmbedder(), ...opts });
}

const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan) =>
  spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);

// Compile-time checks: the span names and attribute keys are closed lists (tsc fails if these compile).
export function closedVocabulary(): void {
  // @ts-expect-error 'quarry.nope' is not a span name
  void withSpan('quarry.nope', {}, () => 0);
  // @ts-expect-error 'quarry.secret' is not an attribute key
  void withSpan('quarry.search', { 'quarry.secret': 1 }, () => 0);
}

test('the OTEL_* variables decide: off unless an endpoint or an exporter is named; none and OTEL_SDK_DISABLED win', () => {
  assert.deepEqual(tracingConfigFromEnv({}), { exporters: [], serviceName: 'quarry', warnings: [] });
  assert.deepEqual(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).exporters, ['otlp']);
  assert.deepEqual(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }).exporters, ['otlp']);
  assert.deepEqual(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }).exporters, [], 'blank is unset');
  assert.deepEqual(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' }).exporters, ['otlp']);
  assert.deepEqual(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp, console' }).exporters, ['otlp', 'console']);
  assert.deepEqual(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).exporters, []);
  assert.deepEqual(tracingConfigFromEnv({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }).exporters, []);
  const zipkin = tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' });
  assert.deepEqual(zipkin.exporters, []);
  assert.match(zipkin.warnings[0], /zipkin is not supported/);
  assert.match(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).warnings[0], /grpc is not supported/);
  assert.equal(tracingConfigFromEnv({ OTEL_SERVICE_NAME: 'search-eu' }).serviceName, 'search-eu');
  // the general endpoint is a base, the traces one a whole URL
  assert.equal(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).otlpUrl, 'http://collector:4318/v1/traces');
  assert.equal(
    tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/traces' }).otlpUrl,
    'http://b:4318/traces',
  );
  assert.equal(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' }).otlpUrl, undefined, "the exporter's default");
});

test('OTEL_EXPORTER_OTLP_ENDPOINT turns export on: spans reach an OTLP/HTTP receiver, with the service name', async () => {
  const bodies: Array<{ url: string; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      bodies.push({ url: req.url ?? '', body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  try {
    const state = await initTracing({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_SERVICE_NAME: 'quarry-test' } });
    assert.deepEqual(state, { enabled: true, exporters: ['otlp'], serviceName: 'quarry-test' });
    await run('customs held a container', { mode: 'vector', k: 2 });
  } finally {
    await shutdownTracing(); // flushes the batch
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  }
  assert.ok(bodies.length >= 1, 'the receiver got an export');
  assert.ok(bodies.every((b) => b.url === '/v1/traces'));
  const all = bodies.map((b) => b.body).join('\n');
  for (const name of ['quarry.search', 'quarry.embed', 'quarry.ann']) assert.ok(all.includes(`"${name}"`), `${name} exported`);
  assert.ok(all.includes('"quarry-test"'), 'service.name from OTEL_SERVICE_NAME');
});

test('with no exporter configured nothing is recorded, and searches work as before', async () => {
  const state = await initTracing({ env: {} });
  assert.deepEqual(state, { enabled: false, exporters: [], serviceName: 'quarry' });
  assert.equal(tracingEnabled(), false);
  let recording: boolean | undefined;
  const out = await withSpan('quarry.search', { 'quarry.collection': COLLECTION }, (span) => {
    recording = span.isRecording();
    return 42;
  });
  assert.equal(out, 42);
  assert.equal(recording, false);
  const res = await run('refund for a delayed parcel', { mode: 'hybrid', k: 2 });
  assert.equal(res.results.length, 2);
});

test('a hybrid search is one quarry.search span whose children are its stages, with collection, mode, k and results', async () => {
  const exporter = new InMemorySpanExporter();
  const state = await initTracing({ exporter });
  assert.deepEqual(state, { enabled: true, exporters: ['custom'], serviceName: 'quarry' });
  try {
    const res = await run('refund for a delayed parcel', { mode: 'hybrid', k: 3 });
    const spans = exporter.getFinishedSpans();
    const searches = spans.filter((s) => s.name === 'quarry.search');
    assert.equal(searches.length, 1);
    const root = searches[0];
    assert.equal(root.parentSpanContext, undefined, 'a search started outside any span is a root');
    assert.deepEqual(root.attributes, { 'quarry.collection': COLLECTION, 'quarry.mode': 'hybrid', 'quarry.k': 3, 'quarry.results': res.results.length });
    assert.equal(root.status.code, SpanStatusCode.UNSET);
    assert.equal(root.resource.attributes['service.name'], 'quarry');

    const children = childrenOf(spans, root);
    assert.deepEqual(
      children.map((s) => s.name).sort(),
      ['quarry.ann', 'quarry.bm25', 'quarry.embed', 'quarry.fuse'],
    );
    for (const c of children) {
      assert.equal(c.spanContext().traceId, root.spanContext().traceId);
      assert.equal(c.attributes['quarry.collection'], COLLECTION);
      assert.equal(c.attributes['quarry.mode'], 'hybrid');
      assert.ok(c.ended);
    }
    // the embedder's own span joins the embed stage instead of nesting a second quarry.embed
    const embed = children.find((s) => s.name === 'quarry.embed')!;
    assert.equal(embed.attributes['quarry.embed.kind'], 'query');
    assert.equal(embed.attributes['quarry.embed.texts'], 1);
    assert.match(String(embed.attributes['quarry.model']), /^sentence-transformers\/all-MiniLM-L6-v2:/);
    assert.deepEqual(childrenOf(spans, embed), []);
    // stages run in order, inside the search
    const start = (s: ReadableSpan) => s.startTime[0] * 1e9 + s.startTime[1];
    const byName = new Map(children.map((c) => [c.name, c]));
    assert.ok(start(byName.get('quarry.embed')!) <= start(byName.get('quarry.ann')!));
    assert.ok(start(byName.get('quarry.bm25')!) <= start(byName.get('quarry.fuse')!));
    assert.ok(start(root) <= start(byName.get('quarry.embed')!));
    for (const s of spans) assert.ok((SPAN_NAMES as readonly string[]).includes(s.name), `${s.name} is in the closed list`);

    // tier 2 is a rerank span; the tier-2 model's embedding calls are its children
    exporter.reset();
    await run('refund for a delayed parcel', { mode: 'hybrid', k: 3, rerank: true, reranker: new EmbeddingReranker(await sharedEmbedder()), rerankTopN: 4 });
    const spans2 = exporter.getFinishedSpans();
    const root2 = spans2.find((s) => s.name === 'quarry.search')!;
    const rerank = childrenOf(spans2, root2).find((s) => s.name === 'quarry.rerank');
    assert.ok(rerank, 'a rerank stage span');
    assert.deepEqual(
      childrenOf(spans2, rerank)
        .map((s) => `${s.name}:${String(s.attributes['quarry.embed.kind'])}`)
        .sort(),
      ['quarry.embed:documents', 'quarry.embed:query'],
    );
  } finally {
    await shutdownTracing();
  }
});

test('a failing call records the exception and an error status on its span and on the search', async () => {
  const exporter = new KeepingExporter();
  await initTracing({ exporter });
  try {
    await assert.rejects(
      withSpan('quarry.ingest', { 'quarry.collection': 'x' }, () => {
        throw new Error('disk on fire');
      }),
      /disk on fire/,
    );
    const [ingest] = exporter.getFinishedSpans();
    assert.equal(ingest.name, 'quarry.ingest');
    assert.equal(ingest.status.code, SpanStatusCode.ERROR);
    assert.equal(ingest.status.message, 'disk on fire');
    assert.equal(ingest.events[0].name, 'exception');
    assert.equal(ingest.events[0].attributes?.['exception.message'], 'disk on fire');
    assert.ok(ingest.ended);

    exporter.reset();
    const failing: Reranker = {
      description: 'failing tier 2',
      score: () => Promise.reject(new Error('tier 2 is down')),
      close: () => Promise.resolve(),
    };
    await assert.rejects(run('refund for a delayed parcel', { mode: 'hybrid', rerank: true, reranker: failing }), /tier 2 is down/);
    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === 'quarry.search')!;
    const rerank = spans.find((s) => s.name === 'quarry.rerank')!;
    assert.equal(rerank.parentSpanContext?.spanId, root.spanContext().spanId);
    for (const s of [root, rerank]) {
      assert.equal(s.status.code, SpanStatusCode.ERROR, `${s.name} status`);
      assert.equal(s.status.message, 'tier 2 is down');
    }
    assert.equal(root.attributes['quarry.results'], undefined, 'no result count for a search that failed');
    // the stages before the failure succeeded
    assert.equal(spans.find((s) => s.name === 'quarry.fuse')!.status.code, SpanStatusCode.UNSET);
  } finally {
    await shutdownTracing();
  }
  // after shutdown the provider is gone: a search records nothing more
  const count = exporter.getFinishedSpans().length;
  assert.equal(tracingEnabled(), false);
  await run('refund for a delayed parcel', { mode: 'hybrid', k: 2 });
  assert.equal(exporter.getFinishedSpans().length, count);
  let recording: boolean | undefined;
  await withSpan('quarry.search', {}, (span) => (recording = span.isRecording()));
  assert.equal(recording, false);
});
