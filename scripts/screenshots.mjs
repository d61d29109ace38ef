#!/usr/bin/env node
/**
 * The README's screenshots of the web page, with real results: indexes the shipped sample
 * (sample/) with the default model (all-MiniLM-L6-v2) into a temporary data folder, starts
 * `quarry serve` on it, drives Debian's Chromium (playwright-core, as tests/web-ui.test.ts
 * does) through a few searches and writes docs/images/search-view.png and
 * docs/images/collection-view.png.
 *
 *   npm run build && node scripts/screenshots.mjs
 *
 * Needs the models (`npm run models`) and /usr/bin/chromium (`apt-get install chromium`);
 * CHROMIUM names another browser binary.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'bin', 'quarry.js');
const OUT = join(ROOT, 'docs', 'images');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SEARCH = 'how do I keep the tent from getting mouldy';
/** Searches run first, so the collection view's live latency has something to show. */
const WARMUP = ['ORD-2024-00042', 'how come my shelter gets soggy by daybreak despite zero precipitation', 'is my stove part of the recall', 'which batteries for a headlamp in freezing weather'];

function quarry(args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`quarry ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  return r.stdout;
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

async function waitReady(base, key, server) {
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    if (server.exitCode !== null) throw new Error(`quarry serve exited with ${server.exitCode}`);
    try {
      const r = await fetch(`${base}/readyz`, { headers: { authorization: `Bearer ${key}` } });
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('quarry serve was not ready within 2 minutes');
}

/** Waits until the search the page just started has finished and rendered (the page counts them). */
async function settled(page, act) {
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

const data = await mkdtemp(join(tmpdir(), 'quarry-screenshots-'));
let server;
let browser;
try {
  process.stdout.write(quarry(['index', join(ROOT, 'sample'), '--data', data]));
  const key = quarry(['keys', 'create', '--scope', 'admin', '--collection', '*', '--data', data]).trim();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, [CLI, 'serve', '--port', String(port), '--data', data], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitReady(base, key, server);

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1400 }, reducedMotion: 'reduce' });
  const page = await ctx.newPage();
  page.setDefaultTimeout(60_000);
  await page.goto(`${base}/`);
  await page.fill('#api-key', key);
  await page.press('#api-key', 'Enter');
  await page.waitForSelector('header.top');
  for (const q of [...WARMUP, SEARCH]) {
    await page.fill('#query', q);
    await settled(page, () => page.press('#query', 'Enter'));
  }
  const shown = await page.$$eval('.results > li.result', (els) => els.length);
  if (shown === 0) throw new Error(`no results shown for "${SEARCH}"`);
  await page.screenshot({ path: join(OUT, 'search-view.png'), fullPage: false });
  console.log(`wrote ${join(OUT, 'search-view.png')} (${shown} results for "${SEARCH}")`);

  await page.goto(`${base}/#/collections/default`);
  await page.waitForSelector('table.latency');
  await page.screenshot({ path: join(OUT, 'collection-view.png'), fullPage: true });
  console.log(`wrote ${join(OUT, 'collection-view.png')}`);
} finally {
  await browser?.close();
  server?.kill('SIGTERM');
  await rm(data, { recursive: true, force: true });
}
