/**
 * Decides whether bytes that claim to be UTF-8 text (a .txt or .md file) are binary junk,
 * from a sample (the first 8 KiB): a NUL byte never occurs in UTF-8 text, and a real text
 * file has at most a few invalid UTF-8 sequences. Returns the reason, or undefined for text.
 */
export const BINARY_SAMPLE_BYTES = 8192;
/** Share of invalid characters (decoded as U+FFFD) above which the sample is not text. */
const MAX_INVALID_SHARE = 0.1;

export function binaryReason(sample: Uint8Array): string | undefined {
  const head = sample.subarray(0, BINARY_SAMPLE_BYTES);
  if (head.includes(0)) {
    return 'contains NUL bytes, so it is binary, not UTF-8 text (a UTF-16 text file must be converted to UTF-8 first); rename or remove it';
  }
  // stream: true holds back a multi-byte character cut by the end of the sample
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head, { stream: true });
  if (text.length === 0) return undefined;
  let invalid = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0xfffd) invalid++;
  const share = invalid / text.length;
  if (share > MAX_INVALID_SHARE) {
    return `is not UTF-8 text (${Math.round(share * 100)}% of its first ${head.length} bytes are invalid UTF-8); convert it to UTF-8, or rename or remove it if it is binary`;
  }
  return undefined;
}
