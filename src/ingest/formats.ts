import { extname } from 'node:path';
import type { SourceFormat } from './types.js';

/** File extensions (lower case, with the dot) that ingest loads, and the format of each. */
const FORMAT_BY_EXTENSION: Readonly<Record<string, SourceFormat>> = {
  '.txt': 'text',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.html': 'html',
  '.htm': 'html',
  '.pdf': 'pdf',
  '.jsonl': 'jsonl',
};

export const SUPPORTED_EXTENSIONS: readonly string[] = Object.freeze(Object.keys(FORMAT_BY_EXTENSION));

/** The format for a path by its extension (case-insensitive), or undefined if unsupported. */
export function formatOf(path: string): SourceFormat | undefined {
  const ext = extname(path).toLowerCase();
  return Object.hasOwn(FORMAT_BY_EXTENSION, ext) ? FORMAT_BY_EXTENSION[ext] : undefined;
}
