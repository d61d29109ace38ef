import { createReadStream } from 'node:fs';

export type ByteLine =
  /** `bytes`: the line without its `\n` (a `\r` before it is removed too). */
  | { lineNo: number; bytes: Buffer; tooLong: false }
  /** A line over `maxLineBytes`: its bytes were dropped as they streamed by. */
  | { lineNo: number; byteLength: number; tooLong: true };

/**
 * Streams a file's lines as raw bytes (1-based line numbers), holding at most one line (and at
 * most `maxLineBytes` of it) in memory. Raw bytes rather than node:readline's decoded strings,
 * so a record's contentHash is the sha256 of exactly the bytes in the file, and invalid UTF-8
 * can be reported instead of silently becoming U+FFFD.
 */
export async function* readByteLines(path: string, maxLineBytes: number): AsyncGenerator<ByteLine> {
  let pieces: Buffer[] = [];
  let pieceBytes = 0; // bytes of the current line so far (counted even when dropped)
  let lineNo = 1;
  const finish = (): ByteLine => {
    if (pieceBytes > maxLineBytes) return { lineNo, byteLength: pieceBytes, tooLong: true };
    // a copy (concat always copies): a subarray would pin the whole 1 MiB read chunk
    let bytes = Buffer.concat(pieces, pieceBytes);
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    return { lineNo, bytes, tooLong: false };
  };
  const add = (piece: Buffer): void => {
    pieceBytes += piece.length;
    if (pieceBytes <= maxLineBytes) pieces.push(piece);
    else pieces = [];
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      add(chunk.subarray(start, nl));
      yield finish();
      pieces = [];
      pieceBytes = 0;
      lineNo++;
      start = nl + 1;
    }
    if (start < chunk.length) add(chunk.subarray(start));
  }
  if (pieceBytes > 0) yield finish();
}
