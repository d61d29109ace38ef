/**
 * Finds quarry's package root from this module's own location, so the same code works when run
 * from src/ (tests with a loader) and from dist/src/ (the build), and when installed under
 * node_modules: walk up to the first package.json whose name is "quarry".
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'quarry') return (cached = dir);
      } catch {
        // an unreadable package.json is not ours; keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find quarry's package root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
