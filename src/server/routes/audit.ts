import type { FastifyInstance } from 'fastify';
import { readAuditLog, type AuditEntry } from '../../observe/audit.js';
import type { ServerContext } from '../context.js';
import { ALL_COLLECTIONS, keyCoversCollection } from '../keys.js';
import { auditQuery, auditResponse, errorResponse } from '../schemas.js';

const DEFAULT_LIMIT = 1000;

interface AuditQuery {
  action?: string;
  target?: string;
  since?: string;
  limit?: string;
}

/** `GET /audit`: the audit log (`quarry audit --json`), for admin keys. */
export function registerAuditRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Querystring: AuditQuery }>(
    '/audit',
    {
      schema: {
        tags: ['operations'],
        summary: 'The audit log of administrative actions (keys, collections, model generations), oldest first; needs admin',
        querystring: auditQuery,
      },
      config: { auth: { scope: 'admin' }, docs: { 200: auditResponse, 400: errorResponse, 403: errorResponse } },
    },
    async (request) => {
      const key = request.apiKey!;
      const q = request.query;
      // A key for some collections is an admin of those only: it sees their entries, not other
      // collections' nor the keys' (which only a key for every collection may manage anyway).
      const keep = key.collections.includes(ALL_COLLECTIONS) ? undefined : (e: AuditEntry) => !e.target.startsWith('key:') && keyCoversCollection(key, e.target);
      const { entries, problems } = await readAuditLog(
        ctx.dataDir,
        { action: q.action, target: q.target, since: q.since, limit: q.limit === undefined ? DEFAULT_LIMIT : Number(q.limit) },
        keep,
      );
      // the log is written by the CLI too, whose messages name files by their absolute path
      return { entries: entries.map((e) => (e.error ? { ...e, error: { ...e.error, message: ctx.redact(e.error.message) } } : e)), problems };
    },
  );
}
