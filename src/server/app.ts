/**
 * `quarry serve`: the library verbs behind a REST API (Fastify). This file wires the pieces:
 * logging (log.ts), access control (auth.ts, keys.ts), the warm collections (registry.ts),
 * one error shape (http-errors.ts), the schemas and the OpenAPI document (schemas.ts), and a
 * file per resource under routes/.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { resolve } from 'node:path';
import type { Embedder } from '../embed/embedder.js';
import { recordHttpRequest } from '../observe/metrics.js';
import type { Reranker } from '../retrieve/rerank.js';
import { Admission, defaultAdmissionLimits, type AdmissionLimits } from './admission.js';
import { authenticate, type RouteAuth } from './auth.js';
import { sendError, errorBody } from './http-errors.js';
import { KeyStore, keysFileOf } from './keys.js';
import type { ServerContext } from './context.js';
import { genReqId, REDACT_PATHS, RequestLogController } from './log.js';
import { installJsonParser } from './json-body.js';
import { PathRedactor } from './redact.js';
import { CollectionRegistry } from './registry.js';
import { LIMITS } from './schemas.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerCardRoutes } from './routes/card.js';
import { registerCollectionRoutes } from './routes/collections.js';
import { registerDocumentRoutes } from './routes/documents.js';
import { EvaluationJobs } from './evaluation-jobs.js';
import { registerEvaluationRoutes } from './routes/evaluations.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerMetricsRoutes } from './routes/metrics.js';
import { registerSearchRoutes } from './routes/search.js';
import { registerSessionRoutes } from './routes/session.js';
import { registerUiRoutes } from './routes/ui.js';
import { registerVersionRoutes } from './routes/versions.js';
import { registerGenerationRoutes } from './routes/generations.js';

export type { ServerContext } from './context.js';

/** A route as registered, with what access control requires of it. */
export interface RouteEntry {
  method: string;
  url: string;
  auth: RouteAuth;
}

const ROUTES = new WeakMap<FastifyInstance, RouteEntry[]>();

/**
 * Every route the server registered (HEAD twins of GETs left out), so the access-control
 * tests enumerate the app itself and a new route cannot escape them.
 */
export function routesOf(app: FastifyInstance): RouteEntry[] {
  return [...(ROUTES.get(app) ?? [])];
}

export interface ServerOptions {
  /** Folder holding the collections (and keys.json). */
  dataDir: string;
  modelsDir?: string;
  /** false: no logs; true (default): JSON lines at info on stdout; or pino options (level, stream, ...). */
  logger?: boolean | Record<string, unknown>;
  /** The API keys file (default <dataDir>/keys.json). */
  keysFile?: string;
  /** Folder under which evaluation datasets may be named (evaluations are refused without it). */
  datasetsRoot?: string;
  /** Loads an embedding model by reference (tests hand in a stand-in). */
  loadEmbedder?: (ref: string) => Promise<Embedder>;
  /** Loads the tier-2 model on the first rerank (tests hand in a stand-in). */
  loadReranker?: () => Promise<Reranker>;
  /** Runs before each collection's warm-up query (makes the warm-up observable in tests). */
  beforeWarmup?: (collection: string) => Promise<void>;
  /** Chunks per commit of server-side ingests (default 256). */
  ingestBatchChunks?: number;
  /** Share of searches (0..1) the shadow generation also answers in the background, to compare (default 0). */
  canaryShare?: number;
  /** How long a collection refused for damaged files stays refused before a request verifies it again (default 10 s). */
  damagedRetryMs?: number;
  /** Searches at once and waiting, past which a search answers 429 (default: defaultAdmissionLimits, from the cores). */
  admission?: Partial<AdmissionLimits>;
}

