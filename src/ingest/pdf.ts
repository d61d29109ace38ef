import { readFile, stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { sha256Hex } from './file-bytes.js';
import { normalizeText } from './normalize.js';
import type { ResolvedLoadOptions } from './options.js';
import type { PdfRequest, PdfResponse } from './pdf-protocol.js';
import { formatBytes, problem } from './problems.js';
import { splitSections } from './sections.js';
import type { LoadItem, LoadedDocument, TextSection } from './types.js';

/*
 * Library: pdfjs-dist 5.x (Mozilla pdf.js, the reader in Firefox), its legacy build, which
 * supports Node 20 (this project's floor). unpdf, a popular wrapper around the same pdf.js,
 * requires Node 22 since 1.x, so we use pdf.js directly. Parsing runs in a worker thread
 * (pdf-worker.ts) with a timeout, so a broken or hostile PDF cannot hang or crash ingest.
 */

const WORKER_MEMORY_MB = 2048;

type Outcome = PdfResponse | { ok: false; errorName: 'Timeout' | 'WorkerCrash'; message: string };

/**
 * One worker thread, reused for every PDF (starting pdf.js costs ~100 ms), parsing one PDF
 * at a time. A PDF that times out or kills the worker gets it terminated; the next PDF starts
 * a fresh one. The worker is unref'd so an idle parser never keeps the process alive.
 */
class PdfParser {
  private worker: Worker | undefined;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();

  parse(data: Uint8Array, timeoutMs: number): Promise<Outcome> {
    const run = this.queue.then(() => this.run(data, timeoutMs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private getWorker(): Worker {
    if (!this.worker) {
      const w = new Worker(new URL('./pdf-worker.js', import.meta.url), {
        resourceLimits: { maxOldGenerationSizeMb: WORKER_MEMORY_MB },
      });
      // (not { stdout: true }: piped worker output keeps the process alive despite unref;
      // the worker silences pdf.js's console itself)
      w.unref();
      w.on('exit', () => {
        if (this.worker === w) this.worker = undefined;
      });
      w.on('error', () => undefined); // reported to the request in flight, see run()
      this.worker = w;
    }
    return this.worker;
  }

  private kill(w: Worker): void {
    if (this.worker === w) this.worker = undefined;
    void w.terminate();
  }

  private run(data: Uint8Array, timeoutMs: number): Promise<Outcome> {
    const w = this.getWorker();
    const id = this.nextId++;
    return new Promise<Outcome>((resolve) => {
      const done = (outcome: Outcome): void => {
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
        resolve(outcome);
      };
      const onMessage = (msg: PdfResponse): void => {
        if (msg.id === id) done(msg);
      };
      const onError = (err: Error): void => {
        this.kill(w);
        done({ ok: false, errorName: 'WorkerCrash', message: err.message });
      };
      const onExit = (code: number): void => {
        done({ ok: false, errorName: 'WorkerCrash', message: `the PDF parser stopped (exit code ${code})` });
      };
      // a ref'd timer keeps the process alive while the (unref'd) worker works
      const timer = setTimeout(() => {
        this.kill(w);
        done({ ok: false, errorName: 'Timeout', message: `parsing took longer than ${timeoutMs} ms` });
      }, timeoutMs);
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      const copy = new Uint8Array(data); // its own buffer, transferred to the worker
      w.postMessage({ id, data: copy } satisfies PdfRequest, [copy.buffer]);
    });
  }
}

const parser = new PdfParser();

function describeFailure(outcome: Exclude<Outcome, { ok: true }>, timeoutMs: number): string {
  switch (outcome.errorName) {
    case 'PasswordException':
      return 'is encrypted (password-protected); remove the password to index it';
    case 'InvalidPDFException':
      return `is not a valid PDF (${outcome.message}); it may be truncated or damaged, re-export or re-download it`;
    case 'Timeout':
      return `could not be parsed within ${timeoutMs} ms; it may be malformed (raise pdfTimeoutMs if it is just very large)`;
    case 'WorkerCrash':
      return `made the PDF parser fail (${outcome.message}); it may be malformed or too complex`;
    default:
      return `could not be parsed as PDF (${outcome.errorName}: ${outcome.message})`;
  }
}

const INFO_KEYS: Array<[string, string]> = [
  ['Title', 'title'],
  ['Author', 'author'],
  ['Subject', 'subject'],
  ['Keywords', 'keywords'],
];

/**
 * A .pdf file: the text of every page, pages separated by a blank line; one section per
 * page that has text (the blank line after a page belongs to its section; pages without text
 * are left out, `pageCount` still counts them). The document
 * info Title becomes the title; title/author/subject/keywords (when set) and pageCount go in
 * metadata. Broken, encrypted or endless PDFs are PARSE_ERROR problems.
 */
export async function* loadPdfFile(path: string, opts: ResolvedLoadOptions): AsyncGenerator<LoadItem> {
  const size = (await stat(path)).size;
  if (size > opts.maxBytes) {
    yield problem(
      path,
      'TOO_LARGE',
      `is ${formatBytes(size)}, over the ${formatBytes(opts.maxBytes)} limit for a PDF file; split it or raise maxBytes`,
    );
    return;
  }
  if (size === 0) {
    yield problem(path, 'EMPTY', 'is empty (0 bytes); nothing to index');
    return;
  }
  const bytes = await readFile(path);
  if (!bytes.subarray(0, 1024).toString('latin1').includes('%PDF-')) {
    yield problem(path, 'PARSE_ERROR', 'is not a PDF (no %PDF- header); rename it if it is another kind of file');
    return;
  }
  const outcome = await parser.parse(bytes, opts.pdfTimeoutMs);
  if (!outcome.ok) {
    yield problem(path, 'PARSE_ERROR', describeFailure(outcome, opts.pdfTimeoutMs));
    return;
  }

  const metadata: Record<string, unknown> = {};
  for (const [from, to] of INFO_KEYS) {
    const v = outcome.info[from];
    if (typeof v === 'string' && normalizeText(v).trim() !== '') metadata[to] = normalizeText(v).trim();
  }
  metadata.pageCount = outcome.pages.length;

  const pages = outcome.pages.map((p) => normalizeText(p)).filter((p) => p !== '');
  if (pages.length === 0) {
    yield problem(
      path,
      'EMPTY',
      `has no extractable text in its ${outcome.pages.length} page(s); it may be scanned images, run OCR on it first`,
    );
    return;
  }
  const sections: TextSection[] = [];
  let offset = 0;
  pages.forEach((page, i) => {
    const text = i < pages.length - 1 ? page + '\n\n' : page;
    // a page longer than a section (rare) is cut like streamed text
    for (const s of splitSections(text, opts.sectionChars)) sections.push({ text: s.text, offset: offset + s.offset });
    offset += text.length;
  });
  const title = typeof metadata.title === 'string' ? metadata.title.replace(/\s+/g, ' ') : undefined;
  const doc: LoadedDocument = {
    docId: path,
    source: path,
    format: 'pdf',
    ...(title !== undefined && { title }),
    metadata,
    contentHash: sha256Hex(bytes),
    byteLength: bytes.length,
    sections,
  };
  yield { kind: 'document', doc };
}
