/**
 * The web page (src/web, bundled into dist/web by `npm run build`): `/` answers its
 * index.html and `/ui/assets/<file>` its script, styles and fonts. These routes need no key
 * (the page asks for one and sends it with every API call, like any other client) and are
 * not part of the API, so they stay out of the OpenAPI document.
 *
 * Files are read from disk on each request (a few, small, and a rebuild is then served
 * without a restart). Asset names carry a content hash, so they are cached for a year;
 * index.html, which names them, is revalidated each time. The Content-Security-Policy
 * allows only this origin: no inline script, no third-party anything.
 */
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ServerContext } from '../context.js';
import { errorBody } from '../http-errors.js';

/** dist/web, next to dist/src where this module is compiled to (dist/src/server/routes/ui.js). */
export function defaultWebDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'web');
}

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // uPlot and the page set element styles from script (CSSOM), which this allows without 'unsafe-inline'
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** One path segment of letters, digits, '.', '_' and '-', no leading dot: nothing can leave the folder. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

async function readOrNull(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EISDIR') return null;
    throw e;
  }
}

export function registerUiRoutes(app: FastifyInstance, _ctx: ServerContext, webDir: string = defaultWebDir()): void {
  const hidden = { hide: true } as const;

  app.get('/', { schema: hidden, config: { auth: { public: true } } }, async (_request, reply) => {
    const html = await readOrNull(join(webDir, 'index.html'));
    securityHeaders(reply).header('cache-control', 'no-cache');
    if (!html) {
      return reply
        .code(503)
        // no absolute path: this route needs no key
        .send(errorBody('WEB_UI_NOT_BUILT', 'the web page is not built (no dist/web/index.html): run `npm run build` in the quarry folder, then reload'));
    }
    return reply.type('text/html; charset=utf-8').send(html);
  });

  app.get<{ Params: { file: string } }>('/ui/assets/:file', { schema: hidden, config: { auth: { public: true } } }, async (request, reply) => {
    const { file } = request.params;
    const type = TYPES[extname(file)];
    const body = ASSET_NAME.test(file) && type ? await readOrNull(join(webDir, 'assets', file)) : null;
    if (!body) return reply.code(404).send(errorBody('NOT_FOUND', `no asset ${JSON.stringify(file.slice(0, 128))}`));
    return securityHeaders(reply).header('cache-control', 'public, max-age=31536000, immutable').type(type).send(body);
  });
}
