import { InvalidInputError } from '../errors.js';

export interface LoadOptions {
  /**
   * Largest document loaded whole, in bytes: an HTML or PDF file, or one JSONL record (line).
   * Bigger ones are reported as TOO_LARGE. Plain text and markdown are streamed and have no
   * limit. Default 100 MiB.
   */
  maxBytes?: number;
  /** How long one PDF may take to parse before it is given up as PARSE_ERROR. Default 30 s. */
  pdfTimeoutMs?: number;
  /** Target size of a streamed section, in UTF-16 code units. Default 512 Ki. */
  sectionChars?: number;
}

export interface ResolvedLoadOptions {
  maxBytes: number;
  pdfTimeoutMs: number;
  sectionChars: number;
}

export const DEFAULT_MAX_BYTES = 100 * 1024 * 1024;
export const DEFAULT_PDF_TIMEOUT_MS = 30_000;
export const DEFAULT_SECTION_CHARS = 512 * 1024;

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidInputError(`load option ${name} must be a positive integer, got ${String(value)}`, {
      option: name,
      value,
    });
  }
  return value;
}

export function resolveLoadOptions(opts: LoadOptions = {}): ResolvedLoadOptions {
  return {
    maxBytes: positiveInt('maxBytes', opts.maxBytes, DEFAULT_MAX_BYTES),
    pdfTimeoutMs: positiveInt('pdfTimeoutMs', opts.pdfTimeoutMs, DEFAULT_PDF_TIMEOUT_MS),
    sectionChars: positiveInt('sectionChars', opts.sectionChars, DEFAULT_SECTION_CHARS),
  };
}
