/**
 * The web page in a real browser: Debian's Chromium (/usr/bin/chromium) driven by
 * playwright-core against a server this test starts on 127.0.0.1 (the stand-in hash
 * embedder, a small collection built by two evaluation runs and an upsert, a stand-in tier 2;
 * a second stand-in "model" for a shadow generation that is promoted and rolled back).
 * What the page shows is checked against what the API answers for the same request.
 *
 * Screenshots of both views (desktop) and the search view at phone width go to
 * tests/.artifacts/screenshots/ for a person to look at. They show the stand-in embedder's
 * scores, so the README's screenshots come from scripts/screenshots.mjs instead (real
 * all-MiniLM-L6-v2 results on the shipped sample).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Embedder } from '../src/embed/embedder.js';
import { ModelNotProvisionedError } from '../src/errors.js';
import { analyze } from '../src/lexical/analyzer.js';
import { REPO_ROOT, tempDir } from './support/env.js';
import { HashEmbedder } from './support/hash-embedder.js';
import { bearer, HASH_MODEL, hashEmbedder, hashServer, key, waitFor } from './support/server.js';

// Functions handed to page.evaluate() run in the browser; these name its globals for the
// typechecker (the tests compile without the DOM library), in this module only.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const sessionStorage: any;
declare const localStorage: any;
declare function getComputedStyle(el: unknown): any;
type HTMLElement = any;
type HTMLInputElement = any;

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(REPO_ROOT, 'tests', '.artifacts', 'screenshots');
const C = 'wildlife';
/** A second stand-in "model" for the generations panel: a reindex builds a shadow with it. */
const MODEL_B = 'test/hash-embedder-b';
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

const CORPUS = [
  ['heron', 'Grey herons', 'Grey herons stand still in shallow water by the river and catch fish with a quick stab of the bill.'],
  ['kingfisher', 'Kingfishers', 'A kingfisher dives from a branch over the river to catch small fish, then beats them on the perch.'],
  ['osprey', 'Ospreys', 'Ospreys hover high above lakes and plunge feet first to catch fish near the surface.'],
  ['otter', 'River otters', 'Otters slide down muddy banks, swim along the river and eat crayfish and fish.'],
  ['beaver', 'Beavers', 'Beavers gnaw through trees and build dams of branches and mud, turning streams into ponds.'],
  ['owl', 'Barn owls', 'Barn owls hunt at night over meadows, finding voles by sound in complete darkness.'],
  ['kestrel', 'Kestrels', 'A kestrel hovers over road verges looking for voles and beetles, running into the wind to stay in place.'],
  ['swift', 'Swifts', 'Swifts spend months on the wing, eating insects and even sleeping while flying high above towns.'],
  ['dragonfly', 'Dragonflies', 'Dragonflies are fast flying insects that catch midges in the air above ponds.'],
  ['fox', 'Red foxes', 'Red foxes runs along hedges at dusk and hunt mice by pouncing on them from above.'],
  ['badger', 'Badgers', 'Badgers dig large setts in woodland and come out at night to eat earthworms.'],
  ['salmon', 'Salmon', 'Salmon swim up the river from the sea and leap waterfalls to reach their spawning streams.'],
  ['frog', 'Common frogs', 'Frogs lay clumps of spawn in ponds in early spring; tadpoles eat algae.'],
  ['hedgehog', 'Hedgehogs', 'Hedgehogs roll into a ball of spines and wander gardens at night eating beetles and slugs.'],
] as const;
const QUERIES = [
  ['q1', 'birds that catch fish in the river', ['heron', 'kingfisher']],
  ['q2', 'animals that build dams', ['beaver']],
  ['q3', 'hunting at night', ['owl', 'badger']],
  ['q4', 'fast flying insects', ['dragonfly']],
  ['q5', 'swimming up the river', ['salmon', 'otter']],
] as const;

let dir: { path: string; cleanup: () => Promise<void> };
let app: FastifyInstance;
let base: string;
let browser: Browser;
const keys: Record<'read' | 'admin', string> = { read: '', admin: '' };
const contexts: BrowserContext[] = [];

interface ApiResult {
  chunkId: string;
  docId: string;
  source: string;
  rank: number;
  text: string;
  scores: Record<string, number | null>;
}

async function apiCall<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, k = keys.admin): Promise<{ status: number; json: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...bearer(k), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as T };
}

async function apiSearch(body: Record<string, unknown>): Promise<ApiResult[]> {
  const r = await apiCall<{ results: ApiResult[] }>('POST', `/collections/${C}/search`, { highlight: true, ...body }, keys.read);
  assert.equal(r.status, 200);
  return r.json.results;
}

