/**
 * Worker thread that extracts text from PDFs with Mozilla's pdf.js (pdfjs-dist, legacy build:
 * the one meant for Node, with polyfills for Node 20). It runs off the main thread so that a
 * PDF that makes pdf.js spin or eat memory can be stopped: pdf.ts terminates this worker when
 * parsing outlives the timeout, and its resource limits turn runaway memory into an error.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { PdfRequest, PdfResponse } from './pdf-protocol.js';

// pdf.js reports oddities of a file (fonts, broken objects) with console.log/warn; those go to
// the process's stdout/stderr, which belong to the CLI. Failures come back as messages.
console.log = () => undefined;
console.warn = () => undefined;

const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
const pdfjsRoot = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));

async function extract(data: Uint8Array): Promise<{ pages: string[]; info: Record<string, unknown> }> {
  const doc = await pdfjs.getDocument({
    data,
    verbosity: 0, // errors only: pdf.js otherwise warns on stderr about every odd font
    isEvalSupported: false,
    useSystemFonts: false,
    // character maps are needed to get text out of CJK (CID-keyed) fonts
    cMapUrl: join(pdfjsRoot, 'cmaps') + '/',
    cMapPacked: true,
    standardFontDataUrl: join(pdfjsRoot, 'standard_fonts') + '/',
  }).promise;
  try {
    const { info } = await doc.getMetadata();
    const pages: string[] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items) {
        if (!('str' in item)) continue; // marked-content markers carry no text
        text += item.str;
        if (item.hasEOL) text += '\n';
      }
      pages.push(text);
      page.cleanup();
    }
    return { pages, info: (info ?? {}) as Record<string, unknown> };
  } finally {
    await doc.destroy();
  }
}

parentPort!.on('message', (req: PdfRequest) => {
  extract(req.data).then(
    ({ pages, info }) => parentPort!.postMessage({ id: req.id, ok: true, pages, info } satisfies PdfResponse),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      parentPort!.postMessage({ id: req.id, ok: false, errorName: e.name, message: e.message } satisfies PdfResponse);
    },
  );
});
