import { createHash } from 'node:crypto';

/**
 * What a chunk's vector is computed from: its text, after the document title for formats
 * whose title is part of the content (JSONL records, HTML pages, API records). Shared by
 * ingest, which embeds it, and repair, which re-derives a damaged vector from the stored
 * text and must reproduce the very same input (checked against the recorded embed hash).
 */
export function titlePrefix(title: string | null | undefined, format: string): string {
  const t = title?.trim();
  if (!t || (format !== 'jsonl' && format !== 'html' && format !== 'record')) return '';
  return `${t}\n`;
}

/** The embedding cache key: the model that embedded it and the exact input text. */
export function embedHash(embeddedWith: string, input: string): string {
  return createHash('sha256').update(`${embeddedWith}\0${input}`).digest('hex');
}
