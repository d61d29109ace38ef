/** The two ways the framework adapters reach a collection. */
import { HttpSource, type OverHttpOptions } from './over-http.js';
import { InProcessSource, type InProcessOptions } from './in-process.js';
import type { QuarrySource } from './source.js';

export type { InProcessOptions, OverHttpOptions, QuarrySource };

/** A collection opened in this process through the library (the engine loads on first use). */
export function inProcess(opts: InProcessOptions = {}): QuarrySource {
  return new InProcessSource(opts);
}

/** A collection on a `quarry serve`, through the typed client and a key. */
export function overHttp(opts: OverHttpOptions): QuarrySource {
  return new HttpSource(opts);
}
