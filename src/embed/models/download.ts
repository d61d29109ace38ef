/**
 * One pinned file over HTTP, never trusted before it is checked: the body streams through sha256
 * into a temp file next to the destination; size and hash are compared with the pin, and only then
 * is the temp file fsync-ed and renamed over the destination (atomic on one file system). Any
 * failure removes the temp file, so a folder never holds a half or wrong file under its real name.
 *
 * Transient failures (network errors, a dropped body, stalls, HTTP 408/429/5xx) are retried; a
 * retry asks for the rest with `Range` and appends when the server answers 206 at the right
 * offset, else starts over. HTTP errors that retrying cannot fix fail at once.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DownloadError, ModelIntegrityError } from '../../errors.js';
import type { FilePin } from './types.js';

export interface DownloadOptions {
  url: string;
  dest: string;
  pin: FilePin;
  /** For error messages: the model id and the file's path inside the model folder. */
  model: string;
  file: string;
  fetchImpl?: typeof fetch;
  onProgress?: (p: { file: string; received: number; total?: number }) => void;
  /** Attempts in all (default 3). */
  attempts?: number;
  /** Delay before retry n is n * retryDelayMs (default 500). */
  retryDelayMs?: number;
  /** A body that sends nothing for this long is aborted and retried (default 60 s). */
  stallTimeoutMs?: number;
}

/** A failure worth another attempt. */
class Transient extends Error {}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Whole-file size for progress when the pin has none: Content-Range total on 206, else Content-Length. */
function totalFromHeaders(res: Response): number | undefined {
  const m = /\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
  const n = m ? Number(m[1]) : Number(res.headers.get('content-length'));
  return n > 0 ? n : undefined;
}

function rangeStart(res: Response): number | undefined {
  const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
  return m ? Number(m[1]) : undefined;
}

export async function downloadVerified(o: DownloadOptions): Promise<{ sha256: string; bytes: number }> {
  const fetchImpl = o.fetchImpl ?? fetch;
  const attempts = o.attempts ?? 3;
  const tmp = join(dirname(o.dest), `.${basename(o.dest)}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
  await mkdir(dirname(o.dest), { recursive: true });
  let fh: FileHandle | undefined = await open(tmp, 'w');
  let hash: Hash = createHash('sha256');
  let received = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await fetchOnce();
        break;
      } catch (e) {
        if (!(e instanceof Transient)) throw e;
        if (attempt >= attempts) throw new DownloadError(o.url, `${e.message} (gave up after ${attempt} attempts)`);
        await new Promise((r) => setTimeout(r, (o.retryDelayMs ?? 500) * attempt));
      }
    }
    const sha256 = hash.digest('hex');
    if (sha256 !== o.pin.sha256 || (o.pin.bytes !== null && received !== o.pin.bytes)) {
      throw integrityError(sha256);
    }
    await fh.sync(); // the bytes are on disk before the name points at them
    await fh.close();
    fh = undefined;
    await rename(tmp, o.dest);
    await syncDir(dirname(o.dest));
    return { sha256, bytes: received };
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }

  function integrityError(actual: string): ModelIntegrityError {
    const err = new ModelIntegrityError(o.model, o.file, o.pin.sha256, actual);
    Object.assign(err.details, { url: o.url, receivedBytes: received, expectedBytes: o.pin.bytes });
    return err;
  }

  async function restart(): Promise<void> {
    await fh!.truncate(0);
    hash = createHash('sha256');
    received = 0;
  }

  /** One request; appends to what earlier attempts wrote when the server can resume. */
  async function fetchOnce(): Promise<void> {
    const stall = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => stall.abort(), o.stallTimeoutMs ?? 60_000);
    };
    arm();
    let res: Response;
    try {
      res = await fetchImpl(o.url, {
        headers: received > 0 ? { Range: `bytes=${received}-` } : {},
        redirect: 'follow',
        signal: stall.signal,
      });
    } catch (e) {
      clearTimeout(timer);
      throw new Transient(`request failed: ${describe(e)}`);
    }
    try {
      if (received > 0 && res.status === 206 && rangeStart(res) === received) {
        // resume: keep hash and file as they are
      } else if (res.status === 200) {
        if (received > 0) await restart(); // the server cannot resume: start over
      } else if (res.status === 206 && received > 0) {
        await restart(); // resumed at another offset than asked: start over on the next attempt
        throw new Transient('the server resumed at the wrong offset');
      } else if (RETRYABLE_STATUS.has(res.status)) {
        throw new Transient(`HTTP ${res.status} ${res.statusText}`.trim());
      } else {
        throw new DownloadError(o.url, `HTTP ${res.status} ${res.statusText}`.trim());
      }
      if (!res.body) throw new Transient('empty response body');
      const total = o.pin.bytes ?? totalFromHeaders(res);
      try {
        for await (const chunk of res.body) {
          arm();
          if (o.pin.bytes !== null && received + chunk.byteLength > o.pin.bytes) {
            hash.update(chunk);
            received += chunk.byteLength;
            throw integrityError(hash.copy().digest('hex')); // longer than pinned: never a retry
          }
          hash.update(chunk);
          await fh!.write(chunk, 0, chunk.byteLength, received);
          received += chunk.byteLength;
          o.onProgress?.({ file: o.file, received, total });
        }
      } catch (e) {
        if (e instanceof ModelIntegrityError) throw e;
        throw new Transient(`connection lost after ${received} bytes: ${describe(e)}`);
      }
    } catch (e) {
      await res.body?.cancel().catch(() => undefined);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** fetch hides the useful part (ECONNREFUSED, a TLS error...) in `cause`. */
function describe(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const cause = err.cause?.code ?? err.cause?.message;
  return cause && !err.message.includes(cause) ? `${err.message} (${cause})` : err.message;
}

/** fsync the directory so the rename itself survives a crash; not possible everywhere, so best effort. */
async function syncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Windows and some file systems cannot open/fsync a directory
  }
}
