import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

/**
 * Writes a file so that readers and crashes see either the old content or the new, never a
 * torn one: write a temp file beside it, fsync it, rename it over the target, fsync the
 * directory so the rename itself is durable.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o666): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // `mode` applies from creation (0o600 for secrets), so the content is never readable by others
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dirname(path));
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
  } finally {
    await fh.close();
  }
}

/**
 * Appends one line to a JSON Lines log and fsyncs it (and its folder, when this created the
 * file). O_APPEND and a single write() keep concurrent appenders from splitting a line; a
 * torn last line left by a crash is ended first, so this one stands on its own. The logs
 * that use it (audit, evaluation history) are never rewritten.
 */
export async function appendLine(file: string, line: string, mode: number): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const created = !existsSync(file);
  // a+ is O_RDWR|O_APPEND|O_CREAT: every write goes to the end; reading the last byte is allowed
  const fh = await open(file, 'a+', mode);
  try {
    const { size } = await fh.stat();
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      // (A read may see another process's write half landed; that costs an empty line at
      // worst, which readers skip, never a merged entry.)
      if (last[0] !== 0x0a) prefix = '\n';
    }
    const buf = Buffer.from(prefix + line + (line.endsWith('\n') ? '' : '\n'), 'utf8');
    const { bytesWritten } = await fh.write(buf, 0, buf.length, null);
    if (bytesWritten !== buf.length) throw new Error(`short write (${bytesWritten} of ${buf.length} bytes; is the disk full?)`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (created) await fsyncDir(dir);
}