async function evaluateOnce(modes: string[], first: boolean): Promise<void> {
  const started = await apiCall<{ id: string }>('POST', `/collections/${C}/evaluations`, { dataset: 'wildlife', modes, ...(first ? { model: 'test/hash-embedder' } : {}) });
  assert.equal(started.status, 202, JSON.stringify(started.json));
  const job = await waitFor('an evaluation', async () => {
    const j = await apiCall<{ status: string; error?: unknown }>('GET', `/collections/${C}/evaluations/${started.json.id}`);
    return j.json.status !== 'running' ? j.json : undefined;
  });
  assert.equal(job.status, 'done', JSON.stringify(job.error));
}

async function newPage(viewport = DESKTOP): Promise<Page> {
  const ctx = await browser.newContext({ viewport, reducedMotion: 'reduce' });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[0-9]|status of 413/.test(m.text())) errors.push(m.text());
  });
  (page as Page & { jsErrors: string[] }).jsErrors = errors;
  return page;
}

function jsErrors(page: Page): string[] {
  return (page as Page & { jsErrors: string[] }).jsErrors;
}

async function login(page: Page, k: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.fill('#api-key', k);
  await page.press('#api-key', 'Enter');
  await page.waitForSelector('header.top');
}

/**
 * Does `act` and waits until the search it starts has finished and rendered: the page
 * counts finished searches in data-searches, so an earlier idle state cannot pass for it.
 */
async function settled(page: Page, act: () => Promise<unknown>): Promise<void> {
  const before = Number(await page.getAttribute('.results-area', 'data-searches'));
  await act();
  await page.waitForFunction(
    (b) => {
      const area = document.querySelector('.results-area');
      return Number(area?.getAttribute('data-searches')) > b && area?.getAttribute('aria-busy') === 'false';
    },
    before,
  );
}

async function searchFor(page: Page, query: string): Promise<void> {
  await page.fill('#query', query);
  await settled(page, () => page.press('#query', 'Enter'));
}

async function shownChunks(page: Page): Promise<string[]> {
  return page.$$eval('.results > li.result', (els) => els.map((e) => e.getAttribute('data-chunk') ?? ''));
}

async function noHorizontalOverflow(page: Page, what: string): Promise<void> {
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client, `${what}: the page is ${scroll}px wide in a ${client}px viewport`);
  // and nothing is cut off by overflow:hidden on the body either
  const widest = await page.evaluate(() => {
    let max = 0;
    for (const el of Array.from(document.querySelectorAll('body *') as ArrayLike<any>)) {
      if (el.closest('.table-scroll, .history-chart, .sr-only')) continue;
      const r = el.getBoundingClientRect();
      if (r.width > 0) max = Math.max(max, r.right);
    }
    return max;
  });
  assert.ok(widest <= PHONE.width + 0.5, `${what}: an element reaches ${widest}px`);
}

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the browser tests need Debian's Chromium at ${CHROMIUM}: install it with \`apt-get install chromium\` (.ci/run does)`);
  }
  dir = await tempDir('quarry-web-ui-');
  const data = join(dir.path, 'data');
  const datasets = join(dir.path, 'datasets');
  const ds = join(datasets, 'wildlife');
  await mkdir(join(ds, 'qrels'), { recursive: true });
  await writeFile(join(ds, 'corpus.jsonl'), CORPUS.map(([_id, title, text]) => JSON.stringify({ _id, title, text })).join('\n') + '\n');
  await writeFile(join(ds, 'queries.jsonl'), QUERIES.map(([_id, text]) => JSON.stringify({ _id, text })).join('\n') + '\n');
  await writeFile(join(ds, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\n' + QUERIES.flatMap(([q, , rel]) => rel.map((d) => `${q}\t${d}\t1`)).join('\n') + '\n');

  keys.read = await key(data, 'read', [C]);
  keys.admin = await key(data, 'admin', ['*']);
  const a = await hashEmbedder();
  const b = await HashEmbedder.create(16, MODEL_B);
  app = await hashServer(data, a, {
    datasetsRoot: datasets,
    loadEmbedder: async (ref: string): Promise<Embedder> => {
      if (ref === MODEL_B || ref.startsWith(`${MODEL_B}:`)) return b;
      if (ref === HASH_MODEL || ref.startsWith(`${HASH_MODEL}:`)) return a;
      throw new ModelNotProvisionedError(ref, '(test)', 'only the hash embedders exist in these tests');
    },
    // a stand-in tier 2: passages sharing more query words score higher
    loadReranker: async () => ({
      description: 'stand-in tier 2',
      score: async (q, cands) => cands.map((c) => analyze(c.text).filter((t) => analyze(q).includes(t)).length + c.text.length / 1e4),
      close: async () => {},
    }),
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });

  // version 1 and an evaluation; then more documents (version 2) and a second evaluation
  await evaluateOnce(['bm25', 'vector', 'hybrid'], true);
  const up = await apiCall('POST', `/collections/${C}/documents`, {
    documents: [
      { id: 'grebe', title: 'Great crested grebes', text: 'Grebes dive for fish in lakes and carry their chicks on their backs.' },
      { id: 'cormorant', title: 'Cormorants', text: 'Cormorants catch fish underwater, then stand with wings spread to dry by the river.' },
    ],
  });
  assert.equal(up.status, 200, JSON.stringify(up.json));
  await evaluateOnce(['bm25', 'vector', 'hybrid'], false);
  await mkdir(SHOTS, { recursive: true });
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
  await dir?.cleanup();
});

