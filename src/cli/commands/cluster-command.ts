import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { clusterDown, clusterStatus, clusterUp, DEFAULT_HEAP, DEFAULT_PORT } from '../../cluster/cluster.js';
import { printJson } from '../output.js';
import { intArg } from './parse.js';

function heapArg(value: string): string {
  if (!/^\d+[mg]$/.test(value)) throw new InvalidArgumentError('expected a JVM heap size such as 512m or 1g');
  return value;
}

/**
 * Progress on stderr: on a terminal one line redrawn in place; in logs the assembling steps
 * and a waiting line every 10 s, so CI output shows progress without a line per second.
 */
function progress(): { line: (text: string) => void; end: () => void } {
  const tty = process.stderr.isTTY === true;
  let drawn = false;
  let lastPrinted = 0;
  return {
    line: (text) => {
      if (tty) {
        process.stderr.write(`\r\x1b[2K${text}`);
        drawn = true;
      } else if (!text.startsWith('waiting') || Date.now() - lastPrinted >= 10_000) {
        process.stderr.write(`${text}\n`);
        lastPrinted = Date.now();
      }
    },
    end: () => {
      if (drawn) process.stderr.write('\r\x1b[2K');
    },
  };
}

export function registerCluster(program: Command): void {
  const cluster = program
    .command('cluster')
    .description('a local OpenSearch cluster on 127.0.0.1 to try and test the cluster store (preview; needs Java 17, and Maven the first time)');

  cluster
    .command('up')
    .description('assemble OpenSearch from Maven Central (once, cached), start the nodes, wait until ready and print the store URL')
    .requiredOption('--dir <dir>', "the cluster's folder: node config, data and logs")
    .option('--nodes <n>', 'number of nodes (default 1; a folder keeps the count it was made with)', intArg(1, 9))
    .option('--port <port>', `HTTP port of the first node; node i uses port+i-1, transport port+100+i-1 (default ${DEFAULT_PORT})`, intArg(1024, 65400))
    .option('--heap <size>', `JVM heap per node (default ${DEFAULT_HEAP})`, heapArg)
    .option('--cache <dir>', 'where the assembled distribution is kept (default $QUARRY_CACHE or ~/.cache/quarry)')
    .option('--timeout <seconds>', 'how long to wait for the cluster to be ready', intArg(1, 3600), 180)
    .option('--json', 'print JSON')
    .action(async (o: { dir: string; nodes?: number; port?: number; heap?: string; cache?: string; timeout: number; json?: boolean }) => {
      const p = progress();
      try {
        const res = await clusterUp({ dir: o.dir, nodes: o.nodes, port: o.port, heap: o.heap, cacheDir: o.cache, timeoutMs: o.timeout * 1000, onLine: p.line });
        p.end();
        if (o.json) return printJson(res);
        const what = [res.started.length ? `started ${res.started.join(', ')}` : '', res.reused.length ? `already running: ${res.reused.join(', ')}` : ''].filter(Boolean).join('; ');
        const assembled = res.distribution.assembled ? `, assembled OpenSearch in ${res.distribution.seconds.toFixed(0)} s` : '';
        process.stderr.write(`cluster in ${res.dir}: ${what}; health ${res.health.status} with ${res.health.nodes} node(s) after ${res.seconds.toFixed(0)} s${assembled}\n`);
        process.stdout.write(`${res.store}\n`);
      } finally {
        p.end();
      }
    });

  cluster
    .command('status')
    .description("the cluster's nodes (pid, HTTP URL, alive, cluster manager) and health")
    .requiredOption('--dir <dir>', "the cluster's folder")
    .option('--json', 'print JSON')
    .action(async (o: { dir: string; json?: boolean }) => {
      const s = await clusterStatus(o.dir);
      if (o.json) return printJson(s);
      const running = s.nodes.filter((n) => n.alive).length;
      process.stdout.write(`cluster in ${s.dir}: ${running} of ${s.nodes.length} node(s) running, health ${s.health?.status ?? 'unknown (no node answers)'}\n`);
      for (const n of s.nodes) {
        const role = n.clusterManager ? '  cluster manager' : '';
        process.stdout.write(`${n.name}  ${n.alive ? `pid ${n.pid}` : 'not running'}  ${n.http}${role}\n`);
      }
      if (running > 0) process.stdout.write(`store: ${s.store}\n`);
    });

  cluster
    .command('down')
    .description('stop the nodes (SIGTERM, then SIGKILL after --timeout); data and logs stay in the folder')
    .requiredOption('--dir <dir>', "the cluster's folder")
    .option('--timeout <seconds>', 'how long a node may take to stop before it is killed', intArg(1, 600), 30)
    .option('--json', 'print JSON')
    .action(async (o: { dir: string; timeout: number; json?: boolean }) => {
      const res = await clusterDown(o.dir, o.timeout * 1000);
      if (o.json) return printJson(res);
      for (const n of res.nodes) process.stdout.write(`${n.name}: ${n.result === 'not-running' ? 'was not running' : `${n.result} (pid ${n.pid})`}\n`);
    });
}
