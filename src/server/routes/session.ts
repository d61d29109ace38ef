import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { errorResponse, sessionResponse } from '../schemas.js';

/**
 * GET /session: who the calling key is (id, scope, collections), so a client such as the web
 * page can show only the actions the key may take. Showing is not allowing: every route
 * checks the key itself.
 */
export function registerSessionRoutes(app: FastifyInstance, _ctx: ServerContext): void {
  app.get(
    '/session',
    {
      schema: { tags: ['operations'], summary: 'The calling key: its id, scope and collections (never its secret); needs any valid key' },
      config: { auth: { scope: 'read' }, docs: { 200: sessionResponse, 401: errorResponse } },
    },
    async (request) => {
      const k = request.apiKey!;
      return { keyId: k.id, scope: k.scope, collections: k.collections, ...(k.label ? { label: k.label } : {}), createdAt: k.createdAt };
    },
  );
}
