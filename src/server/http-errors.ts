/**
 * Every error the server answers has one shape, `{ "error": { "code", "field"?, "message" } }`,
 * and a status chosen from quarry's error category (src/errors.ts), so clients branch on the
 * status and the code, never on the message.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isQuarryError, type ErrorCategory, type QuarryError } from '../errors.js';

export interface ErrorBody {
  error: { code: string; field?: string; message: string };
}

/** An error that is the HTTP layer's own (authentication, limits, refused collections). */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const STATUS_BY_CATEGORY: Record<ErrorCategory, number> = {
  'invalid-input': 400,
  'not-found': 404,
  conflict: 409,
  integrity: 500,
  unavailable: 503,
  internal: 500,
};

/** Codes whose category alone would give the wrong status over HTTP. */
const STATUS_BY_CODE: Record<string, number> = {
  // a model the server needs is missing on its machine: the server cannot serve, the client did nothing wrong
  MODEL_NOT_PROVISIONED: 503,
  MODEL_INTEGRITY: 503,
  MODEL_DRIFT: 503,
  // damaged files of one collection: that collection cannot serve until repaired, the others do
  COLLECTION_CORRUPT: 503,
  INDEX_FILE_CORRUPT: 503,
};

export function statusOf(e: QuarryError): number {
  return STATUS_BY_CODE[e.code] ?? STATUS_BY_CATEGORY[e.category];
}

export function errorBody(code: string, message: string, field?: string): ErrorBody {
  return { error: { code, ...(field !== undefined ? { field } : {}), message } };
}

/** Validation keywords that bound a size: breaking one is "too large" (413), not malformed (400). */
const SIZE_KEYWORDS = new Set(['maxLength', 'maxItems', 'maxProperties']);

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** The field a schema error is about, as a JSON pointer without the leading slash ("documents/0/id"). */
function fieldOf(err: AjvError, context: string | undefined): string {
  let path = err.instancePath.replace(/^\//, '');
  const extra = (err.params.missingProperty ?? err.params.additionalProperty) as string | undefined;
  if (extra !== undefined) path = path ? `${path}/${extra}` : extra;
  return path || (context ?? 'body');
}

function validationReply(e: FastifyError): { status: number; body: ErrorBody } {
  const err = (e.validation as AjvError[])[0];
  const field = fieldOf(err, e.validationContext);
  let reason: string;
  switch (err.keyword) {
    case 'additionalProperties':
      reason = 'is not a known field';
      break;
    case 'required':
      reason = 'is required';
      break;
    case 'enum':
      reason = `must be one of ${(err.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    default:
      reason = err.message ?? 'is invalid';
  }
  const tooLarge = SIZE_KEYWORDS.has(err.keyword);
  return { status: tooLarge ? 413 : 400, body: errorBody(tooLarge ? 'TOO_LARGE' : 'INVALID_INPUT', `${field} ${reason}`, field) };
}

/** Rewrites a message for HTTP clients (the server's paths out: see redact.ts). */
export type Redact = (message: string) => string;

const asIs: Redact = (m) => m;

/**
 * Maps whatever a route threw to a status and the one error shape. A 500 cites `requestId`:
 * whoever answers it must log the error under that id (sendError does, and so do the jobs).
 */
export function toHttpError(e: unknown, requestId: string, redact: Redact = asIs): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (e instanceof HttpError) return { status: e.statusCode, body: errorBody(e.code, e.message, e.field), headers: e.headers };
  if (isQuarryError(e)) {
    const field = typeof e.details.field === 'string' ? e.details.field : undefined;
    // the library's message names the server's data folder and a CLI command: not for HTTP clients
    const message = e.code === 'COLLECTION_NOT_FOUND' ? `collection "${String(e.details.collection)}" does not exist` : redact(e.message);
    const status = statusOf(e);
    const internal = `internal error; the server log has the details under request id ${requestId}`;
    return { status, body: errorBody(e.code, status >= 500 && e.category === 'internal' ? internal : message, field), headers: {} };
  }
  const fe = e as FastifyError;
  if (fe && Array.isArray(fe.validation) && fe.validation.length > 0) return { ...validationReply(fe), headers: {} };
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own client errors: body too large, bad JSON, unsupported media type...
    const code = fe.statusCode === 413 ? 'TOO_LARGE' : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_INPUT';
    return { status: fe.statusCode, body: errorBody(code, fe.message, fe.statusCode === 413 ? 'body' : undefined), headers: {} };
  }
  return { status: 500, body: errorBody('INTERNAL', `internal error; the server log has the details under request id ${requestId}`), headers: {} };
}

export function sendError(e: unknown, request: FastifyRequest, reply: FastifyReply, redact: Redact = asIs): FastifyReply | Promise<FastifyReply> {
  const { status, body, headers } = toHttpError(e, request.id, redact);
  if (status >= 500) request.log.error({ err: e }, 'request failed');
  const send = () => reply.code(status).headers(headers).send(body);
  // A body refused unread (too large): answer once it has been drained, or the socket closes
  // with unread bytes, the kernel resets it, and the client never sees its 413.
  return status === 413 && !request.raw.complete ? drainThen(request, () => reply.code(status).headers({ ...headers, connection: 'close' }).send(body)) : send();
}

/** How much of a refused body is read and dropped before answering, at most, and for how long. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 5_000;

/**
 * Lingering close, bounded: reads and discards the rest of the request body, then answers
 * (with Connection: close). Past the byte or time bound the answer goes anyway, so a
 * client that keeps sending cannot hold the server.
 */
function drainThen(request: FastifyRequest, send: () => FastifyReply): Promise<FastifyReply> {
  const raw = request.raw;
  return new Promise((resolve) => {
    let bytes = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', finish);
      raw.off('error', finish);
      resolve(send());
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > DRAIN_MAX_BYTES) finish();
    };
    const timer = setTimeout(finish, DRAIN_MAX_MS);
    raw.on('data', onData);
    raw.once('end', finish);
    raw.once('error', finish);
    raw.resume();
  });
}
