import { isQuarryError, type ErrorCategory } from '../errors.js';

/** Exit codes by error category, so scripts can branch without parsing messages. */
export const EXIT_CODES: Record<ErrorCategory, number> = {
  internal: 1,
  'invalid-input': 2,
  'not-found': 3,
  conflict: 4,
  integrity: 5,
  unavailable: 6,
};

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** One clear line on stderr (plus the stack only for bugs), and the category's exit code. */
export function reportError(e: unknown, json: boolean): number {
  if (isQuarryError(e)) {
    if (json) process.stderr.write(JSON.stringify(e.toJSON()) + '\n');
    else process.stderr.write(`quarry: error: ${e.message}\n`);
    return EXIT_CODES[e.category];
  }
  const err = e as Error;
  process.stderr.write(`quarry: internal error: ${err?.message ?? String(e)}\n`);
  if (process.env.QUARRY_DEBUG && err?.stack) process.stderr.write(err.stack + '\n');
  return EXIT_CODES.internal;
}