test('the page asks for a key, refuses a wrong one with the API’s message, keeps a good one for the tab only', async () => {
  const page = await newPage();
  const res = await page.goto(`${base}/`);
  assert.equal(res?.status(), 200);
  assert.match(String(res?.headers()['content-security-policy']), /default-src 'self'/);
  await page.waitForSelector('#api-key');
  assert.equal(await page.locator('#query').count(), 0, 'the search form shows before a key is given');
  const wrong = `qk_${'0'.repeat(12)}_${'1'.repeat(64)}`;
  const expected = (await apiCall<{ error: { message: string } }>('GET', '/session', undefined, wrong)).json.error.message;
  await page.fill('#api-key', wrong);
  await page.click('button[type=submit]');
  const alert = page.locator('[role=alert]');
  await alert.waitFor();
  assert.match(await alert.innerText(), new RegExp(expected.replace(/[()]/g, '\\$&')));
  assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0, 'a refused key is stored');

  await page.fill('#api-key', keys.read);
  await page.press('#api-key', 'Enter');
  await page.waitForSelector('#query');
  assert.match(await page.locator('.who').innerText(), /read/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('quarry.apiKey')), keys.read);
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'the key reached localStorage');
  // a reload keeps the key (same tab); "Forget key" drops it
  await page.reload();
  await page.waitForSelector('#query');
  await page.click('text=Forget key');
  await page.waitForSelector('#api-key');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.deepEqual(jsErrors(page), []);
});

test('search: Enter submits; results show the API’s order, highlighted query terms, lineage and per-tier scores', async () => {
  const page = await newPage();
  await login(page, keys.read);
  await page.focus('#query');
  await page.keyboard.type('birds catching fish by the river');
  await settled(page, () => page.keyboard.press('Enter'));
  const api = await apiSearch({ query: 'birds catching fish by the river', mode: 'hybrid', k: 10 });
  assert.ok(api.length > 3);
  assert.deepEqual(await shownChunks(page), api.map((r) => r.chunkId));
  // the API answers documents by default, and the page shows them as such
  assert.match(await page.locator('#search-status').innerText(), new RegExp(`^${api.length} documents in`));
  assert.deepEqual(await page.$$eval('.results > li.result', (els) => els.map((e) => e.getAttribute('data-doc'))), api.map((r) => r.docId));

  const terms = new Set(analyze('birds catching fish by the river'));
  const marks = await page.$$eval('.results mark', (els) => els.map((e) => e.textContent ?? ''));
  assert.ok(marks.length >= api.length, `only ${marks.length} marks`);
  for (const m of marks) assert.ok(analyze(m).some((t) => terms.has(t)), `"${m}" is marked but is no query term`);
  assert.ok(marks.some((m) => m.toLowerCase() === 'catch'), '"catching" marks "catch" (stemming)');

  const first = page.locator('.results > li.result').first();
  const lineage = await first.locator('.lineage').innerText();
  assert.ok(lineage.includes(api[0].source), `${lineage} does not name ${api[0].source}`);
  assert.match(lineage, /test\/hash-embedder/);
  // every tier has a row; hybrid shows vector, BM25 and fused numbers, rerank did not run
  const tiers = await first.locator('.scores tr').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-tier'), r.querySelector('td.num')?.textContent ?? '']));
  assert.deepEqual(tiers.map(([t]) => t), ['vector', 'bm25', 'fused', 'rerank']);
  const fused = api[0].scores.fused!;
  assert.equal(Number(tiers[2][1]), Number(fused.toPrecision(4)));
  assert.equal(tiers[3][1], '—');
  const width = await first.locator('[data-tier=fused] .fill').evaluate((e) => parseFloat((e as HTMLElement).style.width));
  assert.equal(width, 100, 'the best fused score fills its bar');

  await page.screenshot({ path: join(SHOTS, 'search-view.png'), fullPage: false });
  assert.deepEqual(jsErrors(page), []);
});

