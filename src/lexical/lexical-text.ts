/** What a chunk is searchable by (BM25 and tier 2 read the same): its document's title (BEIR corpora have one) and its text. */
export function lexicalText(title: string | null, text: string): string {
  return title ? `${title}\n${text}` : text;
}
