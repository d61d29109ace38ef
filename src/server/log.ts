/**
 * Structured logs (pino, Fastify's logger): one JSON line per request at info, with its
 * request id, method, route, status and time, written when the response is finished.
 * Request headers are never logged, and the Authorization header is redacted wherever a
 * request object would be serialized, so keys never reach a log.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/** Paths pino censors in anything logged. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'request.headers.authorization',
  'headers.authorization',
  'authorization',
  'req.headers.cookie',
  'headers.cookie',
];

/** A request id from the client (X-Request-Id), if it is a safe token, else a new UUID. */
export function genReqId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(given)) return given;
  return randomUUID();
}

/** Fastify's log lines replaced by one per request (and the error line of a 5xx). */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  override routeNotFound(): void {}

  override defaultErrorLog(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      route: request.routeOptions.url ?? null,
      // the path only: a query string is not part of this API and could carry anything
      path: request.url.split('?')[0].slice(0, 512),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100,
      ...(request.apiKey ? { key: request.apiKey.id } : {}),
      ...(error ? { err: { message: error.message } } : {}),
    };
    if (error || reply.statusCode >= 500) reply.log.error(line, 'request');
    else reply.log.info(line, 'request');
  }
}