test('switching mode searches again and changes the results and the scores shown', async () => {
  const page = await newPage();
  await login(page, keys.read);
  const query = 'animals that swim in the river';
  await searchFor(page, query);
  const hybrid = await shownChunks(page);
  await settled(page, () => page.click('.segmented label:has-text("BM25")'));
  assert.match(await page.locator('#search-status').innerText(), /\(bm25\)/);
  const bm25 = await shownChunks(page);
  const api = await apiSearch({ query, mode: 'bm25', k: 10 });
  assert.deepEqual(bm25, api.map((r) => r.chunkId));
  assert.notDeepEqual(bm25, hybrid, 'the same list after a mode switch');
  // BM25 alone: no vector or fused score on any result
  const cells = await page.$$eval('.results [data-tier=vector] td.num, .results [data-tier=fused] td.num', (els) => els.map((e) => e.textContent));
  assert.ok(cells.length > 0 && cells.every((c) => c === '—'));
  await settled(page, () => page.click('.segmented label:has-text("vector")'));
  assert.match(await page.locator('#search-status').innerText(), /\(vector\)/);
  const vector = await apiSearch({ query, mode: 'vector', k: 10 });
  assert.deepEqual(await shownChunks(page), vector.map((r) => r.chunkId));
  const bm25Cells = await page.$$eval('.results [data-tier=bm25] td.num', (els) => els.map((e) => e.textContent));
  assert.ok(bm25Cells.every((c) => c === '—'));

  // rerank: the tier-2 score appears
  await settled(page, () => page.check('#rerank'));
  assert.match(await page.locator('#search-status').innerText(), /\(vector \+ rerank\)/);
  const rerank = await page.$$eval('.results [data-tier=rerank] td.num', (els) => els.map((e) => e.textContent));
  assert.ok(rerank.length > 0 && rerank.every((c) => c !== '—'), JSON.stringify(rerank));
  assert.deepEqual(jsErrors(page), []);
});

test('loading is visible and nothing moves: the status says so, old results stay in place until the new ones arrive', async () => {
  const page = await newPage();
  await login(page, keys.read);
  await searchFor(page, 'fish');
  const statusBefore = await page.locator('#search-status').boundingBox();
  const firstBefore = await page.locator('.results > li.result').first().boundingBox();
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  await page.route('**/search', async (route) => {
    await held;
    await route.continue();
  });
  const finished = Number(await page.getAttribute('.results-area', 'data-searches'));
  await page.fill('#query', 'river');
  await page.press('#query', 'Enter');
  await page.waitForFunction(() => document.querySelector('.results-area')?.getAttribute('aria-busy') === 'true');
  assert.equal(await page.locator('#search-status').innerText(), 'Searching…');
  assert.equal(await page.locator('button[type=submit]').innerText(), 'Searching…');
  assert.deepEqual(await page.locator('#search-status').boundingBox(), statusBefore);
  assert.deepEqual(await page.locator('.results > li.result').first().boundingBox(), firstBefore, 'the results moved while loading');
  release();
  await page.waitForFunction((b) => Number(document.querySelector('.results-area')?.getAttribute('data-searches')) > b, finished);
  await page.unroute('**/search');
  assert.deepEqual(await page.locator('#search-status').boundingBox(), statusBefore);
  assert.deepEqual(await shownChunks(page), (await apiSearch({ query: 'river', mode: 'hybrid', k: 10 })).map((r) => r.chunkId));
});

test('an API error is shown in place with the server’s message', async () => {
  const page = await newPage();
  await login(page, keys.read);
  const long = 'river '.repeat(400);
  const api = await apiCall<{ error: { message: string; field: string } }>('POST', `/collections/${C}/search`, { query: long, mode: 'hybrid', k: 10, highlight: true }, keys.read);
  assert.equal(api.status, 413);
  await searchFor(page, long);
  const err = page.locator('#search-error');
  await err.waitFor();
  const text = await err.innerText();
  assert.ok(text.includes(api.json.error.message), text);
  assert.match(text, /413/);
  assert.match(text, /field: query/);
});

test('a cutoff that removes everything says so plainly', async () => {
  const page = await newPage();
  await login(page, keys.read);
  await page.click('.segmented label:has-text("vector")');
  await page.fill('#cutoff', '1.01');
  await searchFor(page, 'herons');
  assert.deepEqual(await apiSearch({ query: 'herons', mode: 'vector', k: 10, minScore: 1.01 }), [], 'a cosine over 1 passed the cutoff');
  const empty = page.locator('[data-empty]');
  await empty.waitFor();
  assert.match(await empty.innerText(), /^No results: nothing scored at or above the cutoff of 1\.01 \(cosine similarity\)/);
  assert.equal(await page.locator('#search-status').innerText(), 'No results above the cutoff.');
  assert.equal(await page.locator('.results > li').count(), 0);
  // clearing the cutoff brings results back
  await page.fill('#cutoff', '');
  await searchFor(page, 'herons');
  assert.ok((await shownChunks(page)).length > 0);
});

