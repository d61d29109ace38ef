/**
 * One definition of each wire type (issue 15, item 6): the server's JSON schemas
 * (src/server/schemas.ts). The web page's types, quarry/client's and the library's answer types
 * all come from them. At compile time this file fails to build when one of them is written
 * out again and drifts; at run time the server's real answers are validated against the very
 * schemas those types are derived from (response schemas only document, they never filter, so
 * nothing else would notice a handler sending what its type does not say).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import type { CollectionSummary as LibCollectionSummary } from '../src/api/collections.js';
import type { CollectionInfo as LibCollectionInfo } from '../src/api/info.js';
import type { Passage as LibPassage, SearchResponse as LibSearchResponse, SearchResult as LibSearchResult } from '../src/api/search.js';
import type { ReindexReport, SwitchReport as LibSwitchReport } from '../src/api/generations.js';
import type { VersionInfo as LibVersionInfo } from '../src/api/versions.js';
import type * as Client from '../src/client/types.js';
import { appendEvalHistory, type EvalHistoryEntry as LibEvalHistoryEntry } from '../src/eval/history.js';
import { INDEX_TYPES } from '../src/index/vector-index.js';
import type { LatencySummary as LibLatencySummary } from '../src/observe/latency-window.js';
import { SEARCH_MODES } from '../src/retrieve/modes.js';
import {
  collectionInfoResponse,
  generationsResponse,
  reindexAccepted,
  switchReport,
  collectionSummary,
  createCollectionBody,
  evaluationHistoryResponse,
  latencyStatsResponse,
  searchResponse,
  sessionResponse,
  versionInfo,
} from '../src/server/schemas.js';
import type { CanaryStats as RegistryCanaryStats } from '../src/server/registry.js';
import type { Deployment } from '../src/store/deployment.js';
import type { GateResult as StoreGateResult } from '../src/store/gate-result.js';
import * as Web from '../src/web/types.js';
import { tempDir } from './support/env.js';
import { bearer, docs, HASH_MODEL, hashEmbedder, hashServer, json, key } from './support/server.js';

// --- compile time ------------------------------------------------------------------------------

/** true only when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only for `true`: a type check that tsc runs, nothing at run time. */
function same<T extends true>(): T | undefined {
  return undefined;
}
/** Compiles only when a value of A may be sent where B is read. */
function fits<A extends B, B>(): A | undefined {
  return undefined;
}

// the web page reads exactly what quarry/client types: no second, hand-written definition
same<Equal<Web.SearchResponse, Client.SearchResponse>>();
same<Equal<Web.SearchResult, Client.SearchResult>>();
same<Equal<Web.CollectionSummary, Client.CollectionSummary>>();
same<Equal<Web.CollectionInfo, Client.CollectionInfo>>();
same<Equal<Web.VersionInfo, Client.VersionInfo>>();
same<Equal<Web.LatencyStats, Client.LatencyStats>>();
same<Equal<Web.EvalHistory, Client.EvaluationHistory>>();
same<Equal<Web.Session, Client.SessionInfo>>();
same<Equal<Web.GateResult, StoreGateResult>>();
same<Equal<Web.Generations, Client.Generations>>();
same<Equal<Web.SwitchReport, Client.SwitchReport>>();
same<Equal<Web.ReindexJob, Client.ReindexJob>>();
same<Equal<LibSwitchReport, Client.SwitchReport>>();
// the library's search result and version are the wire types themselves
same<Equal<LibSearchResult, Client.SearchResult>>();
same<Equal<LibPassage, Web.Passage>>();
same<Equal<LibVersionInfo, Client.VersionInfo>>();
// what the library answers fits what the wire types promise
fits<LibSearchResponse, Client.SearchResponse>();
fits<LibLatencySummary, Web.LatencySummary>();
fits<LibEvalHistoryEntry, Web.EvalHistoryEntry>();
fits<LibCollectionSummary & { state: 'ready' }, Client.CollectionSummary>();
// GET /collections/{name}/generations: the deployment file, the route's job and the registry's canary
fits<Deployment & { reindex: null; canary: RegistryCanaryStats | null }, Client.Generations>();
fits<ReindexReport, NonNullable<Client.ReindexJob['report']>>();
// GET /collections/{name}: `quarry info` less its folder path, with the serving state and memory
fits<Omit<LibCollectionInfo, 'path'> & { memory: { bytes: number | null }; state: 'ready' }, Client.CollectionInfo>();

// --- run time ----------------------------------------------------------------------------------

let dir: { path: string; cleanup: () => Promise<void> };
let app: FastifyInstance;
let admin: string;
const ajv = new Ajv({ strict: false });

