/**
 * The JSON body parser: Fastify's own (secure-json-parse, prototype poisoning refused),
 * after a one-pass check of nesting depth. V8's JSON.parse copes with any depth, but what
 * handles the parsed value next (validation, JSON.stringify, filters) recurses, and a body
 * of a million `[` overflows the stack: refused here with 400 before it is parsed (issue 14).
 */
import type { FastifyInstance } from 'fastify';
import { HttpError } from './http-errors.js';

/** Whether a JSON text nests objects and arrays more than `limit` levels deep; strings are skipped. */
export function jsonTextDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

export function installJsonParser(app: FastifyInstance, maxDepth: number): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (jsonTextDeeperThan(body as string, maxDepth)) {
      done(new HttpError(400, 'INVALID_INPUT', `the body nests objects or arrays more than ${maxDepth} levels deep`, 'body'), undefined);
      return;
    }
    parse(request, body as string, done);
  });
}