test('side by side: two modes’ top 10, each result marked with where it stands in the other list', async () => {
  const page = await newPage();
  await login(page, keys.read);
  const query = 'birds that dive for fish';
  await page.click('.segmented label:has-text("BM25")');
  await page.selectOption('#compare-mode', 'vector');
  await page.fill('#query', query);
  await page.check('#compare');
  await settled(page, () => page.press('#query', 'Enter'));
  await page.waitForSelector('.compare');
  const [a, b] = await Promise.all([apiSearch({ query, mode: 'bm25', k: 10 }), apiSearch({ query, mode: 'vector', k: 10 })]);
  const expected = (mine: ApiResult[], other: ApiResult[]) => {
    const ranks = new Map(other.map((r) => [r.chunkId, r.rank]));
    return mine.map((r) => {
      const o = ranks.get(r.chunkId);
      return [r.chunkId, o === undefined ? 'only' : o === r.rank ? 'same' : o > r.rank ? 'up' : 'down'];
    });
  };
  const shown = async (col: string) => page.$$eval(`${col} .compare-item`, (els) => els.map((e) => [e.getAttribute('data-chunk'), e.getAttribute('data-moved')]));
  assert.deepEqual(await shown('[aria-labelledby=compare-a]'), expected(a, b));
  assert.deepEqual(await shown('[aria-labelledby=compare-b]'), expected(b, a));
  const moved = await page.locator('.compare-item[data-moved=up], .compare-item[data-moved=down], .compare-item[data-moved=only]').count();
  assert.ok(moved > 0, 'nothing is marked as moved');
  // the mark says it in words too
  const label = await page.locator('[aria-labelledby=compare-b] .move .sr-only').first().innerText();
  assert.match(label, /bm25/);
  assert.ok((await page.locator('.compare mark').count()) > 0, 'no highlights in the comparison');
  assert.deepEqual(jsErrors(page), []);
});

test('keyboard: the query submits with Enter and the focused control is visibly outlined', async () => {
  const page = await newPage();
  await login(page, keys.read);
  await page.focus('#query');
  await page.keyboard.type('owls at night');
  await settled(page, () => page.keyboard.press('Enter'));
  assert.ok((await shownChunks(page)).length > 0);
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => {
    const el = document.activeElement as HTMLElement;
    const s = getComputedStyle(el);
    return { tag: el.tagName, text: el.textContent, style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
  });
  assert.equal(focused.tag, 'BUTTON');
  assert.equal(focused.text, 'Search');
  assert.notEqual(focused.style, 'none');
  assert.ok(focused.width >= 2, `outline ${focused.width}px`);
  // the mode radios are reachable and switch with the arrow keys
  await page.focus('input[name=mode]:checked');
  await settled(page, () => page.keyboard.press('ArrowRight'));
  assert.equal(await page.evaluate(() => (document.querySelector('input[name=mode]:checked') as HTMLInputElement | null)?.value), 'vector');
  const ring = await page.evaluate(() => getComputedStyle(document.querySelector('input[name=mode]:checked + span')!).outlineStyle);
  assert.notEqual(ring, 'none', 'the focused mode shows no outline');
});

test('collection view: model and fingerprint, index, sizes, versions, evaluation charts and live latency', async () => {
  const info = (await apiCall<{ model: { id: string }; ann: { type: string }; disk: { totalBytes: number }; memory: { bytes: number } }>('GET', `/collections/${C}`, undefined, keys.read)).json;
  const versions = (await apiCall<{ versions: Array<{ version: number }> }>('GET', `/collections/${C}/versions`, undefined, keys.read)).json.versions;
  const page = await newPage();
  await login(page, keys.read);
  await searchFor(page, 'fish'); // one more search for the latency table
  await page.click('nav >> text=Collection');
  await page.waitForSelector('[data-section=overview]');
  assert.match(await page.locator('[data-field=model]').innerText(), new RegExp(info.model.id));
  assert.match(await page.locator('[data-field=fingerprint]').innerText(), /verified/);
  assert.match(await page.locator('[data-field=index]').innerText(), new RegExp(`^${info.ann.type}`));
  assert.match(await page.locator('[data-field=disk]').innerText(), /\d.*(B|KiB|MiB)$/);
  assert.match(await page.locator('[data-field=memory]').innerText(), /\d.*(B|KiB|MiB)$/);
  assert.ok(info.memory.bytes > 0 && info.disk.totalBytes > 0);
  await page.waitForSelector('table.versions tbody tr');
  assert.equal(await page.locator('table.versions tbody tr').count(), versions.length);
  assert.ok(versions.length >= 2);
  // evaluation: the latest result per mode and the history chart
  await page.waitForSelector('.eval-bars tbody tr');
  assert.deepEqual(await page.$$eval('.eval-bars tbody th', (els) => els.map((e) => e.textContent)), ['bm25', 'vector', 'hybrid']);
  const history = (await apiCall<{ evaluations: Array<{ modes: Array<{ mode: string; metrics: Record<string, number> }> }> }>('GET', `/collections/${C}/evaluations/history`, undefined, keys.read)).json.evaluations;
  assert.equal(history.length, 2);
  const bm25Latest = history[1].modes.find((m) => m.mode === 'bm25')!.metrics['ndcg@10'];
  assert.equal(Number(await page.locator('.eval-bars tbody tr').first().locator('.num').first().innerText()), Number(bm25Latest.toPrecision(4)));
  assert.equal(await page.locator('.history-chart canvas').count(), 1, 'no history chart');
  // live latency: the searches of this test file, per mode
  await page.waitForSelector('table.latency tbody tr');
  const latencyModes = await page.$$eval('table.latency tbody tr', (rows) => rows.map((r) => r.getAttribute('data-mode')));
  assert.ok(latencyModes.includes('all modes') && latencyModes.includes('hybrid') && latencyModes.includes('bm25'), JSON.stringify(latencyModes));
  const p50 = await page.locator('table.latency tr[data-mode=hybrid] td').nth(1).innerText();
  assert.match(p50, /ms$/);
  assert.equal(await page.locator('button.rollback').count(), 0, 'a read key is offered a rollback');
  assert.equal(await page.locator('th:has-text("Action")').count(), 0);
  assert.deepEqual(jsErrors(page), []);
});

