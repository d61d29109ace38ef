import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LoadItem, LoadProblem, LoadedDocument, TextSection } from '../../src/ingest/types.js';

export { tempDir } from './env.js';

/** Writes files (relative path -> content) under `root`, creating folders as needed. */
export async function writeTree(root: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, content);
  }
}

export async function collect(items: AsyncIterable<LoadItem>): Promise<LoadItem[]> {
  const out: LoadItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export function docsOf(items: LoadItem[]): LoadedDocument[] {
  return items.flatMap((i) => (i.kind === 'document' ? [i.doc] : []));
}

export function problemsOf(items: LoadItem[]): LoadProblem[] {
  return items.flatMap((i) => (i.kind === 'problem' ? [i.problem] : []));
}

export async function sectionsOf(doc: LoadedDocument): Promise<TextSection[]> {
  const out: TextSection[] = [];
  for await (const s of doc.sections) out.push(s);
  return out;
}

/** The whole normalized text, after checking that the sections' offsets are contiguous. */
export async function textOf(doc: LoadedDocument): Promise<string> {
  let text = '';
  for (const s of await sectionsOf(doc)) {
    if (s.offset !== text.length) throw new Error(`section at offset ${s.offset}, expected ${text.length}`);
    text += s.text;
  }
  return text;
}

/** Exactly one item, a document: returns it (fails with the problem otherwise). */
export function onlyDoc(items: LoadItem[]): LoadedDocument {
  if (items.length !== 1 || items[0].kind !== 'document') {
    throw new Error(`expected one document, got ${JSON.stringify(items.map((i) => (i.kind === 'problem' ? i.problem : i.doc.docId)))}`);
  }
  return items[0].doc;
}

/** Exactly one item, a problem: returns it. */
export function onlyProblem(items: LoadItem[]): LoadProblem {
  if (items.length !== 1 || items[0].kind !== 'problem') {
    throw new Error(`expected one problem, got ${JSON.stringify(items.map((i) => (i.kind === 'problem' ? i.problem : i.doc.docId)))}`);
  }
  return items[0].problem;
}
