/**
 * `quarry/client`: a typed client for quarry's HTTP API. It loads none of the engine (no
 * models, no native modules), so an application that only talks to a server imports this.
 */
export { QuarryClient, type QuarryClientOptions, type CallOptions, type SearchOptions, type UpsertReport } from './client.js';
export { parseRetryAfter, DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export { remoteError, LIBRARY_ERRORS } from './remote-errors.js';
export type * from './types.js';
export * from '../errors.js';
