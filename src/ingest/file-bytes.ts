import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

/** The first `n` bytes of a file (fewer if it is shorter). */
export async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    let filled = 0;
    while (filled < n) {
      const { bytesRead } = await fh.read(buf, filled, n - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buf.subarray(0, filled);
  } finally {
    await fh.close();
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface FileDigest {
  contentHash: string;
  byteLength: number;
  /** Did any byte look like text content (not ASCII whitespace or a control character)? */
  sawContent: boolean;
}

/**
 * One streaming pass over a file: its sha256 and size, with bounded memory. `onChunk`, when
 * given, sees each chunk (used to find a markdown title in the same pass); it returns false
 * once it needs no more chunks.
 */
export async function digestFile(path: string, onChunk?: (chunk: Buffer) => boolean): Promise<FileDigest> {
  const hash = createHash('sha256');
  let byteLength = 0;
  let sawContent = false;
  let wantChunks = onChunk !== undefined;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    byteLength += chunk.length;
    if (!sawContent) sawContent = hasContentByte(chunk);
    if (wantChunks) wantChunks = onChunk!(chunk);
  }
  return { contentHash: hash.digest('hex'), byteLength, sawContent };
}

/**
 * A byte that is printable ASCII or part of a multi-byte UTF-8 character. Used to call a
 * streamed file EMPTY without decoding it; a file made only of non-ASCII spaces (NBSP...)
 * counts as content here, and then loads as a document with empty sections.
 */
function hasContentByte(chunk: Buffer): boolean {
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i];
    if ((b > 0x20 && b < 0x7f) || b >= 0x80) return true;
  }
  return false;
}
