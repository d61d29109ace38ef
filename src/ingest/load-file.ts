import { loadHtmlFile } from './html.js';
import { loadJsonlFile } from './jsonl.js';
import { loadMarkdownFile } from './markdown.js';
import type { ResolvedLoadOptions } from './options.js';
import { loadPdfFile } from './pdf.js';
import { problemFromError } from './problems.js';
import { loadTextFile } from './text.js';
import type { LoadItem, SourceFormat } from './types.js';

const LOADERS: Record<SourceFormat, (path: string, opts: ResolvedLoadOptions) => AsyncGenerator<LoadItem>> = {
  text: loadTextFile,
  markdown: loadMarkdownFile,
  html: loadHtmlFile,
  pdf: loadPdfFile,
  jsonl: loadJsonlFile,
};

/**
 * Runs the loader for `format` on an absolute path. Whatever goes wrong becomes a problem
 * item (UNREADABLE for file-system errors, PARSE_ERROR otherwise), never a throw, so one bad
 * file cannot stop a walk.
 */
export async function* loadWithFormat(
  path: string,
  format: SourceFormat,
  opts: ResolvedLoadOptions,
): AsyncGenerator<LoadItem> {
  try {
    yield* LOADERS[format](path, opts);
  } catch (err) {
    yield problemFromError(path, err);
  }
}
