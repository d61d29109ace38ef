/**
 * A small typed client for quarry's HTTP API (docs/server.md), on the platform's fetch.
 * Types come from the server's own schemas (types.ts), errors come back as quarry's error
 * classes (remote-errors.ts), 429 and 503-with-Retry-After are retried (retry.ts), and every
 * call has one deadline, retries and waits included.
 */
import { InvalidInputError, RequestTimeoutError, ServerUnreachableError } from '../errors.js';
import { remoteError } from './remote-errors.js';
import { DEFAULT_RETRY, parseRetryAfter, retryDelay, type RetryPolicy } from './retry.js';
import type {
  CollectionInfo,
  CollectionSummary,
  CreateCollectionRequest,
  DocumentInput,
  EvaluationHistory,
  EvaluationJob,
  EvaluationRequest,
  LatencyStats,
  Readiness,
  SearchRequest,
  SearchResponse,
  SessionInfo,
  VersionInfo,
} from './types.js';

export interface QuarryClientOptions {
  /** Where `quarry serve` answers, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  /** An API key from `quarry keys create` (sent as `Authorization: Bearer`). */
  key?: string;
  /** Deadline of one call, retries and their waits included (default 30 s). */
  timeoutMs?: number;
  /** Retries of 429 and 503-with-Retry-After answers (default 3). */
  retries?: number;
  /** First backoff of a 429 that names no Retry-After, doubled on each retry (default 200 ms). */
  backoffMs?: number;
  /** The longest Retry-After the client waits for; a longer one is thrown at once (default 30 s). */
  maxRetryDelayMs?: number;
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** This call's deadline, instead of the client's. */
  timeoutMs?: number;
}

/** Search options: everything the search request takes but the query. */
export type SearchOptions = Omit<SearchRequest, 'query'>;

/** The ingest report of an upsert (documentsAdded, documentsUpdated, documentsUnchanged, generation, problems...). */
export type UpsertReport = Record<string, unknown>;

const DEFAULT_TIMEOUT_MS = 30_000;

