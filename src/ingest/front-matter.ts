import { parse as parseYaml } from 'yaml';

/** Front matter must be closed within this many bytes from the top of the file. */
export const FRONT_MATTER_MAX_BYTES = 256 * 1024;

export type FrontMatter =
  /** No front matter: the body starts at byte `bodyStart` (after a BOM, if any). */
  | { kind: 'none'; bodyStart: number }
  | { kind: 'ok'; bodyStart: number; data: Record<string, unknown> }
  /** Front matter is there but is not valid YAML; `reason` says what is wrong. */
  | { kind: 'invalid'; bodyStart: number; reason: string };

const BOM = '\xEF\xBB\xBF';
const OPENING = /^---[ \t]*\r?\n/;
const CLOSING = /^(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/m;

/**
 * Finds YAML front matter at the top of a markdown file: a first line `---`, then YAML, then
 * a line `---` (or `...`), Jekyll/Hugo style. Works on the raw bytes of the file's head so
 * `bodyStart` is an exact byte offset to stream the body from. Parsed with the `yaml`
 * package's core schema (no custom tags, dates stay strings, alias expansion capped).
 */
export function findFrontMatter(head: Buffer): FrontMatter {
  // latin1 maps each byte to one char, so string indexes are byte offsets; the fences are ASCII
  const s = head.toString('latin1', 0, Math.min(head.length, FRONT_MATTER_MAX_BYTES));
  const bomLen = s.startsWith(BOM) ? 3 : 0;
  const open = OPENING.exec(s.slice(bomLen));
  if (!open) return { kind: 'none', bodyStart: bomLen };
  const yamlStart = bomLen + open[0].length;
  const rest = s.slice(yamlStart);
  const close = CLOSING.exec(rest);
  // unclosed: the `---` is a thematic break in the body, as in CommonMark
  if (!close) return { kind: 'none', bodyStart: bomLen };
  const yamlEnd = yamlStart + close.index;
  const bodyStart = yamlEnd + close[0].length;
  const yamlText = head.toString('utf8', yamlStart, yamlEnd);
  let data: unknown;
  try {
    data = parseYaml(yamlText, { prettyErrors: true });
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { kind: 'invalid', bodyStart, reason: `front matter is not valid YAML (${msg})` };
  }
  if (data === null || data === undefined) return { kind: 'ok', bodyStart, data: {} };
  // a scalar or a list is not front matter but markdown between two thematic breaks
  // ("---\nSome text\n---"): keep it as body text
  if (typeof data !== 'object' || Array.isArray(data)) return { kind: 'none', bodyStart: bomLen };
  return { kind: 'ok', bodyStart, data: data as Record<string, unknown> };
}