test('rollback is offered to an admin key only; the server refuses a read key anyway', async () => {
  const denied = await apiCall<{ error: { code: string } }>('POST', `/collections/${C}/rollback`, { version: 1 }, keys.read);
  assert.equal(denied.status, 403);
  const page = await newPage();
  await login(page, keys.admin);
  await page.goto(`${base}/#/collections/${C}`);
  await page.waitForSelector('table.versions tbody tr');
  const versions = (await apiCall<{ versions: Array<{ version: number; current: boolean }> }>('GET', `/collections/${C}/versions`)).json.versions;
  assert.equal(await page.locator('button.rollback').count(), versions.filter((v) => !v.current).length);
  await page.screenshot({ path: join(SHOTS, 'collection-view.png'), fullPage: true });
});

test('rollback asks for confirmation; cancel changes nothing, confirm creates a new version', async () => {
  const page = await newPage();
  await login(page, keys.admin);
  await page.goto(`${base}/#/collections/${C}`);
  await page.waitForSelector('button.rollback');
  const before = (await apiCall<{ versions: Array<{ version: number; current: boolean; documents: number }> }>('GET', `/collections/${C}/versions`)).json.versions;
  const head = before[before.length - 1].version;
  await page.click('tr[data-version="1"] button.rollback');
  const dialog = page.locator('dialog[open]');
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /Roll back “wildlife” to version 1\?/);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel', 'focus is not on Cancel');
  await page.keyboard.press('Escape');
  await page.waitForSelector('dialog[open]', { state: 'detached' });
  assert.equal((await apiCall<{ versions: unknown[] }>('GET', `/collections/${C}/versions`)).json.versions.length, before.length, 'cancel rolled back');

  await page.click('tr[data-version="1"] button.rollback');
  await page.click('dialog[open] button.danger');
  await page.waitForSelector('dialog[open]', { state: 'detached' });
  const status = page.locator('#versions-title ~ .status');
  await page.waitForFunction(() => /Rolled back/.test(document.querySelector('#versions-title ~ .status')?.textContent ?? ''));
  assert.match(await status.innerText(), new RegExp(`version ${head + 1} now serves the documents of version 1`));
  const after = (await apiCall<{ versions: Array<{ version: number; current: boolean; kind: string; documents: number }> }>('GET', `/collections/${C}/versions`)).json.versions;
  assert.equal(after.length, before.length + 1);
  const created = after[after.length - 1];
  assert.equal(created.version, head + 1);
  assert.equal(created.current, true);
  assert.equal(created.documents, before[0].documents);
  await page.waitForSelector(`tr[data-version="${head + 1}"].current`);
  // the overview follows
  await page.waitForFunction((v) => document.querySelector('[data-section=overview]')?.textContent?.includes(`Version${v}`), head + 1);
});

interface GenerationsAnswer {
  live: number;
  shadow: number | null;
  previous: number[];
  generations: Array<{ id: number; state: string; model: string; gate?: { passed: boolean; mode: string; live: Record<string, number>; shadow: Record<string, number> } }>;
  reindex: { status: string; error?: unknown } | null;
}

const generations = async () => (await apiCall<GenerationsAnswer>('GET', `/collections/${C}/generations`, undefined, keys.read)).json;