export class QuarryClient {
  readonly baseUrl: string;
  private readonly key: string | undefined;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: QuarryClientOptions) {
    let url: URL;
    try {
      url = new URL(opts.baseUrl);
    } catch {
      throw new InvalidInputError(`baseUrl ${JSON.stringify(opts.baseUrl)} is not a URL; give one like http://127.0.0.1:8080`, { field: 'baseUrl' });
    }
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.key = opts.key;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = {
      retries: opts.retries ?? DEFAULT_RETRY.retries,
      backoffMs: opts.backoffMs ?? DEFAULT_RETRY.backoffMs,
      maxDelayMs: opts.maxRetryDelayMs ?? DEFAULT_RETRY.maxDelayMs,
    };
    this.fetchImpl = opts.fetch ?? fetch;
  }

  // --- operations --------------------------------------------------------------------------

  health(o?: CallOptions): Promise<{ status: string }> {
    return this.json('GET', '/healthz', undefined, o);
  }

  /** The calling key: scope and collections (never its secret). */
  session(o?: CallOptions): Promise<SessionInfo> {
    return this.json('GET', '/session', undefined, o);
  }

  readiness(o?: CallOptions): Promise<Readiness> {
    return this.json('GET', '/readyz', undefined, o, [503]);
  }

  /** /metrics, in the Prometheus text format. */
  metrics(o?: CallOptions): Promise<string> {
    return this.text('GET', '/metrics', o);
  }

  // --- collections -------------------------------------------------------------------------

  async listCollections(o?: CallOptions): Promise<CollectionSummary[]> {
    return (await this.json<{ collections: CollectionSummary[] }>('GET', '/collections', undefined, o)).collections;
  }

  createCollection(req: CreateCollectionRequest, o?: CallOptions): Promise<CollectionSummary> {
    return this.json('POST', '/collections', req, o);
  }

  /** `quarry info --json` of a collection (model identity, counts, index, disk), its state and memory. */
  collection(name: string, o?: CallOptions): Promise<CollectionInfo> {
    return this.json('GET', `/collections/${seg(name)}`, undefined, o);
  }

  deleteCollection(name: string, o?: CallOptions): Promise<{ collection: string; deleted: boolean }> {
    return this.json('DELETE', `/collections/${seg(name)}`, undefined, o);
  }

  // --- documents and search ----------------------------------------------------------------

  /** Adds or replaces documents by id, as one new version. */
  upsertDocuments(name: string, documents: DocumentInput[], o?: CallOptions): Promise<UpsertReport> {
    return this.json('POST', `/collections/${seg(name)}/documents`, { documents }, o);
  }

  deleteDocuments(name: string, ids: string[], o?: CallOptions): Promise<{ deleted?: string[]; notFound?: string[] } & Record<string, unknown>> {
    return this.json('DELETE', `/collections/${seg(name)}/documents`, { ids }, o);
  }

  search(name: string, query: string, options: SearchOptions = {}, o?: CallOptions): Promise<SearchResponse> {
    return this.json('POST', `/collections/${seg(name)}/search`, { ...options, query }, o);
  }

  stats(name: string, o?: CallOptions): Promise<LatencyStats> {
    return this.json('GET', `/collections/${seg(name)}/stats`, undefined, o);
  }

  // --- versions ----------------------------------------------------------------------------

  async versions(name: string, o?: CallOptions): Promise<VersionInfo[]> {
    return (await this.json<{ versions: VersionInfo[] }>('GET', `/collections/${seg(name)}/versions`, undefined, o)).versions;
  }

  rollback(name: string, version: number, o?: CallOptions): Promise<VersionInfo> {
    return this.json('POST', `/collections/${seg(name)}/rollback`, { version }, o);
  }

  // --- evaluations -------------------------------------------------------------------------

  startEvaluation(name: string, req: EvaluationRequest, o?: CallOptions): Promise<EvaluationJob> {
    return this.json('POST', `/collections/${seg(name)}/evaluations`, req, o);
  }

  evaluation(name: string, id: string, o?: CallOptions): Promise<EvaluationJob> {
    return this.json('GET', `/collections/${seg(name)}/evaluations/${seg(id)}`, undefined, o);
  }

  /** Polls an evaluation until it is done (its report) or failed (thrown as the error it carries). */
  async waitForEvaluation(name: string, id: string, opts: { pollMs?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<EvaluationJob> {
    const until = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
    for (;;) {
      const job = await this.evaluation(name, id, { signal: opts.signal });
      if (job.status === 'done') return job;
      if (job.status === 'failed') throw remoteError({ error: job.error }, { status: 500, method: 'GET', url: this.url(`/collections/${seg(name)}/evaluations/${seg(id)}`) });
      if (Date.now() > until) throw new RequestTimeoutError('GET', this.url(`/collections/${seg(name)}/evaluations/${seg(id)}`), opts.timeoutMs ?? 10 * 60_000, 1);
      await sleep(opts.pollMs ?? 250, opts.signal);
    }
  }

  evaluationHistory(name: string, o?: CallOptions): Promise<EvaluationHistory> {
    return this.json('GET', `/collections/${seg(name)}/evaluations/history`, undefined, o);
  }

  // --- the one request path ----------------------------------------------------------------

  private url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  private async json<T>(method: string, path: string, body: unknown, o?: CallOptions, okStatuses: number[] = []): Promise<T> {
    const res = await this.request(method, path, body, o, okStatuses);
    return (await res.json()) as T;
  }

  private async text(method: string, path: string, o?: CallOptions): Promise<string> {
    return (await this.request(method, path, undefined, o)).text();
  }

  /**
   * Sends one call: attempts until a success, an error that waiting does not fix, the retries
   * run out, or the deadline passes. `okStatuses` are error statuses whose body is the answer
   * (/readyz's 503 lists what is not ready).
   */
  private async request(method: string, path: string, body: unknown, o: CallOptions = {}, okStatuses: number[] = []): Promise<Response> {
    const url = this.url(path);
    const timeoutMs = o.timeoutMs ?? this.timeoutMs;
    const deadline = Date.now() + timeoutMs;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.key) headers.authorization = `Bearer ${this.key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const payload = body === undefined ? undefined : JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new RequestTimeoutError(method, url, timeoutMs, attempt);
      const timeout = AbortSignal.timeout(remaining);
      const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
      let res: Response;
      try {
        res = await this.fetchImpl(url, { method, headers, body: payload, signal });
      } catch (e) {
        if (o.signal?.aborted) throw o.signal.reason;
        if (timeout.aborted) throw new RequestTimeoutError(method, url, timeoutMs, attempt + 1);
        throw new ServerUnreachableError(method, url, reasonOf(e), { cause: e });
      }
      if (res.ok || okStatuses.includes(res.status)) return res;
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      const parsed = await res.json().catch(() => undefined);
      const error = remoteError(parsed, { status: res.status, method, url, requestId: res.headers.get('x-request-id') ?? undefined, retryAfterMs });
      const delay = retryDelay(res.status, retryAfterMs, attempt, this.retry);
      // a wait that would pass the deadline is not made: the server's answer says more than a timeout would
      if (delay === null || Date.now() + delay >= deadline) throw error;
      await sleep(delay, o.signal);
    }
  }
}

function seg(s: string): string {
  return encodeURIComponent(s);
}

function reasonOf(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
