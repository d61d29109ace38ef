import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from './api.js';

export interface Loaded<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/**
 * GET `path` now, again on reload(), and every `everyMs` while the page is visible (live
 * numbers). The last good answer stays shown while the next one loads, so nothing jumps.
 */
export function useApi<T>(apiKey: string, path: string, everyMs?: number): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const current = useRef(path);
  current.current = path;

  useEffect(() => {
    setData(null);
    setError(null);
  }, [path]);

  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    api<T>(apiKey, 'GET', path, undefined, ctl.signal).then(
      (d) => {
        if (ctl.signal.aborted || current.current !== path) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (ctl.signal.aborted || (e as Error).name === 'AbortError') return;
        setError(e as ApiError);
        setLoading(false);
      },
    );
    return () => ctl.abort();
  }, [apiKey, path, tick]);

  useEffect(() => {
    if (!everyMs) return;
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') setTick((x) => x + 1);
    }, everyMs);
    return () => clearInterval(t);
  }, [everyMs, path]);

  const reload = useCallback(() => setTick((x) => x + 1), []);
  return { data, error, loading, reload };
}