test('generations: one line while there is one; after a reindex the panel lists live and shadow, and a read key gets no buttons', async () => {
  const page = await newPage();
  await login(page, keys.read);
  await page.goto(`${base}/#/collections/${C}`);
  const single = page.locator('[data-generations=single]');
  await single.waitFor();
  assert.match(await single.innerText(), new RegExp(`quarry reindex --collection ${C} --model <id>`));

  const started = await apiCall<{ reindex: { status: string } }>('POST', `/collections/${C}/generations`, { model: MODEL_B });
  assert.equal(started.status, 202, JSON.stringify(started.json));
  const g = await waitFor('the reindex job', async () => {
    const now = await generations();
    return now.reindex?.status !== 'running' ? now : undefined;
  });
  assert.equal(g.reindex?.status, 'done', JSON.stringify(g.reindex?.error));
  assert.equal(g.live, 1);
  assert.equal(typeof g.shadow, 'number');

  await page.reload();
  await page.waitForSelector(`table.generations tr[data-generation="${g.shadow}"]`);
  assert.deepEqual(
    await page.$$eval('table.generations tbody tr', (rows) => rows.map((r) => [Number(r.getAttribute('data-generation')), r.getAttribute('data-state')])),
    [
      [1, 'live'],
      [g.shadow, 'shadow'],
    ],
  );
  assert.match(await page.locator(`tr[data-generation="${g.shadow}"]`).innerText(), new RegExp(MODEL_B));
  assert.match(await page.locator('[data-field=shadow]').innerText(), new RegExp(`generation ${g.shadow}`));
  assert.match(await page.locator('[data-field=previous]').innerText(), /no earlier generation/);
  assert.equal(await page.locator('[data-field=reindex]').getAttribute('data-status'), 'done');
  assert.equal(await page.locator('#promote-shadow, #rollback-generation, #gate-mode').count(), 0, 'a read key is offered a promotion');
  const denied = await apiCall('POST', `/collections/${C}/promote`, {}, keys.read);
  assert.equal(denied.status, 403);
  assert.deepEqual(jsErrors(page), []);
});

test('promote asks for confirmation, shows the API’s refusal in place, then passes the BM25 gate and the shadow goes live', async () => {
  const shadow = (await generations()).shadow!;
  const page = await newPage();
  await login(page, keys.admin);
  await page.goto(`${base}/#/collections/${C}`);
  await page.waitForSelector('#promote-shadow');
  assert.match(await page.locator('#promote-shadow').innerText(), new RegExp(`^Promote shadow \\(generation ${shadow}\\)$`));
  assert.equal(await page.locator('#rollback-generation').count(), 0);
  assert.equal(await page.locator('label[for=gate-mode]').count(), 1, 'the gate mode has no label');

  // cancel changes nothing
  await page.click('#promote-shadow');
  const dialog = page.locator('dialog[open]');
  await dialog.waitFor();
  assert.match(await dialog.innerText(), new RegExp(`Promote generation ${shadow} of “${C}”\\?`));
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel', 'focus is not on Cancel');
  await page.keyboard.press('Escape');
  await page.waitForSelector('dialog[open]', { state: 'detached' });
  assert.equal((await generations()).live, 1, 'cancel promoted');

  // no judgments yet: the API's 400 in the dialog, nothing changed
  await page.click('#promote-shadow');
  await page.click('dialog[open] button.danger');
  const err = page.locator('#promote-error');
  await err.waitFor();
  const refused = await apiCall<{ error: { message: string } }>('POST', `/collections/${C}/promote`, {});
  assert.equal(refused.status, 400);
  assert.match(refused.json.error.message, /no held-out judgments/);
  const shown = await err.innerText();
  assert.ok(shown.includes(refused.json.error.message), shown);
  assert.match(shown, /400/);
  // a gate refusal's message holds both rows on lines of their own: line breaks are kept
  assert.equal(await err.locator('.error-message').evaluate((e) => getComputedStyle(e).whiteSpace), 'pre-wrap');
  assert.equal(await page.locator('dialog[open] button.danger').isEnabled(), true);
  await page.click('dialog[open] button:has-text("Cancel")');
  await page.waitForSelector('dialog[open]', { state: 'detached' });
  assert.equal((await generations()).live, 1);

  const judged = await apiCall('PUT', `/collections/${C}/judgments`, { queries: QUERIES.map(([id, query, expected]) => ({ id, query, expected: [...expected] })) });
  assert.equal(judged.status, 200, JSON.stringify(judged.json));

  // BM25: both generations hold the same text and chunking, so the gate passes
  await page.selectOption('#gate-mode', 'bm25');
  await page.click('#promote-shadow');
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /bm25 search/);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  await page.route('**/promote', async (route) => {
    await held;
    await route.continue();
  });
  await page.click('dialog[open] button.danger');
  await page.waitForFunction(() => document.querySelector('dialog[open] button.danger')?.textContent === 'Judging and promoting…');
  assert.equal(await page.locator('dialog[open] button.danger').isDisabled(), true, 'the button stays active while promoting');
  assert.equal(await page.locator('dialog[open] button:has-text("Cancel")').isDisabled(), true);
  release();
  await page.waitForSelector('dialog[open]', { state: 'detached' });
  await page.unroute('**/promote');
  await page.waitForFunction(() => /Promoted/.test(document.querySelector('#generations-status')?.textContent ?? ''));
  assert.match(await page.locator('#generations-status').innerText(), new RegExp(`generation ${shadow} is live .*passed with bm25 search.*Rollback returns to generation 1`));

  const g = await generations();
  assert.equal(g.live, shadow);
  assert.deepEqual(g.previous, [1]);
  await page.waitForSelector(`tr[data-generation="${shadow}"][data-state=live]`);
  await page.waitForSelector('tr[data-generation="1"][data-state=retired]');
  assert.equal(await page.locator('#rollback-generation').innerText(), 'Roll back to generation 1');
  assert.equal(await page.locator('#promote-shadow').count(), 0);
  // the gate it passed, as the API recorded it
  const gate = g.generations.find((x) => x.id === shadow)!.gate!;
  assert.equal(gate.passed, true);
  assert.equal(gate.mode, 'bm25');
  assert.equal(await page.locator('[data-field=gate]').getAttribute('data-verdict'), 'passed');
  const cells = await page.$$eval('table.gate tbody tr', (rows) => rows.map((r) => [r.getAttribute('data-role'), ...Array.from(r.querySelectorAll('td') as ArrayLike<any>).map((c) => Number(c.textContent))]));
  assert.deepEqual(cells, [
    ['live', Number(gate.live['ndcg@10'].toPrecision(4)), Number(gate.live['recall@100'].toPrecision(4))],
    ['shadow', Number(gate.shadow['ndcg@10'].toPrecision(4)), Number(gate.shadow['recall@100'].toPrecision(4))],
  ]);
  // the overview follows
  await page.waitForFunction((m) => document.querySelector('[data-field=model]')?.textContent?.startsWith(m), MODEL_B);
  await page.screenshot({ path: join(SHOTS, 'collection-view.png'), fullPage: true });
  assert.deepEqual(jsErrors(page), []);
});

