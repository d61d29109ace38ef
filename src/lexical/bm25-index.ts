/**
 * An in-memory BM25 index over analyzed terms, with removal and a compact binary form.
 * Hand-written because it is the product's own core: it has to follow the collection's
 * generations (add the chunks that became live, remove those that left) and be saved with
 * the collection; a general search library would keep a second copy of the text.
 *
 * Scoring is Lucene's BM25 (what Anserini's BEIR regressions use):
 *   idf(t)      = ln(1 + (N - df + 0.5) / (df + 0.5))
 *   score(d, q) = Σ_t qtf(t) · idf(t) · tf·(k1+1) / (tf + k1·(1 - b + b·|d|/avgdl))
 * with qtf the term's count in the query (Anserini's bag-of-words query boosts).
 */
import { InvalidInputError } from '../errors.js';
import { TopK } from '../index/dot.js';

export interface Bm25Params {
  /** Term-frequency saturation (default 0.9, Anserini's BEIR setting). */
  k1?: number;
  /** Length normalization (default 0.4). */
  b?: number;
}

export const BM25_DEFAULTS = { k1: 0.9, b: 0.4 } as const;

export interface LexicalHit {
  id: number;
  score: number;
}

const MAX_TF = 0xffff;

export function checkBm25Params(p: Bm25Params): { k1: number; b: number } {
  const k1 = p.k1 ?? BM25_DEFAULTS.k1;
  const b = p.b ?? BM25_DEFAULTS.b;
  if (typeof k1 !== 'number' || !Number.isFinite(k1) || k1 < 0 || k1 > 10) {
    throw new InvalidInputError(`bm25 k1 must be a number from 0 to 10, got ${String(k1)}`, { field: 'k1' });
  }
  if (typeof b !== 'number' || !Number.isFinite(b) || b < 0 || b > 1) {
    throw new InvalidInputError(`bm25 b must be a number from 0 to 1, got ${String(b)}`, { field: 'b' });
  }
  return { k1, b };
}

/** k1 and b apply at query time (the index holds raw counts), so they can be tuned per query. */
export class Bm25Index {
  private readonly termIds = new Map<string, number>();
  private readonly terms: string[] = [];
  /** Per term: the slots of the documents holding it and the counts, parallel. */
  private postSlots: number[][] = [];
  private postTfs: number[][] = [];
  /** Per slot (dense, reused after removal): external id, length, distinct terms and counts. */
  private slotIds: number[] = [];
  private slotLen: number[] = [];
  private slotTerms: (Uint32Array | null)[] = [];
  private slotTfs: (Uint16Array | null)[] = [];
  private readonly freeSlots: number[] = [];
  private readonly slotOf = new Map<number, number>();
  private totalLen = 0;
  private acc = new Float64Array(0);
  private readonly heap = new TopK(16);

  get size(): number {
    return this.slotOf.size;
  }

  get vocabularySize(): number {
    return this.terms.length;
  }

  has(id: number): boolean {
    return this.slotOf.has(id);
  }

  /** Adds (or replaces) document `id` with its analyzed terms. */
  add(id: number, terms: readonly string[]): void {
    if (this.slotOf.has(id)) this.remove([id]);
    const counts = new Map<number, number>();
    for (const t of terms) {
      const tid = this.termId(t);
      counts.set(tid, Math.min(MAX_TF, (counts.get(tid) ?? 0) + 1));
    }
    const tids = Uint32Array.from(counts.keys());
    const tfs = Uint16Array.from(counts.values());
    this.place(id, terms.length, tids, tfs);
  }

  private termId(t: string): number {
    let tid = this.termIds.get(t);
    if (tid === undefined) {
      tid = this.terms.length;
      this.termIds.set(t, tid);
      this.terms.push(t);
      this.postSlots.push([]);
      this.postTfs.push([]);
    }
    return tid;
  }

  private place(id: number, len: number, tids: Uint32Array, tfs: Uint16Array): void {
    const slot = this.freeSlots.length > 0 ? this.freeSlots.pop()! : this.slotIds.length;
    this.slotIds[slot] = id;
    this.slotLen[slot] = len;
    this.slotTerms[slot] = tids;
    this.slotTfs[slot] = tfs;
    this.slotOf.set(id, slot);
    this.totalLen += len;
    for (let i = 0; i < tids.length; i++) {
      this.postSlots[tids[i]].push(slot);
      this.postTfs[tids[i]].push(tfs[i]);
    }
  }

  /** Removes documents by id; unknown ids are ignored. */
  remove(ids: Iterable<number>): void {
    const gone = new Set<number>();
    const touched = new Set<number>();
    for (const id of ids) {
      const slot = this.slotOf.get(id);
      if (slot === undefined) continue;
      gone.add(slot);
      this.slotOf.delete(id);
      this.totalLen -= this.slotLen[slot];
      for (const t of this.slotTerms[slot]!) touched.add(t);
    }
    if (gone.size === 0) return;
    for (const t of touched) {
      const slots = this.postSlots[t];
      const tfs = this.postTfs[t];
      let w = 0;
      for (let r = 0; r < slots.length; r++) {
        if (gone.has(slots[r])) continue;
        slots[w] = slots[r];
        tfs[w] = tfs[r];
        w++;
      }
      slots.length = w;
      tfs.length = w;
    }
    for (const slot of gone) {
      this.slotTerms[slot] = null;
      this.slotTfs[slot] = null;
      this.slotLen[slot] = 0;
      this.freeSlots.push(slot);
    }
  }

  /** Ids of the documents holding an analyzed term. */
  docsWithTerm(term: string): Set<number> {
    const tid = this.termIds.get(term);
    if (tid === undefined) return new Set();
    return new Set(this.postSlots[tid].map((s) => this.slotIds[s]));
  }

