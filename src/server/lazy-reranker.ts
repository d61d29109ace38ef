import type { RerankCandidate, Reranker } from '../retrieve/rerank.js';
import type { Tier2Cache } from '../store/tier2-cache.js';

/** The tier-2 model, loaded on the first search that asks for rerank and shared by all. */
export class LazyReranker implements Reranker {
  private loaded: Promise<Reranker> | null = null;
  private real: Reranker | null = null;

  constructor(private readonly load: () => Promise<Reranker>) {}

  async ready(): Promise<Reranker> {
    this.loaded ??= this.load().then(
      (r) => (this.real = r),
      (e: unknown) => {
        this.loaded = null; // let a later request try again (the model may be provisioned since)
        throw e;
      },
    );
    return this.loaded;
  }

  get description(): string {
    return this.real?.description ?? 'tier-2 model (not loaded yet)';
  }

  async score(query: string, candidates: readonly RerankCandidate[], store?: Tier2Cache | null): Promise<number[]> {
    return (await this.ready()).score(query, candidates, store);
  }

  async close(): Promise<void> {
    const r = this.loaded ? await this.loaded.catch(() => null) : null;
    await r?.close();
  }
}
