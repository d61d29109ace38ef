import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (benchmarks run from dist/bench/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_DIR = resolve(REPO_ROOT, '..', 'shared');

/** mulberry32: a small seeded PRNG, so data splits and fuzz cases are the same on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * `count` passages of about 256 tokens: texts cut at a word boundary to 240-254 content tokens
 * (by `countTokens`, the model's own tokenizer), so every embedder compared embeds exactly the
 * same tokens (a pipeline would otherwise read up to 512 where quarry truncates at 256).
 */
export function passagesNear256Tokens(texts: Iterable<string>, countTokens: (text: string) => number, count = 64): string[] {
  const passages: string[] = [];
  for (const text of texts) {
    if (passages.length === count) break;
    const words = text.split(' ');
    let lo = 0;
    let hi = words.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (countTokens(words.slice(0, mid).join(' ')) <= 254) lo = mid;
      else hi = mid - 1;
    }
    const cut = words.slice(0, lo).join(' ');
    if (countTokens(cut) >= 240) passages.push(cut);
  }
  return passages;
}

/**
 * Replaces the block between `<!-- <name> begin ... -->` and `<!-- <name> end -->` in a
 * Markdown file (BENCHMARKS.md), or appends it; what lies outside the markers is kept.
 */
export function writeMarkedSection(path: string, name: string, section: string): void {
  const begin = `<!-- ${name} begin (written by npm run ${name}) -->`;
  const end = `<!-- ${name} end -->`;
  const block = `${begin}\n${section}\n${end}`;
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const a = old.indexOf(begin);
  const b = old.indexOf(end);
  const next = a >= 0 && b > a ? old.slice(0, a) + block + old.slice(b + end.length) : old.replace(/\n*$/, '\n\n') + block + '\n';
  writeFileSync(path, next);
}
