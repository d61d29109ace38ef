import { Option, type Command } from 'commander';
import { initTracing, shutdownTracing } from '../../observe/tracing.js';
import { buildServer } from '../../server/app.js';
import { floatArg, intArg } from './parse.js';

interface ServeFlags {
  port: number;
  host: string;
  data: string;
  models?: string;
  keys?: string;
  datasets?: string;
  canary: number;
  maxSearches?: number;
  maxQueued?: number;
  queueTargetMs?: number;
  logLevel: string;
}

/** Resolves on the first SIGINT or SIGTERM. */
function shutdownSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the collections of a data folder over HTTP (REST API with API keys; see docs/server.md)')
    .option('--port <n>', 'port to listen on (0: any free port)', intArg(0, 65_535), 8080)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .addOption(new Option('--data <dir>', 'folder holding collections').default('.quarry'))
    .addOption(new Option('--models <dir>', 'folder holding provisioned models (default $QUARRY_MODELS or ~/.cache/quarry/models)'))
    .option('--keys <file>', 'API keys file (default <data>/keys.json)')
    .option('--datasets <dir>', 'folder under which evaluation runs may name BEIR datasets (evaluations are refused without it)')
    .option('--canary <share>', 'share of searches (0-1) that a shadow generation also answers in the background, compared in /metrics (default 0)', floatArg(0, 1), 0)
    .option('--max-searches <n>', 'searches that run at once (default $QUARRY_MAX_SEARCHES or 1: a search runs on the one JavaScript thread, its model over every core)', intArg(1, 10_000))
    .option('--max-queued <n>', 'searches that may wait for a turn; past it a search answers 429 with Retry-After (default $QUARRY_MAX_QUEUED_SEARCHES or 8 per core)', intArg(0, 1_000_000))
    .option('--queue-target-ms <ms>', 'a search that would wait longer than this for its turn answers 429 at once (default $QUARRY_QUEUE_TARGET_MS or the mean search time, at least 20 ms)', intArg(1, 600_000))
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
    .action(async (o: ServeFlags) => {
      await initTracing();
      const app = await buildServer({
        dataDir: o.data,
        modelsDir: o.models,
        keysFile: o.keys,
        datasetsRoot: o.datasets,
        canaryShare: o.canary,
        admission: {
          ...(o.maxSearches !== undefined ? { concurrency: o.maxSearches } : {}),
          ...(o.maxQueued !== undefined ? { queue: o.maxQueued } : {}),
          ...(o.queueTargetMs !== undefined ? { targetWaitMs: o.queueTargetMs } : {}),
        },
        logger: { level: o.logLevel },
      });
      const stop = shutdownSignal();
      await app.listen({ port: o.port, host: o.host });
      const sig = await stop;
      // Stop taking requests, let those in flight (and writes) finish, close collections and models.
      app.log.info({ signal: sig }, 'shutting down');
      await app.close();
      await shutdownTracing();
    });
}
