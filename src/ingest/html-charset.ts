/**
 * Decodes an HTML file's bytes with the encoding it declares: a byte-order mark first, then
 * `<meta charset>` or `<meta http-equiv="Content-Type" content="...; charset=...">` in the
 * first 1024 bytes (as browsers do), else UTF-8. Labels are the WHATWG ones that TextDecoder
 * knows (so "iso-8859-1" decodes as windows-1252, like a browser); an unknown label falls
 * back to UTF-8.
 */
export function sniffHtmlEncoding(bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024)).toString('latin1');
  const m = /<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)/i.exec(head);
  if (m) {
    try {
      return new TextDecoder(m[1]).encoding;
    } catch {
      return 'utf-8';
    }
  }
  return 'utf-8';
}

/** windows-1252 bytes 0x80-0x9F (where it differs from ISO-8859-1); '' marks undefined bytes. */
const CP1252_HIGH =
  '\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F' +
  '\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178';

export function decodeHtml(bytes: Uint8Array, encoding: string): string {
  if (encoding === 'windows-1252') {
    // Node 20's TextDecoder decodes windows-1252 as ISO-8859-1 (curly quotes, dashes and the
    // euro sign come out as C1 control characters), so map that range ourselves
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
      .toString('latin1')
      .replace(/[\u0080-\u009F]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]);
  }
  return new TextDecoder(encoding).decode(bytes);
}
