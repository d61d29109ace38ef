/** A node's config folder: opensearch.yml and a log4j2.properties that logs to the console (its log file). */
import { chown, lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ClusterFile, type NodeSpec, nodeDir } from './cluster-state.js';

export async function writeNodeConfig(dir: string, cluster: ClusterFile, node: NodeSpec): Promise<string> {
  const home = nodeDir(dir, node.name);
  for (const sub of ['config', 'data', 'logs', 'tmp']) await mkdir(join(home, sub), { recursive: true });
  const lines = [
    `cluster.name: ${cluster.clusterName}`,
    `node.name: ${node.name}`,
    `path.data: ${join(home, 'data')}`,
    `path.logs: ${join(home, 'logs')}`,
    // Loopback only: a try-it cluster has no security plugin, so it must not be reachable from outside.
    'network.host: 127.0.0.1',
    `http.port: ${node.http}`,
    `transport.port: ${node.transport}`,
    // A laptop disk past 85-90% full would otherwise leave new shards unassigned (health red).
    'cluster.routing.allocation.disk.threshold_enabled: false',
  ];
  if (cluster.nodes.length === 1) {
    lines.push('discovery.type: single-node');
  } else {
    const list = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
    lines.push(`discovery.seed_hosts: ${list(cluster.nodes.map((n) => `127.0.0.1:${n.transport}`))}`);
    lines.push(`cluster.initial_cluster_manager_nodes: ${list(cluster.nodes.map((n) => n.name))}`);
  }
  await writeFile(join(home, 'config', 'opensearch.yml'), lines.join('\n') + '\n');
  await writeFile(join(home, 'config', 'log4j2.properties'), LOG4J);
  return join(home, 'config');
}

const LOG4J = `status = error
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
`;

/** Gives a folder tree to uid/gid (the node's data must be writable by the user the JVM runs as). */
export async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid);
  if (!(await lstat(path)).isDirectory()) return;
  for (const entry of await readdir(path)) await chownTree(join(path, entry), uid, gid);
}
