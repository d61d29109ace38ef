import type { Embedder } from '../embed/embedder.js';
import { assertTrustedModel } from '../embed/trust.js';
import { CollectionCorruptError } from '../errors.js';
import { audited } from '../observe/audit.js';
import { Collection } from '../store/collection.js';
import { readDeploymentFile } from '../store/deployment.js';
import { checkCollection, type CheckReport } from '../store/integrity.js';
import { SOURCE_OF_TRUTH_REMEDY } from '../store/metadata-db.js';
import { executeRepair, planRepair, type RepairAction } from '../store/repair.js';
import { GenerationVectorCache } from './generations.js';
import { loadEmbedder, refOf } from './load-model.js';
import { collectionOf, dataDirOf, type CollectionOptions } from './options.js';

export interface RepairOptions extends CollectionOptions {
  /** Say what would be done, change nothing. */
  dryRun?: boolean;
  /** A loaded embedder to re-embed with (its identity and fingerprint are still checked). */
  embedder?: Embedder;
}

export interface RepairReport {
  collection: string;
  dryRun: boolean;
  /** What was done (or, with dryRun, would be). */
  actions: RepairAction[];
  /** Damage to the source of truth, which repair cannot fix. */
  unrepairable: string[];
  /** What to do about `unrepairable` (empty when there is none). */
  advice: string;
  /** `quarry check` after the repair (absent for a dry run or when nothing could be done). */
  after?: CheckReport;
  /** Whether the collection is sound now (dry run: whether it was sound already). */
  ok: boolean;
}

/**
 * Rebuilds what is derivable in a damaged collection (see store/repair.ts): vector segments
 * re-derived from the stored text (embedding cache first, then the collection's own model,
 * checked against its identity and fingerprint), damaged ANN / BM25 files rebuilt. Holds the
 * writer lock; adds no version.
 */
export async function repair(opts: RepairOptions = {}): Promise<RepairReport> {
  if (opts.dryRun) return repairCollection(opts);
  // a repair rewrites files: the audit log records who did it and what was done
  return audited(
    dataDirOf(opts),
    {
      actor: opts.actor,
      action: 'repair',
      target: collectionOf(opts),
      detail: (r: RepairReport) => ({ actions: r.actions.map((a) => `${a.kind} ${a.file}`), unrepairable: r.unrepairable.length, ok: r.ok }),
    },
    () => repairCollection(opts),
  );
}

async function repairCollection(opts: RepairOptions): Promise<RepairReport> {
  const name = collectionOf(opts);
  const dryRun = opts.dryRun ?? false;
  const base = { collection: name, dryRun, actions: [] as RepairAction[] };
  let c: Collection;
  try {
    c = await Collection.open(dataDirOf(opts), name, dryRun ? 'read' : 'write');
  } catch (e) {
    if (!(e instanceof CollectionCorruptError)) throw e;
    return { ...base, unrepairable: [e.problem], advice: SOURCE_OF_TRUTH_REMEDY, ok: false };
  }
  let embedder: Embedder | undefined;
  let cache: GenerationVectorCache | undefined;
  try {
    // the embedding cache across generations: a kept generation built with the same model may hold the very vectors
    const d = readDeploymentFile(dataDirOf(opts), name);
    if (d) cache = await GenerationVectorCache.open(dataDirOf(opts), name, d, c.manifest.model, d.live);
    const plan = await planRepair(c, cache);
    const advice = plan.unrepairable.length > 0 ? SOURCE_OF_TRUTH_REMEDY : '';
    if (dryRun || plan.unrepairable.length > 0 || plan.actions.length === 0) {
      return { ...base, actions: plan.actions, unrepairable: plan.unrepairable, advice, ok: plan.unrepairable.length === 0 && plan.actions.length === 0 };
    }
    const embed = async (texts: string[]): Promise<Float32Array[]> => {
      if (!embedder) {
        embedder = opts.embedder ?? (await loadEmbedder(refOf(c.manifest.model), opts.modelsDir));
        // re-embedding with a model that drifted would mix vector spaces in one collection
        await assertTrustedModel(name, c.manifest, embedder);
      }
      return embedder.embed(texts);
    };
    await executeRepair(c, plan, embed);
    const after = await checkCollection(c);
    return { ...base, actions: plan.actions, unrepairable: [], advice, after, ok: after.ok };
  } finally {
    await cache?.close();
    if (embedder && !opts.embedder) await embedder.close();
    await c.close();
  }
}
