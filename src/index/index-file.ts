/**
 * The one binary file format of every vector index (flat, ivf, ivfpq, hnsw).
 *
 * Layout, little-endian:
 *   0   4  magic "QIDX"
 *   4   2  format version (FORMAT_VERSION)
 *   6   2  reserved, 0
 *   8   8  index type, ASCII, NUL-padded ("flat", "ivf", "ivfpq", "hnsw")
 *   16  4  dims                        20  4  byte length of the params JSON
 *   24  8  count (live vectors)        32  8  payload byte length
 *   40  4  CRC-32 of the payload       44  4  CRC-32 of bytes 0..44 and the params JSON
 *   48     params JSON (UTF-8), zero-padded to a multiple of 8 bytes
 *   ...    payload (type-specific), starting 8-byte aligned
 *
 * API:
 *   writeIndexFile(path, header, parts)   temp file + fsync + rename; a part is bytes or
 *                                         { file } (streamed, never held in memory whole)
 *   readIndexFile(path, expectType?)      -> { header, payload }: checks everything, CRCs included;
 *                                         payload.byteOffset is a multiple of 8
 *   readIndexHeader(path, expectType?)    -> { header, payloadOffset, payloadLength, payloadCrc }:
 *                                         header checks and file length only
 *   extractPayload(path, dest, expectType?) streams the payload into dest, checking its CRC
 * Damage of any kind (truncated, wrong magic, CRC mismatch) is an IndexFileError (integrity);
 * a missing file an IndexFileNotFoundError.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { QuarryError } from '../errors.js';
import { fsyncDir } from '../store/atomic-file.js';
import type { IndexType } from './vector-index.js';

/** What an index file may hold: a vector index, or the collection's lexical (BM25) index. */
export type StoredIndexType = IndexType | 'bm25';

export const FORMAT_VERSION = 1;
const MAGIC = 'QIDX';
const FIXED = 48;
const HEADER_CRC_AT = 44;
const MAX_PARAMS_JSON = 1 << 20;

export interface IndexFileHeader {
  type: StoredIndexType;
  dims: number;
  count: number;
  /** Type-specific settings (JSON): construction params, tombstones, ... */
  params: Record<string, unknown>;
}

export type PayloadPart = Uint8Array | { file: string };

export class IndexFileError extends QuarryError {
  constructor(path: string, problem: string, details: Record<string, unknown> = {}) {
    super('INDEX_FILE_CORRUPT', 'integrity', `index file ${path} is damaged: ${problem}; rebuild the index from the collection`, {
      path,
      problem,
      ...details,
    });
  }
}

export class IndexFileNotFoundError extends QuarryError {
  constructor(path: string) {
    super('INDEX_FILE_NOT_FOUND', 'not-found', `index file ${path} does not exist; build the index first`, { path });
  }
}

// Typed arrays are written as their bytes: that is little-endian only on little-endian hosts.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function assertLittleEndian(): void {
  if (!LITTLE_ENDIAN) throw new QuarryError('UNSUPPORTED_PLATFORM', 'internal', 'quarry index files need a little-endian CPU');
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

function encodeHeader(header: IndexFileHeader, payloadLength: number, payloadCrc: number): Buffer {
  const json = Buffer.from(JSON.stringify(header.params ?? {}), 'utf8');
  const type = Buffer.from(header.type, 'ascii');
  if (type.length > 8) throw new QuarryError('INTERNAL', 'internal', `index type "${header.type}" is longer than 8 bytes`);
  if (!Number.isInteger(header.dims) || (header.dims <= 0 && header.type !== 'bm25') || !Number.isSafeInteger(header.count) || header.count < 0) {
    throw new QuarryError('INTERNAL', 'internal', `bad index header: dims ${header.dims}, count ${header.count}`);
  }
  const b = Buffer.alloc(align8(FIXED + json.length));
  b.write(MAGIC, 0, 'ascii');
  b.writeUInt16LE(FORMAT_VERSION, 4);
  type.copy(b, 8);
  b.writeUInt32LE(header.dims, 16);
  b.writeUInt32LE(json.length, 20);
  b.writeBigUInt64LE(BigInt(header.count), 24);
  b.writeBigUInt64LE(BigInt(payloadLength), 32);
  b.writeUInt32LE(payloadCrc, 40);
  json.copy(b, FIXED);
  b.writeUInt32LE(crc32(json, crc32(b.subarray(0, HEADER_CRC_AT))), HEADER_CRC_AT);
  return b;
}

/** One write(2) stops at about 2 GiB on Linux: loop until every byte is down. */
async function writeAll(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.byteLength; ) {
    const { bytesWritten } = await fh.write(bytes, done, Math.min(bytes.byteLength - done, 1 << 30), position + done);
    done += bytesWritten;
  }
}

/**
 * Writes header + payload parts to `path` atomically: temp file beside it, fsync, rename, fsync
 * dir. The payload is streamed once; its length and CRC go into the header, written last.
 */
export async function writeIndexFile(path: string, header: IndexFileHeader, parts: PayloadPart[]): Promise<void> {
  assertLittleEndian();
  const headLength = encodeHeader(header, 0, 0).length;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    let length = 0;
    let crc = 0;
    const put = async (bytes: Uint8Array): Promise<void> => {
      // Node 20's zlib.crc32 returns 0 for an empty view, whatever the running value: skip them.
      if (bytes.byteLength === 0) return;
      await writeAll(fh, bytes, headLength + length);
      length += bytes.byteLength;
      crc = crc32(bytes, crc);
    };
    for (const p of parts) {
      if (p instanceof Uint8Array) await put(p);
      else for await (const chunk of createReadStream(p.file) as AsyncIterable<Buffer>) await put(chunk);
    }
    await writeAll(fh, encodeHeader(header, length, crc), 0);
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dirname(path));
}

