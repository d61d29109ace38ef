/** Asking a running cluster how it is, with the official client (short timeouts, no retries). */
import { Client } from '@opensearch-project/opensearch';
import type { NodeSpec } from './cluster-state.js';

export interface Health {
  status: 'green' | 'yellow' | 'red';
  nodes: number;
  activePrimaryShards: number;
  activeShards: number;
  unassignedShards: number;
}

export function clusterClient(nodes: NodeSpec[], timeoutMs = 3000): Client {
  return new Client({ nodes: nodes.map((n) => `http://127.0.0.1:${n.http}`), requestTimeout: timeoutMs, maxRetries: 0 });
}

/** Cluster health, or null when no node answers. */
export async function readHealth(client: Client): Promise<Health | null> {
  try {
    const { body } = await client.cluster.health();
    return {
      status: body.status as Health['status'],
      nodes: body.number_of_nodes,
      activePrimaryShards: body.active_primary_shards,
      activeShards: body.active_shards,
      unassignedShards: body.unassigned_shards,
    };
  } catch {
    return null;
  }
}

/** The elected cluster manager's node name, or null when there is none (yet) or no answer. */
export async function readClusterManager(client: Client): Promise<string | null> {
  try {
    const { body } = await client.cat.clusterManager({ format: 'json' });
    return body[0]?.node ?? null;
  } catch {
    return null;
  }
}
