/**
 * Error messages from the library name files by their absolute path, which is what the CLI
 * user needs, but an HTTP client must not learn where the server keeps its data (issue 14).
 * The server's own folders are replaced by labels (`<data>/docs/meta.sqlite`, the label
 * GET /collections/{name}/card uses too); any other absolute path by `<path>`. The server's
 * log keeps the full message.
 */
import { homedir } from 'node:os';
import { resolve } from 'node:path';

/** An absolute POSIX path at the start of the text or after a space, quote, bracket or '='. */
const ABSOLUTE_PATH = /(^|[\s"'`(\[=])\/[^\s"'`()[\],;]*[^\s"'`()[\],;.:]/g;

export class PathRedactor {
  private readonly roots: Array<[string, string]>;

  constructor(roots: Record<string, string | undefined>) {
    this.roots = Object.entries(roots)
      .filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '')
      .map(([label, dir]): [string, string] => [resolve(dir).replace(/\/+$/, ''), `<${label}>`])
      .filter(([dir]) => dir !== '' && dir !== '/')
      // longest first, so a folder inside another is labelled by the inner one
      .sort((a, b) => b[0].length - a[0].length);
    const home = homedir();
    if (home && home !== '/') this.roots.push([home, '~']);
  }

  redact(text: string): string {
    let out = text;
    for (const [dir, label] of this.roots) out = out.split(dir).join(label);
    return out.replace(ABSOLUTE_PATH, '$1<path>');
  }
}
