/**
 * When to try a request again. The server answers 429 when admission control sheds a request
 * and 503 when it cannot serve for now; either may carry Retry-After (seconds, or an HTTP
 * date). A 429 is always retried (the request was not admitted, so repeating it is safe),
 * after Retry-After or else an exponential backoff; a 503 only when it names a Retry-After,
 * since a 503 without one (a collection refused for its model, a server shutting down) does
 * not heal by waiting.
 */

/** Retry-After as milliseconds from `now`, or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface RetryPolicy {
  /** Retries after the first attempt (default 3). */
  retries: number;
  /** First backoff of a 429 without Retry-After, doubled each retry (default 200 ms). */
  backoffMs: number;
  /** A wait longer than this is not made: the error is thrown instead (default 30 s). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, backoffMs: 200, maxDelayMs: 30_000 };

/** Milliseconds to wait before retry number `attempt` (0 for the first retry), or null: do not retry. */
export function retryDelay(status: number, retryAfterMs: number | undefined, attempt: number, policy: RetryPolicy): number | null {
  if (attempt >= policy.retries) return null;
  let delay: number;
  if (status === 429) delay = retryAfterMs ?? policy.backoffMs * 2 ** attempt;
  else if (status === 503 && retryAfterMs !== undefined) delay = retryAfterMs;
  else return null;
  return delay > policy.maxDelayMs ? null : delay;
}
