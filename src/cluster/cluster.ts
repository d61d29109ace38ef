/**
 * `quarry cluster up | status | down`: a local N-node OpenSearch for trying and testing quarry's
 * cluster store. Production points --store at its own cluster; this is not that.
 */
import { join, resolve } from 'node:path';
import { ensureDistribution } from './assemble.js';
import { ClusterNodeDiedError, ClusterNotFoundError, ClusterShapeError, ClusterStartTimeoutError, PortInUseError } from './cluster-errors.js';
import { type ClusterFile, newClusterFile, nodeDir, nodeLog, planNodes, readClusterFile, readPid, removePid, storeUrl, writeClusterFile, writePid } from './cluster-state.js';
import { clusterClient, type Health, readClusterManager, readHealth } from './health.js';
import { writeNodeConfig } from './node-config.js';
import { isNodeProcess, portFree, startNode, stopProcess, tailFile } from './node-process.js';
import { defaultCacheDir } from './paths.js';
import { findJava } from './tools.js';

export const DEFAULT_PORT = 9201;
export const DEFAULT_HEAP = '1g';

export interface UpOptions {
  dir: string;
  /** Defaults: 1 node, HTTP from 9201 (transport +100), 1g heap; an existing folder keeps its shape. */
  nodes?: number;
  port?: number;
  heap?: string;
  cacheDir?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Progress for a person: assembling steps, then the wait for the nodes. */
  onLine?: (line: string) => void;
}

export interface UpResult {
  dir: string;
  store: string;
  health: Health;
  started: string[];
  reused: string[];
  distribution: { dir: string; assembled: boolean; seconds: number };
  seconds: number;
}

const configDir = (dir: string, name: string) => join(nodeDir(dir, name), 'config');

export async function clusterUp(o: UpOptions): Promise<UpResult> {
  const started = Date.now();
  const dir = resolve(o.dir);
  const onLine = o.onLine ?? (() => undefined);
  const cluster = await shape(dir, o);
  // Java first: without it nothing below is worth doing (assembling takes a minute).
  const java = findJava(o.env);
  const dist = await ensureDistribution(o.cacheDir ?? defaultCacheDir(o.env), { env: o.env, onLine });

  const pids = new Map<string, number>();
  const reused: string[] = [];
  const toStart = [];
  for (const node of cluster.nodes) {
    const pid = await readPid(dir, node.name);
    if (pid !== null && isNodeProcess(pid, configDir(dir, node.name))) {
      pids.set(node.name, pid);
      reused.push(node.name);
    } else {
      await removePid(dir, node.name);
      toStart.push(node);
    }
  }
  // Every port checked before any node starts, so a clash leaves nothing half started.
  for (const node of toStart) {
    if (!(await portFree(node.http))) throw new PortInUseError(node.http, 'HTTP', node.name);
    if (!(await portFree(node.transport))) throw new PortInUseError(node.transport, 'transport', node.name);
  }
  await writeClusterFile(dir, cluster);
  for (const node of toStart) {
    const conf = await writeNodeConfig(dir, cluster, node);
    const pid = await startNode({ java, dist: dist.dir, dir, name: node.name, configDir: conf, heap: cluster.heap });
    await writePid(dir, node.name, pid);
    pids.set(node.name, pid);
  }
  const health = await waitReady(dir, cluster, pids, o.timeoutMs ?? 180_000, onLine);
  return {
    dir,
    store: storeUrl(cluster.nodes),
    health,
    started: toStart.map((n) => n.name),
    reused,
    distribution: dist,
    seconds: (Date.now() - started) / 1000,
  };
}

/** The folder's recorded shape, or a new one; asking for another node count or port is refused. */
async function shape(dir: string, o: UpOptions): Promise<ClusterFile> {
  const existing = await readClusterFile(dir);
  if (!existing) return newClusterFile(planNodes(o.nodes ?? 1, o.port ?? DEFAULT_PORT), o.heap ?? DEFAULT_HEAP);
  if (o.nodes !== undefined && o.nodes !== existing.nodes.length) throw new ClusterShapeError(dir, `${existing.nodes.length} node(s), not ${o.nodes}`);
  if (o.port !== undefined && o.port !== existing.nodes[0].http) throw new ClusterShapeError(dir, `HTTP ports from ${existing.nodes[0].http}, not ${o.port}`);
  return { ...existing, heap: o.heap ?? existing.heap };
}

