import type { FastifyInstance } from 'fastify';
import { rollback, versions } from '../../api/versions.js';
import type { ServerContext } from '../context.js';
import { actorOf } from '../auth.js';
import { errorResponse, nameParams, rollbackBody, versionInfo } from '../schemas.js';

export function registerVersionRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Params: { name: string } }>(
    '/collections/:name/versions',
    {
      schema: { tags: ['versions'], summary: 'Every kept version of a collection, oldest first; needs read', params: nameParams },
      config: {
        auth: { scope: 'read', collection: 'param' },
        docs: { 200: { type: 'object', properties: { versions: { type: 'array', items: versionInfo } } }, 404: errorResponse },
      },
    },
    async (request) => ({ versions: await versions({ dataDir: ctx.dataDir, collection: request.params.name }) }),
  );

  app.post<{ Params: { name: string }; Body: { version: number } }>(
    '/collections/:name/rollback',
    {
      schema: { tags: ['versions'], summary: 'Make an earlier version current again (recorded as a new version); needs write', params: nameParams, body: rollbackBody },
      config: { auth: { scope: 'write', collection: 'param' }, docs: { 200: versionInfo, 400: errorResponse, 404: errorResponse, 409: errorResponse } },
    },
    async (request) => {
      const { name } = request.params;
      return ctx.registry.write(name, () => rollback(request.body.version, { dataDir: ctx.dataDir, collection: name, actor: actorOf(request) }));
    },
  );
}
