/**
 * An error answer of the HTTP API turned back into quarry's own error classes (src/errors.ts),
 * so code that catches ModelMismatchError or CollectionNotFoundError from the library catches
 * the same class from the client. The server sends the code and message, not the structured
 * details the library's constructors take, so the instance is built with the base class's
 * constructor and the specific class's prototype (Reflect.construct): `instanceof`, `name`,
 * `code`, `category` and the server's message are all as the library would give them.
 */
import {
  ApiError,
  CollectionCorruptError,
  CollectionExistsError,
  CollectionLockedError,
  CollectionNotFoundError,
  GateRefusedError,
  InvalidInputError,
  ModelDriftError,
  ModelIntegrityError,
  ModelMismatchError,
  ModelNotProvisionedError,
  NoShadowError,
  QuarryError,
  UnknownModelError,
  type ErrorCategory,
} from '../errors.js';

type QuarryErrorClass = abstract new (...args: never[]) => QuarryError;

/** Library error codes the server passes through, with their class and category. */
export const LIBRARY_ERRORS: Record<string, { type: QuarryErrorClass; category: ErrorCategory }> = {
  INVALID_INPUT: { type: InvalidInputError, category: 'invalid-input' },
  COLLECTION_NOT_FOUND: { type: CollectionNotFoundError, category: 'not-found' },
  COLLECTION_EXISTS: { type: CollectionExistsError, category: 'conflict' },
  COLLECTION_LOCKED: { type: CollectionLockedError, category: 'conflict' },
  COLLECTION_CORRUPT: { type: CollectionCorruptError, category: 'integrity' },
  MODEL_NOT_PROVISIONED: { type: ModelNotProvisionedError, category: 'not-found' },
  UNKNOWN_MODEL: { type: UnknownModelError, category: 'invalid-input' },
  MODEL_INTEGRITY: { type: ModelIntegrityError, category: 'integrity' },
  MODEL_MISMATCH: { type: ModelMismatchError, category: 'conflict' },
  MODEL_DRIFT: { type: ModelDriftError, category: 'integrity' },
  NO_SHADOW: { type: NoShadowError, category: 'not-found' },
  GATE_REFUSED: { type: GateRefusedError, category: 'conflict' },
};

export interface RemoteErrorContext {
  status: number;
  method: string;
  url: string;
  requestId?: string;
  /** Milliseconds the server asked to wait (Retry-After), when it did. */
  retryAfterMs?: number;
}

/** The error an error answer stands for; `body` is the parsed JSON, or undefined when it was not JSON. */
export function remoteError(body: unknown, ctx: RemoteErrorContext): QuarryError {
  const e = (body as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)?.error;
  const code = typeof e?.code === 'string' ? e.code : `HTTP_${ctx.status}`;
  const message = typeof e?.message === 'string' ? e.message : `${ctx.method} ${ctx.url} answered ${ctx.status} without quarry's error body`;
  const details: Record<string, unknown> = {
    status: ctx.status,
    ...(typeof e?.field === 'string' ? { field: e.field } : {}),
    ...(ctx.requestId ? { requestId: ctx.requestId } : {}),
    ...(ctx.retryAfterMs !== undefined ? { retryAfterMs: ctx.retryAfterMs } : {}),
  };
  const known = LIBRARY_ERRORS[code];
  if (known) return Reflect.construct(QuarryError, [code, known.category, message, details], known.type) as QuarryError;
  return new ApiError(ctx.status, code, message, details);
}
