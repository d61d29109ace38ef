import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadFile, normalizeText } from '../src/ingest/index.js';
import { collect, onlyDoc, tempDir } from './support/ingest-files.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ path: root, cleanup } = await tempDir('quarry-ingest-large-'));
});
after(() => cleanup());

/** A function that runs a full garbage collection, if one can be had. */
function gcFunction(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

/**
 * Raw paragraphs-blocks, each ending in a run of CRLF blank lines. Every block starts with
 * text, so the whole file normalizes to the normalized blocks joined by one blank line; that
 * gives the expected text without ever holding it.
 */
function rawBlock(i: number): string {
  const lines: string[] = [];
  for (let l = 0; l < 3 + (i % 11); l++) {
    lines.push(
      `Block ${i} line ${l}: ${'lorem ipsum dolor '.repeat(1 + ((i * 7 + l) % 13))}cafe\u0301 日本語 \u{1f600}\u0007 \t  `,
    );
  }
  if (i % 5 === 0) lines.push(`${'x'.repeat(3000 + i % 1000)} one long line`);
  return lines.join(i % 2 ? '\r\n' : '\n') + '\r\n  \r\n\r\n\r\n';
}

test('a 50 MB .txt file streams in sections with bounded memory', { timeout: 180_000 }, async (t) => {
  const path = join(root, 'big.txt');
  const fileHash = createHash('sha256');
  const expectedHash = createHash('sha256');
  let expectedLength = 0;
  let bytes = 0;
  const fh = await open(path, 'w');
  try {
    let i = 0;
    while (bytes < 50 * 1024 * 1024) {
      let chunk = '';
      for (let k = 0; k < 200; k++, i++) {
        const raw = rawBlock(i);
        chunk += raw;
        const norm = (i === 0 ? '' : '\n\n') + normalizeText(raw);
        expectedHash.update(norm);
        expectedLength += norm.length;
      }
      const buf = Buffer.from(chunk);
      fileHash.update(buf);
      bytes += buf.length;
      await fh.write(buf);
    }
  } finally {
    await fh.close();
  }

  const gc = gcFunction();
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.memoryUsage().rss;

  const doc = onlyDoc(await collect(loadFile(path)));
  // the hash is known before any section is read
  assert.equal(doc.contentHash, fileHash.digest('hex'));
  assert.equal(doc.byteLength, bytes);

  const seen = createHash('sha256');
  let length = 0;
  let sections = 0;
  let maxHeapGrowth = 0;
  let maxRssGrowth = 0;
  for await (const s of doc.sections) {
    assert.equal(s.offset, length, `section ${sections} is not contiguous`);
    assert.ok(s.text.length <= 600 * 1024, `section of ${s.text.length} chars`);
    length += s.text.length;
    seen.update(s.text);
    sections++;
    if (sections % 8 === 0) {
      gc?.();
      const m = process.memoryUsage();
      maxHeapGrowth = Math.max(maxHeapGrowth, m.heapUsed - heapBefore);
      maxRssGrowth = Math.max(maxRssGrowth, m.rss - rssBefore);
    }
  }
  assert.equal(length, expectedLength, 'concatenated sections = the normalized length');
  assert.equal(seen.digest('hex'), expectedHash.digest('hex'), 'concatenated sections = the normalized text');
  assert.ok(sections >= 50, `expected ~100 sections of ~512K chars, got ${sections}`);
  const MB = 1024 * 1024;
  t.diagnostic(`${sections} sections; heap growth ${(maxHeapGrowth / MB).toFixed(1)} MB, rss growth ${(maxRssGrowth / MB).toFixed(1)} MB (gc ${gc ? 'on' : 'off'})`);
  if (gc) {
    assert.ok(maxHeapGrowth < 64 * MB, `heap grew by ${(maxHeapGrowth / MB).toFixed(1)} MB`);
  } else {
    assert.ok(maxRssGrowth < 128 * MB, `rss grew by ${(maxRssGrowth / MB).toFixed(1)} MB`);
  }
});