test('rolling back a generation asks for confirmation and makes generation 1 live again', async () => {
  const was = (await generations()).live;
  const page = await newPage();
  await login(page, keys.admin);
  await page.goto(`${base}/#/collections/${C}`);
  await page.waitForSelector('#rollback-generation');
  await page.click('#rollback-generation');
  const dialog = page.locator('dialog[open]');
  await dialog.waitFor();
  assert.match(await dialog.innerText(), new RegExp(`Roll back “${C}” to generation 1\\?`));
  await page.click('dialog[open] button.danger');
  await page.waitForSelector('dialog[open]', { state: 'detached' });
  await page.waitForFunction(() => /Rolled back/.test(document.querySelector('#generations-status')?.textContent ?? ''));
  assert.match(await page.locator('#generations-status').innerText(), /generation 1 is live again/);
  const g = await generations();
  assert.equal(g.live, 1);
  await page.waitForSelector('tr[data-generation="1"][data-state=live]');
  await page.waitForSelector(`tr[data-generation="${was}"][data-state=retired]`);
  assert.equal(await page.locator('#rollback-generation, #promote-shadow').count(), 0);
  await page.waitForFunction((m) => document.querySelector('[data-field=model]')?.textContent?.startsWith(`${m}:`), HASH_MODEL);
  // generation 1 answers searches again
  assert.ok((await apiSearch({ query: 'fish', mode: 'vector', k: 5 })).length > 0);
  assert.deepEqual(jsErrors(page), []);
});

test('phone width (390 px): no horizontal overflow in either view', async () => {
  const page = await newPage(PHONE);
  await login(page, keys.admin);
  await searchFor(page, 'fish in the river');
  assert.ok((await shownChunks(page)).length > 0);
  await noHorizontalOverflow(page, 'search results');
  await page.screenshot({ path: join(SHOTS, 'search-view-phone.png'), fullPage: false });
  await settled(page, () => page.check('#compare'));
  await page.waitForSelector('.compare');
  await noHorizontalOverflow(page, 'side by side');
  await page.goto(`${base}/#/collections/${C}`);
  await page.waitForSelector('table.latency');
  await page.waitForSelector('.history-chart canvas');
  await page.waitForSelector('table.generations');
  await noHorizontalOverflow(page, 'collection view');
});

test('screenshots: both views at desktop size were written', async () => {
  for (const f of ['search-view.png', 'collection-view.png', 'search-view-phone.png']) assert.ok(existsSync(join(SHOTS, f)), `${f} missing`);
});
