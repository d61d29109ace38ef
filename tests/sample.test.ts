/**
 * The shipped sample (sample/) answers the README's three questions as the README says:
 * every file ingests (PDFs included), an exact order id beats its look-alikes in the default
 * hybrid mode (and not in vector mode alone), a paraphrase with no shared word finds its
 * article, and a cosine cutoff leaves an off-topic question with nothing.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { indexPaths, type IndexReport } from '../src/api/index-paths.js';
import { search, type SearchOptions } from '../src/api/search.js';
import { modelsDir, REPO_ROOT, tempDir } from './support/env.js';
import { closeEmbedders, sharedEmbedder } from './support/model.js';

const SAMPLE = join(REPO_ROOT, 'sample');
const PARAPHRASE = 'how come my shelter gets soggy by daybreak despite zero precipitation';
let dir: { path: string; cleanup: () => Promise<void> };
let report: IndexReport;

before(async () => {
  dir = await tempDir();
  report = await indexPaths([SAMPLE], { dataDir: dir.path, modelsDir: modelsDir(), embedder: await sharedEmbedder() });
});
after(async () => {
  await closeEmbedders();
  await dir.cleanup();
});

async function run(query: string, opts: SearchOptions = {}) {
  return search(query, { dataDir: dir.path, modelsDir: modelsDir(), embedder: await sharedEmbedder(), ...opts });
}

const file = (source: string) => source.slice(SAMPLE.length + 1);

test('every file of the sample ingests: Markdown, HTML, PDF and text', () => {
  assert.deepEqual(report.problems, []);
  assert.equal(report.documentsAdded, 31);
});

test('an exact order id: hybrid (the default) ranks its record first; vector alone ranks a look-alike first', async () => {
  const hybrid = await run('ORD-2024-00042', { k: 3 });
  assert.equal(file(hybrid.results[0].source), 'orders/ORD-2024-00042.md');
  const vector = await run('ORD-2024-00042', { k: 3, mode: 'vector' });
  assert.notEqual(file(vector.results[0].source), 'orders/ORD-2024-00042.md');
  assert.match(file(vector.results[0].source), /^orders\/ORD-2024-000\d\d\.md$/);
});

test('a paraphrase that shares no word with its answer finds it', async () => {
  assert.deepEqual((await run(PARAPHRASE, { mode: 'bm25' })).results, [], 'premise: no word in common with the sample');
  const res = await run(PARAPHRASE, { k: 3 });
  assert.equal(file(res.results[0].source), 'kb/tent-condensation.md');
});

test('a cosine cutoff of 0.3 keeps the answers and leaves an off-topic question with nothing', async () => {
  assert.deepEqual((await run('recipe for sourdough bread', { minScore: 0.3 })).results, []);
  const kept = await run(PARAPHRASE, { minScore: 0.3 });
  assert.equal(file(kept.results[0].source), 'kb/tent-condensation.md');
  const id = await run('ORD-2024-00042', { minScore: 0.3 });
  assert.equal(file(id.results[0].source), 'orders/ORD-2024-00042.md');
});