function loggerOptions(opt: ServerOptions['logger']): FastifyServerOptions['logger'] {
  if (opt === false) return false;
  const base = opt === true || opt === undefined ? {} : opt;
  return { level: 'info', ...base, redact: { paths: REDACT_PATHS, censor: '[redacted]' } } as FastifyServerOptions['logger'];
}

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const dataDir = resolve(opts.dataDir);
  const redactor = new PathRedactor({ data: dataDir, models: opts.modelsDir, datasets: opts.datasetsRoot });
  const redact = (m: string) => redactor.redact(m);
  const app = Fastify({
    logger: loggerOptions(opts.logger),
    logController: new RequestLogController(),
    genReqId,
    bodyLimit: LIMITS.bodyBytes,
    // Reject what the schemas do not name, never drop it silently or coerce a type.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    frameworkErrors: (err, request, reply) => {
      sendError(err, request, reply, redact);
    },
  });

  const table: RouteEntry[] = [];
  ROUTES.set(app, table);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      table.push({ method, url: route.url, auth: (route.config as { auth?: RouteAuth } | undefined)?.auth ?? {} });
    }
  });

  const keys = new KeyStore(opts.keysFile ?? keysFileOf(dataDir), (problem) =>
    app.log.error({ problem }, 'the API keys file cannot be read: every request that needs a key is refused until it is fixed'),
  );
  const registry = new CollectionRegistry({
    dataDir,
    modelsDir: opts.modelsDir,
    loadEmbedder: opts.loadEmbedder,
    loadReranker: opts.loadReranker,
    beforeWarmup: opts.beforeWarmup,
    ingestBatchChunks: opts.ingestBatchChunks,
    canaryShare: opts.canaryShare,
    damagedRetryMs: opts.damagedRetryMs,
    log: app.log,
    redact,
  });
  const background = new Set<Promise<unknown>>();
  const ctx: ServerContext = {
    dataDir,
    modelsDir: opts.modelsDir,
    registry,
    keys,
    datasetsRoot: opts.datasetsRoot ? resolve(opts.datasetsRoot) : undefined,
    ingestBatchChunks: opts.ingestBatchChunks,
    jobs: new EvaluationJobs(redact),
    admission: new Admission({ ...defaultAdmissionLimits(), ...opts.admission }),
    redact,
    loadEmbedder: opts.loadEmbedder,
    track: (work) => {
      background.add(work);
      void work.finally(() => background.delete(work));
    },
  };

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'quarry',
        description: 'Semantic search that refuses to be silently wrong. Every endpoint but /healthz needs `Authorization: Bearer <key>` (`quarry keys create`).',
        version: '0.1.0',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API key from `quarry keys create`' } } },
      security: [{ bearer: [] }],
      tags: [
        { name: 'collections' },
        { name: 'documents' },
        { name: 'search' },
        { name: 'versions' },
        { name: 'generations' },
        { name: 'evaluations' },
        { name: 'operations' },
      ],
    },
    // Response schemas go into the document only (route config `docs`), never into serialization.
    transform: ({ schema, url, route }) => {
      const docs = route.config?.docs;
      return { schema: docs ? ({ ...schema, response: docs } as typeof schema) : schema, url };
    },
  });

  app.setErrorHandler((err, request, reply) => sendError(err, request, reply, redact));
  installJsonParser(app, LIMITS.jsonDepth);
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0].slice(0, 200)}`));
  });
  app.addHook('onRequest', authenticate(keys));
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    recordHttpRequest(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
  });

  registerHealthRoutes(app, ctx);
  registerMetricsRoutes(app, ctx);
  registerCollectionRoutes(app, ctx);
  registerDocumentRoutes(app, ctx);
  registerSearchRoutes(app, ctx);
  registerVersionRoutes(app, ctx);
  registerGenerationRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  registerCardRoutes(app, ctx);
  registerEvaluationRoutes(app, ctx);
  registerSessionRoutes(app, ctx);
  registerUiRoutes(app, ctx);

  app.get('/openapi.json', { schema: { tags: ['operations'], summary: 'This API as an OpenAPI 3 document' }, config: { auth: { scope: 'read' } } }, async () => app.swagger());

  app.addHook('onReady', async () => {
    const keyCount = keys.size; // reads the file (a problem is logged by the store)
    if (!keys.problem && keyCount === 0) app.log.warn({ file: keys.path }, 'no API keys: every request but /healthz will be refused; create one with `quarry keys create`');
    if (keys.looseMode()) app.log.warn({ file: keys.path }, 'the API keys file can be read by other users; chmod 600 it');
    await ctx.jobs.loadBaselines(dataDir);
    // not awaited: /readyz reports the warm-up as it goes
    void registry.start().catch((e: unknown) => app.log.error({ err: e }, 'cannot list the collections'));
  });
  app.addHook('onClose', async () => {
    await Promise.allSettled([...background]);
    await ctx.jobs.settle();
    await registry.close();
  });
  return app;
}
