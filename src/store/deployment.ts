/**
 * A collection's generations: each generation is a complete collection folder built with one
 * model, chunking and index (generation 1 is `<data>/<name>`, generation g > 1 is
 * `<data>/<name>@g<g>`; '@' is not allowed in collection names, so these never collide with
 * one). `<data>/<name>@deploy.json` says which generation is live, which one is the shadow
 * being built or judged, and which earlier ones are kept for rollback. Switching the live
 * generation is one atomic rename of that file; without the file, generation 1 is live.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CollectionCorruptError } from '../errors.js';
import { writeFileAtomic } from './atomic-file.js';
import type { GateResult } from './gate-result.js';
import type { ChunkingSettings, IndexSettings } from './manifest.js';

export type { GateResult, GateRow } from './gate-result.js';

export const DEPLOYMENT_FORMAT = 'quarry-deployment';
/** Retired generations kept for rollback (beyond the live and shadow ones) unless set otherwise. */
export const DEFAULT_GENERATION_RETENTION = 2;

export type GenerationState = 'building' | 'shadow' | 'live' | 'retired' | 'failed';

export interface GenerationEntry {
  id: number;
  /** The folder's name inside the data folder. */
  dir: string;
  state: GenerationState;
  createdAt: string;
  /** describeIdentity() of its model. */
  model: string;
  chunking: ChunkingSettings;
  index: IndexSettings;
  /** When it last became live, and when it stopped being live. */
  promotedAt?: string;
  retiredAt?: string;
  /** The last reindex report's figures (documents, chunks, cache hits). */
  build?: { documents: number; chunks: number; cacheHits: number; chunksEmbedded: number; elapsedMs: number };
  /** The last gate this generation went through as the shadow. */
  gate?: GateResult;
  note?: string;
}

export interface Deployment {
  format: typeof DEPLOYMENT_FORMAT;
  collection: string;
  live: number;
  shadow: number | null;
  /** Generations that were live before, oldest first (rollback goes to the last). */
  previous: number[];
  /** Retired generations kept by `gc`. */
  retention: number;
  /** The number the next generation gets (numbers are never reused). */
  nextGeneration: number;
  generations: GenerationEntry[];
}

export function deploymentFile(dataDir: string, name: string): string {
  return join(resolve(dataDir), `${name}@deploy.json`);
}

/** Held by whoever changes the deployment (reindex, promote, rollback, gc). */
export function deploymentLockFile(dataDir: string, name: string): string {
  return join(resolve(dataDir), `${name}@deploy.lock`);
}

/** The collection's held-out queries and judgments (the promotion gate's). */
export function judgmentsFile(dataDir: string, name: string): string {
  return join(resolve(dataDir), `${name}@judgments.json`);
}

/** The folder name of generation `g` of collection `name`. */
export function generationDirName(name: string, g: number): string {
  return g === 1 ? name : `${name}@g${g}`;
}

/** The deployment file, or null when the collection never had a second generation. */
export function readDeploymentFile(dataDir: string, name: string): Deployment | null {
  const path = deploymentFile(dataDir, name);
  if (!existsSync(path)) return null;
  let d: Deployment;
  try {
    d = JSON.parse(readFileSync(path, 'utf8')) as Deployment;
  } catch (e) {
    throw new CollectionCorruptError(name, `${path} cannot be read as JSON (${(e as Error).message}); restore it from a backup`, { file: path });
  }
  if (d.format !== DEPLOYMENT_FORMAT || !Number.isInteger(d.live) || !Array.isArray(d.generations) || !d.generations.some((g) => g.id === d.live)) {
    throw new CollectionCorruptError(name, `${path} is not a valid quarry deployment file`, { file: path });
  }
  return d;
}

/** The live generation's folder name (no file: generation 1, the collection's own folder). */
export function liveDirName(dataDir: string, name: string): string {
  const d = readDeploymentFile(dataDir, name);
  if (!d) return name;
  return d.generations.find((g) => g.id === d.live)!.dir;
}

export async function writeDeployment(dataDir: string, d: Deployment): Promise<void> {
  await writeFileAtomic(deploymentFile(dataDir, d.collection), JSON.stringify(d, null, 2) + '\n');
}
