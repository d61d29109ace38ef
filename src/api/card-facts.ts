/** What a system card states (card.ts gathers it, card-render.ts writes it), and small helpers both use. */
import type { ModelIdentity } from '../embed/identity.js';
import type { EvalHistoryEntry } from '../eval/history.js';
import type { LexicalState } from '../store/collection-lexical.js';
import type { Deployment, GateResult } from '../store/deployment.js';
import type { ChunkingSettings, IndexSettings } from '../store/manifest.js';
import type { CollectionInfo } from './info.js';
import type { VersionInfo } from './versions.js';

export const HTTP_EVALUATION = 'recorded by the HTTP evaluation API';
export const ALERTS_PATH = 'deploy/prometheus/alerts.yml';

/** Shell-quotes an argument when it needs it, so the commands in the card can be pasted; a `<placeholder>` stays as it is. */
export function sh(arg: string): string {
  if (/^<[^<>]+>$/.test(arg)) return arg;
  return /^[A-Za-z0-9_./:@=,+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface DocumentGroup {
  value: string;
  documents: number;
  chunks: number;
  bytes: number;
}

export interface SourceGroup extends DocumentGroup {
  /** folder: files directly in it; file: one file holding many documents (JSON Lines); records: documents handed over in memory (HTTP API, upsertDocuments). */
  kind: 'folder' | 'file' | 'records';
}

export type ModelCheck =
  | { status: 'passed' | 'failed'; candidate: string; minCosine: number; meanCosine: number; threshold: number; identityDifferences: string[] }
  | { status: 'not checked'; reason: string };

export interface AlertRule {
  name: string;
  expr: string;
  for: string | null;
  severity: string | null;
  summary: string | null;
}

export interface Limitation {
  /** state: follows from this collection as it is now; standing: true of quarry itself today. */
  source: 'state' | 'standing';
  text: string;
}

export interface CardFacts {
  collection: string;
  /** The data folder as the card's commands name it. */
  dataDir: string;
  generatedAt: string;
  quarryVersion: string;
  /** The command that regenerates this card. */
  regenerate: string;
  /** The current content version of the live generation. */
  version: number;
  data: {
    documents: number;
    chunks: number;
    bytes: number;
    byFormat: DocumentGroup[];
    bySource: { groups: SourceGroup[]; top: SourceGroup[]; more: number; moreDocuments: number };
    ingested: { first: string | null; last: string | null };
    lineage: { embeddedWith: DocumentGroup[]; chunking: DocumentGroup[]; expectedModel: string; expectedChunking: string; consistent: boolean };
  };
  model: { identity: ModelIdentity; description: string; fingerprint: { probeSet: string; probes: number }; check: ModelCheck };
  chunking: ChunkingSettings;
  index: { settings: IndexSettings; ann: CollectionInfo['ann']; lexical: LexicalState | null };
  evaluation: {
    /** Runs recorded in the evaluation history. */
    runs: number;
    /** History lines that could not be read (a torn last line). */
    unreadable: number;
    latest: (EvalHistoryEntry & { command: string }) | null;
    gate: (GateResult & { generation: number; command: string }) | null;
    judgments: { queries: number; source: string; setAt: string } | null;
  };
  alerts: { file: string; rules: AlertRule[]; problem: string | null };
  limitations: Limitation[];
  versions: VersionInfo[];
  generations: Deployment;
}
