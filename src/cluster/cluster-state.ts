/**
 * A cluster folder (--dir): cluster.json says its shape (nodes and ports), which stays fixed
 * once data exists; each node has nodes/<name>/{config,data,logs,tmp} and a pid file while it runs.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OPENSEARCH_VERSION } from './paths.js';

export const CLUSTER_NAME = 'quarry-local';

export interface NodeSpec {
  name: string;
  http: number;
  transport: number;
}

export interface ClusterFile {
  opensearch: string;
  clusterName: string;
  heap: string;
  nodes: NodeSpec[];
  createdAt: string;
}

/** Node i (from 1) listens on port+i-1 for HTTP and port+100+i-1 for transport, on 127.0.0.1 only. */
export function planNodes(count: number, port: number): NodeSpec[] {
  return Array.from({ length: count }, (_, i) => ({ name: `n${i + 1}`, http: port + i, transport: port + 100 + i }));
}

export function storeUrl(nodes: NodeSpec[]): string {
  return `opensearch://${nodes.map((n) => `127.0.0.1:${n.http}`).join(',')}`;
}

const clusterFile = (dir: string) => join(dir, 'cluster.json');
export const nodeDir = (dir: string, name: string) => join(dir, 'nodes', name);
export const nodeLog = (dir: string, name: string) => join(nodeDir(dir, name), 'logs', 'opensearch.log');
const pidFile = (dir: string, name: string) => join(nodeDir(dir, name), 'pid');

export async function readClusterFile(dir: string): Promise<ClusterFile | null> {
  if (!existsSync(clusterFile(dir))) return null;
  return JSON.parse(await readFile(clusterFile(dir), 'utf8')) as ClusterFile;
}

export async function writeClusterFile(dir: string, file: ClusterFile): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(clusterFile(dir), JSON.stringify(file, null, 2) + '\n');
}

export function newClusterFile(nodes: NodeSpec[], heap: string): ClusterFile {
  return { opensearch: OPENSEARCH_VERSION, clusterName: CLUSTER_NAME, heap, nodes, createdAt: new Date().toISOString() };
}

export async function readPid(dir: string, name: string): Promise<number | null> {
  const text = await readFile(pidFile(dir, name), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

export async function writePid(dir: string, name: string, pid: number): Promise<void> {
  await writeFile(pidFile(dir, name), `${pid}\n`);
}

export async function removePid(dir: string, name: string): Promise<void> {
  await rm(pidFile(dir, name), { force: true });
}
