/**
 * Access control: every route but /healthz, /readyz (bare status) and the web page's files
 * needs `Authorization: Bearer <key>`. No key, or
 * one the keys file does not hold: 401. A key whose scope is below the route's, or that is
 * not allowed the route's collection: 403. Checked in onRequest, before the body is read, so
 * an unauthenticated client cannot make the server parse anything.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-errors.js';
import { keyCoversCollection, scopeAllows, type KeyInfo, type KeyStore, type Scope } from './keys.js';

/** What a route requires; `collection: 'param'` checks the `:name` path parameter. */
export interface RouteAuth {
  /** No key needed (liveness only). */
  public?: boolean;
  /**
   * No key needed, but one that is sent is verified (401 when it is not valid) and its scope
   * checked against `scope` only by the handler, which shows more to a key that has it
   * (`request.apiKey`); /readyz: a bare status for probes, detail for admin and metrics keys.
   */
  optional?: boolean;
  scope?: Scope;
  collection?: 'param';
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    /** Response schemas by status, for the OpenAPI document only (app.ts's swagger transform). */
    docs?: Record<number, unknown>;
  }
  interface FastifyRequest {
    apiKey?: KeyInfo;
  }
}

const CHALLENGE = { 'www-authenticate': 'Bearer realm="quarry"' };

function unauthorized(code: string, message: string): HttpError {
  return new HttpError(401, code, message, undefined, CHALLENGE);
}

export function authenticate(keys: KeyStore) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const auth: RouteAuth = request.routeOptions.config?.auth ?? {};
    if (auth.public) return;
    const header = request.headers.authorization;
    if (auth.optional && (header === undefined || header === '')) return;
    if (header === undefined || header === '') throw unauthorized('MISSING_KEY', 'this endpoint needs an API key: send "Authorization: Bearer <key>"');
    const m = /^Bearer +([^\s]{1,200})$/i.exec(header);
    if (!m) throw unauthorized('MALFORMED_AUTHORIZATION', 'the Authorization header must be "Bearer <key>"');
    const key = keys.verify(m[1]);
    if (!key) throw unauthorized('UNKNOWN_KEY', 'the API key is not valid (unknown or revoked)');
    request.apiKey = key;
    if (auth.optional) return;
    const need = auth.scope ?? 'read';
    if (!scopeAllows(key.scope, need)) {
      throw new HttpError(403, 'SCOPE_NOT_ALLOWED', `this endpoint needs a key with the ${need} scope; key ${key.id} has ${key.scope}`);
    }
    if (auth.collection === 'param') {
      const name = (request.params as { name?: unknown } | undefined)?.name;
      authorizeCollection(request, typeof name === 'string' ? name : '', need);
    }
  };
}

/** Checks the request's key against a collection named elsewhere than the path (a body field). */
export function authorizeCollection(request: FastifyRequest, collection: string, need: Scope): void {
  const key = request.apiKey;
  if (!key) throw unauthorized('MISSING_KEY', 'this endpoint needs an API key');
  if (!scopeAllows(key.scope, need)) {
    throw new HttpError(403, 'SCOPE_NOT_ALLOWED', `this needs a key with the ${need} scope; key ${key.id} has ${key.scope}`);
  }
  if (!keyCoversCollection(key, collection)) {
    throw new HttpError(403, 'COLLECTION_NOT_ALLOWED', `key ${key.id} is not allowed to use collection ${JSON.stringify(collection.slice(0, 64))}`);
  }
}

/** Whether the request's key may see `collection` (listings show only those). */
export function keyMaySee(request: FastifyRequest, collection: string): boolean {
  return request.apiKey !== undefined && keyCoversCollection(request.apiKey, collection);
}

/** Whether the request's key may see the operations views (/metrics, /readyz detail) of its collections. */
export function keyMayObserve(request: FastifyRequest): boolean {
  return request.apiKey !== undefined && scopeAllows(request.apiKey.scope, 'metrics');
}

/** Who the audit log names for a request: its key's id (never the key itself). */
export function actorOf(request: FastifyRequest): string {
  return request.apiKey ? `key:${request.apiKey.id}` : 'key:unknown';
}