  /** Document frequency of an analyzed term. */
  df(term: string): number {
    const tid = this.termIds.get(term);
    return tid === undefined ? 0 : this.postSlots[tid].length;
  }

  idf(term: string): number {
    const n = this.size;
    const df = this.df(term);
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /** Top `k` documents for the analyzed query terms, best first; ties by id ascending. */
  search(queryTerms: readonly string[], k: number, params: Bm25Params = {}, allowed?: ReadonlySet<number>): LexicalHit[] {
    const { k1, b } = checkBm25Params(params);
    const n = this.size;
    if (n === 0 || k <= 0) return [];
    const qtf = new Map<number, number>();
    for (const t of queryTerms) {
      const tid = this.termIds.get(t);
      if (tid !== undefined) qtf.set(tid, (qtf.get(tid) ?? 0) + 1);
    }
    if (qtf.size === 0) return [];
    if (this.acc.length < this.slotIds.length) this.acc = new Float64Array(Math.max(this.slotIds.length, this.acc.length * 2));
    const acc = this.acc;
    const touched: number[] = [];
    const avgdl = this.totalLen / n || 1;
    for (const [tid, count] of qtf) {
      const slots = this.postSlots[tid];
      const tfs = this.postTfs[tid];
      const df = slots.length;
      if (df === 0) continue;
      const w = count * Math.log(1 + (n - df + 0.5) / (df + 0.5)) * (k1 + 1);
      for (let i = 0; i < slots.length; i++) {
        const s = slots[i];
        const tf = tfs[i];
        if (acc[s] === 0) touched.push(s);
        acc[s] += (w * tf) / (tf + k1 * (1 - b + (b * this.slotLen[s]) / avgdl));
      }
    }
    const heap = this.heap;
    heap.reset(Math.min(k, touched.length));
    for (const s of touched) {
      const id = this.slotIds[s];
      if (allowed === undefined || allowed.has(id)) heap.push(acc[s], id);
      acc[s] = 0;
    }
    return heap.drainHits();
  }

  /**
   * Binary form: a JSON header line (params, counts), the vocabulary (newline-separated
   * UTF-8), then per document id (f64), length, distinct-term count (u32) and its term ids
   * (u32) and counts (u16). Removed slots are not written.
   */
  serialize(): { params: Record<string, number>; parts: Uint8Array[] } {
    const live = [...this.slotOf.values()].sort((a, b) => this.slotIds[a] - this.slotIds[b]);
    const vocab = Buffer.from(this.terms.join('\n'), 'utf8');
    const ids = new Float64Array(live.length);
    const lens = new Uint32Array(live.length);
    const nterms = new Uint32Array(live.length);
    let total = 0;
    live.forEach((s, i) => {
      ids[i] = this.slotIds[s];
      lens[i] = this.slotLen[s];
      nterms[i] = this.slotTerms[s]!.length;
      total += nterms[i];
    });
    const tids = new Uint32Array(total);
    const tfs = new Uint16Array(total);
    let at = 0;
    for (const s of live) {
      tids.set(this.slotTerms[s]!, at);
      tfs.set(this.slotTfs[s]!, at);
      at += this.slotTerms[s]!.length;
    }
    const head = new Uint32Array([vocab.byteLength, this.terms.length, live.length, total]);
    const pad = (n: number) => new Uint8Array((8 - (n % 8)) % 8);
    const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    return {
      params: { documents: live.length, terms: this.terms.length },
      parts: [bytes(head), vocab, pad(16 + vocab.byteLength), bytes(ids), bytes(lens), bytes(nterms), bytes(tids), pad(tids.byteLength), bytes(tfs)],
    };
  }

  static deserialize(payload: Uint8Array): Bm25Index {
    const index = new Bm25Index();
    const u8 = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    if (u8.byteLength < 16) throw new Error('lexical index payload is shorter than its header');
    // Copies make every view aligned whatever the payload buffer's offset.
    const head = new Uint32Array(u8.subarray(0, 16).buffer.slice(u8.byteOffset, u8.byteOffset + 16));
    const [vocabBytes, nTerms, nDocs, total] = head;
    let at = 16;
    const vocabText = u8.subarray(at, at + vocabBytes).toString('utf8');
    at += vocabBytes;
    at += (8 - (at % 8)) % 8;
    const terms = nTerms === 0 ? [] : vocabText.split('\n');
    if (terms.length !== nTerms) throw new Error(`lexical index vocabulary holds ${terms.length} terms, header says ${nTerms}`);
    for (const t of terms) index.termId(t);
    const take = <T>(ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, n: number): T => {
      const len = n * ctor.BYTES_PER_ELEMENT;
      if (at + len > u8.byteLength) throw new Error('lexical index payload is truncated');
      const out = new ctor(u8.buffer.slice(u8.byteOffset + at, u8.byteOffset + at + len) as ArrayBuffer);
      at += len;
      return out;
    };
    const ids = take(Float64Array, nDocs);
    const lens = take(Uint32Array, nDocs);
    const nterms = take(Uint32Array, nDocs);
    const tids = take(Uint32Array, total);
    at += (8 - (tids.byteLength % 8)) % 8;
    const tfs = take(Uint16Array, total);
    let off = 0;
    for (let i = 0; i < nDocs; i++) {
      const m = nterms[i];
      if (off + m > total) throw new Error('lexical index document table overruns its terms');
      const dt = tids.slice(off, off + m);
      for (const t of dt) if (t >= nTerms) throw new Error(`lexical index refers to term ${t} of ${nTerms}`);
      index.place(ids[i], lens[i], dt, tfs.slice(off, off + m));
      off += m;
    }
    return index;
  }
}