/**
 * Until every node has joined and health is green (yellow on one node: a replica can never be
 * placed on the node holding its primary, so an index with replicas stays yellow there).
 */
async function waitReady(dir: string, cluster: ClusterFile, pids: Map<string, number>, timeoutMs: number, onLine: (line: string) => void): Promise<Health> {
  const want = cluster.nodes.length;
  const client = clusterClient(cluster.nodes, 2000);
  const began = Date.now();
  let last: Health | null = null;
  try {
    for (;;) {
      for (const node of cluster.nodes) {
        if (!isNodeProcess(pids.get(node.name) as number, configDir(dir, node.name))) {
          await removePid(dir, node.name);
          throw new ClusterNodeDiedError(node.name, nodeLog(dir, node.name), await tailFile(nodeLog(dir, node.name), 15));
        }
      }
      last = await readHealth(client);
      if (last && last.nodes >= want && (last.status === 'green' || (want === 1 && last.status === 'yellow'))) return last;
      const seconds = Math.round((Date.now() - began) / 1000);
      onLine(`waiting for ${want} node(s): ${last ? `${last.nodes} joined, health ${last.status}` : 'no node answers yet'} (${seconds} s)`);
      if (Date.now() - began > timeoutMs) {
        const state = last ? `${last.nodes} of ${want} node(s) joined, health ${last.status}` : 'no node answered';
        throw new ClusterStartTimeoutError(dir, Math.round(timeoutMs / 1000), state, cluster.nodes.map((n) => nodeLog(dir, n.name)));
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await client.close();
  }
}

export interface NodeStatus {
  name: string;
  pid: number | null;
  alive: boolean;
  http: string;
  transport: number;
  /** Whether it is the elected cluster manager (null: no answer). */
  clusterManager: boolean | null;
  log: string;
}

export interface ClusterStatus {
  dir: string;
  store: string;
  /** Every node's process is alive. */
  running: boolean;
  nodes: NodeStatus[];
  /** null when no node answers. */
  health: Health | null;
}

export async function clusterStatus(dirIn: string): Promise<ClusterStatus> {
  const dir = resolve(dirIn);
  const cluster = await readClusterFile(dir);
  if (!cluster) throw new ClusterNotFoundError(dir);
  const alive = await Promise.all(
    cluster.nodes.map(async (n) => {
      const pid = await readPid(dir, n.name);
      return { pid, alive: pid !== null && isNodeProcess(pid, configDir(dir, n.name)) };
    }),
  );
  let health: Health | null = null;
  let manager: string | null = null;
  const up = cluster.nodes.filter((_, i) => alive[i].alive);
  if (up.length > 0) {
    const client = clusterClient(up);
    try {
      [health, manager] = await Promise.all([readHealth(client), readClusterManager(client)]);
    } finally {
      await client.close();
    }
  }
  return {
    dir,
    store: storeUrl(cluster.nodes),
    running: alive.every((a) => a.alive),
    nodes: cluster.nodes.map((n, i) => ({
      name: n.name,
      pid: alive[i].alive ? alive[i].pid : null,
      alive: alive[i].alive,
      http: `http://127.0.0.1:${n.http}`,
      transport: n.transport,
      clusterManager: manager === null ? null : manager === n.name,
      log: nodeLog(dir, n.name),
    })),
    health,
  };
}

export interface DownResult {
  dir: string;
  nodes: Array<{ name: string; pid: number | null; result: 'stopped' | 'killed' | 'not-running' }>;
}

/** Stops every node (all at once: a cluster manager waiting for the others only slows them). */
export async function clusterDown(dirIn: string, graceMs = 30_000): Promise<DownResult> {
  const dir = resolve(dirIn);
  const cluster = await readClusterFile(dir);
  if (!cluster) throw new ClusterNotFoundError(dir);
  const nodes = await Promise.all(
    cluster.nodes.map(async (n) => {
      const pid = await readPid(dir, n.name);
      const result = pid === null ? ('not-running' as const) : await stopProcess(pid, configDir(dir, n.name), graceMs);
      await removePid(dir, n.name);
      return { name: n.name, pid, result };
    }),
  );
  return { dir, nodes };
}