export interface IndexFileInfo {
  header: IndexFileHeader;
  payloadOffset: number;
  payloadLength: number;
  payloadCrc: number;
}

/** Parses and checks the header; `fileSize` is the file's real length. */
function decodeHeader(path: string, b: Buffer, fileSize: number, expectType?: StoredIndexType): IndexFileInfo {
  if (fileSize < FIXED || b.length < FIXED) throw new IndexFileError(path, `it is ${fileSize} bytes, shorter than the ${FIXED}-byte header (truncated)`);
  if (b.toString('latin1', 0, 4) !== MAGIC) throw new IndexFileError(path, 'it does not start with "QIDX": not a quarry index file');
  const version = b.readUInt16LE(4);
  if (version > FORMAT_VERSION || version === 0) {
    throw new IndexFileError(path, `format version ${version} is not supported (this quarry reads up to ${FORMAT_VERSION}); upgrade quarry`);
  }
  const type = b.toString('ascii', 8, 16).replace(/\0+$/, '') as StoredIndexType;
  const dims = b.readUInt32LE(16);
  const jsonLength = b.readUInt32LE(20);
  const count = Number(b.readBigUInt64LE(24));
  const payloadLength = Number(b.readBigUInt64LE(32));
  const payloadCrc = b.readUInt32LE(40);
  if (jsonLength > MAX_PARAMS_JSON) throw new IndexFileError(path, `params length ${jsonLength} is implausible`);
  const payloadOffset = align8(FIXED + jsonLength);
  if (b.length < FIXED + jsonLength) throw new IndexFileError(path, `it ends inside the header (truncated)`);
  const json = b.subarray(FIXED, FIXED + jsonLength);
  if (crc32(json, crc32(b.subarray(0, HEADER_CRC_AT))) !== b.readUInt32LE(HEADER_CRC_AT)) {
    throw new IndexFileError(path, 'the header checksum does not match');
  }
  const expected = payloadOffset + payloadLength;
  if (fileSize < expected) throw new IndexFileError(path, `it is ${fileSize} bytes, expected ${expected} (truncated)`);
  if (fileSize > expected) throw new IndexFileError(path, `it is ${fileSize} bytes, expected ${expected} (trailing bytes)`);
  if (expectType && type !== expectType) throw new IndexFileError(path, `it holds a "${type}" index, expected "${expectType}"`);
  let params: Record<string, unknown>;
  try {
    params = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new IndexFileError(path, 'its params are not valid JSON');
  }
  return { header: { type, dims, count, params }, payloadOffset, payloadLength, payloadCrc };
}

async function openExisting(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new IndexFileNotFoundError(path);
    throw e;
  }
}

export async function readIndexHeader(path: string, expectType?: StoredIndexType): Promise<IndexFileInfo> {
  assertLittleEndian();
  const fh = await openExisting(path);
  try {
    const size = (await fh.stat()).size;
    const first = Buffer.alloc(Math.min(size, FIXED));
    await fh.read(first, 0, first.length, 0);
    const jsonLength = first.length >= FIXED && first.toString('latin1', 0, 4) === MAGIC ? first.readUInt32LE(20) : 0;
    const b = Buffer.alloc(Math.min(size, FIXED + Math.min(jsonLength, MAX_PARAMS_JSON)));
    await fh.read(b, 0, b.length, 0);
    return decodeHeader(path, b, size, expectType);
  } finally {
    await fh.close();
  }
}

/** Reads and checks the whole file. The payload is 8-byte aligned in memory, so views need no copy. */
export async function readIndexFile(path: string, expectType?: StoredIndexType): Promise<{ header: IndexFileHeader; payload: Buffer }> {
  assertLittleEndian();
  let b: Buffer;
  try {
    b = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new IndexFileNotFoundError(path);
    throw e;
  }
  if (b.byteOffset % 8 !== 0) {
    // Buffer.alloc never uses the shared pool, so the copy starts at offset 0.
    const aligned = Buffer.alloc(b.length);
    b.copy(aligned);
    b = aligned;
  }
  const info = decodeHeader(path, b, b.length, expectType);
  const payload = b.subarray(info.payloadOffset);
  if (crc32(payload) !== info.payloadCrc) throw new IndexFileError(path, 'the payload checksum does not match');
  return { header: info.header, payload };
}

/** Copies the payload to `dest` (for libraries that only read from a path), checking its CRC. */
export async function extractPayload(path: string, dest: string, expectType?: StoredIndexType): Promise<IndexFileInfo> {
  const info = await readIndexHeader(path, expectType);
  const out = await open(dest, 'w');
  let crc = 0;
  let written = 0;
  try {
    if (info.payloadLength > 0) {
      const stream = createReadStream(path, { start: info.payloadOffset, end: info.payloadOffset + info.payloadLength - 1 });
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        crc = crc32(chunk, crc);
        await writeAll(out, chunk, written);
        written += chunk.length;
      }
    }
  } finally {
    await out.close();
  }
  if (crc !== info.payloadCrc) {
    await unlink(dest).catch(() => undefined);
    throw new IndexFileError(path, 'the payload checksum does not match');
  }
  return info;
}