before(async () => {
  dir = await tempDir('quarry-wire-');
  const data = join(dir.path, 'data');
  admin = await key(data, 'admin', ['*']);
  app = await hashServer(data, await hashEmbedder());
  await app.ready();
  await appendEvalHistory(data, 'notes', {
    at: new Date().toISOString(),
    dataset: 'scifact',
    split: 'test',
    queries: 3,
    k: 10,
    model: HASH_MODEL,
    documents: 4,
    chunks: 4,
    command: 'quarry eval scifact',
    modes: [{ mode: 'hybrid', metrics: { 'ndcg@10': 0.5 }, latencyMs: { p50: 1, p99: 2 } }],
  });
});

after(async () => {
  await app?.close();
  await dir?.cleanup();
});

async function answer(method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
  const res = await app.inject({ method, url, headers: bearer(admin), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: json(res) };
}

function assertValid(schema: object, value: unknown, what: string): void {
  const validate = ajv.compile(schema);
  assert.ok(validate(value), `${what} does not match its schema: ${JSON.stringify(validate.errors)}\n${JSON.stringify(value)}`);
}

test("the server's real answers match the schemas the client's and the web page's types come from", async () => {
  const created = await answer('POST', '/collections', { name: 'notes', model: HASH_MODEL, chunkTokens: 32, overlapTokens: 0 });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assertValid(collectionSummary, created.body, 'POST /collections');
  const up = await answer('POST', '/collections/notes/documents', { documents: docs('a', 4, 'heron') });
  assert.equal(up.status, 200, JSON.stringify(up.body));

  assertValid(sessionResponse, (await answer('GET', '/session')).body, 'GET /session');
  const list = (await answer('GET', '/collections')).body as { collections: unknown[] };
  assert.equal(list.collections.length, 1);
  for (const c of list.collections) assertValid(collectionSummary, c, 'a collection of GET /collections');
  assertValid(collectionInfoResponse, (await answer('GET', '/collections/notes')).body, 'GET /collections/notes');

  // what the page sends: highlights on, so the optional fields are there to be checked too
  const found = await answer('POST', '/collections/notes/search', { query: 'heron river', mode: 'hybrid', k: 3, highlight: true });
  assert.equal(found.status, 200, JSON.stringify(found.body));
  const res = found.body as Web.SearchResponse;
  assert.ok(res.results.length > 0 && res.results.some((r) => (r.highlights ?? []).length > 0), 'no highlighted result to check');
  assertValid(searchResponse, res, 'POST /collections/notes/search');

  const versions = (await answer('GET', '/collections/notes/versions')).body as { versions: unknown[] };
  assert.ok(versions.versions.length > 0);
  for (const v of versions.versions) assertValid(versionInfo, v, 'a version of GET /collections/notes/versions');
  assertValid(latencyStatsResponse, (await answer('GET', '/collections/notes/stats')).body, 'GET /collections/notes/stats');
  const history = (await answer('GET', '/collections/notes/evaluations/history')).body as Web.EvalHistory;
  assert.equal(history.evaluations.length, 1);
  assertValid(evaluationHistoryResponse, history, 'GET /collections/notes/evaluations/history');
});

test('generations: the reindex job, the generations list and a promotion validate against their schemas', async () => {
  const before = (await answer('GET', '/collections/notes/generations')).body as Web.Generations;
  assertValid(generationsResponse, before, 'GET generations before any reindex');
  const started = await answer('POST', '/collections/notes/generations', { chunkTokens: 16 });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  assertValid(reindexAccepted, started.body, 'POST generations');
  let g = before;
  for (let i = 0; i < 300 && g.reindex?.status !== 'done'; i++) {
    assert.notEqual(g.reindex?.status, 'failed', JSON.stringify(g.reindex));
    await new Promise((r) => setTimeout(r, 50));
    g = (await answer('GET', '/collections/notes/generations')).body as Web.Generations;
  }
  assert.equal(g.reindex?.status, 'done', 'the reindex did not finish');
  assert.ok(g.reindex?.report && g.shadow !== null, 'no report or shadow to check');
  assertValid(generationsResponse, g, 'GET generations after a reindex');
  const promoted = await answer('POST', '/collections/notes/promote', { force: true });
  assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
  assertValid(switchReport, promoted.body, 'POST promote');
  assertValid(generationsResponse, (await answer('GET', '/collections/notes/generations')).body, 'GET generations after a promotion');
});

test("the lists the page and the schemas offer are the stages' own", () => {
  assert.deepEqual(Web.MODES, SEARCH_MODES);
  assert.deepEqual(createCollectionBody.properties.index.properties.type.enum, [...INDEX_TYPES]);
  assert.deepEqual(searchResponse.properties.mode.enum, [...SEARCH_MODES]);
});
