import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { InvalidInputError } from '../errors.js';

/**
 * The model's own tokenizer (its tokenizer.json), so chunk sizes are measured in exactly the
 * tokens the model sees. Special tokens ([CLS]/[SEP]) are added by `encodeForModel` only.
 */
export class ModelTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    /** The most tokens the model accepts in one sequence, special tokens included. */
    readonly maxSeqLength: number,
    readonly specialTokenCount: number,
  ) {}

  static async load(tokenizerPath: string, maxSeqLength: number): Promise<ModelTokenizer> {
    const json = JSON.parse(await readFile(tokenizerPath, 'utf8')) as Record<string, unknown>;
    let config: Record<string, unknown> = {};
    try {
      config = JSON.parse(await readFile(join(dirname(tokenizerPath), 'tokenizer_config.json'), 'utf8'));
    } catch {
      // tokenizer_config.json is optional; tokenizer.json alone defines the vocabulary.
    }
    const tokenizer = new Tokenizer(json, config);
    const special = tokenizer.encode('', { add_special_tokens: true }).ids.length;
    return new ModelTokenizer(tokenizer, maxSeqLength, special);
  }

  /** Content tokens of `text` (no special tokens). */
  countTokens(text: string): number {
    if (text.length === 0) return 0;
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids.length;
  }

  /** The most content tokens one model input can hold. */
  get maxContentTokens(): number {
    return this.maxSeqLength - this.specialTokenCount;
  }

  /**
   * Ids as the model consumes them: special tokens added, truncated to the model's maximum
   * (long queries are cut, never rejected: the cut is reported through `truncated`).
   */
  encodeForModel(text: string, pair?: string): { ids: number[]; typeIds: number[]; truncated: boolean } {
    if (typeof text !== 'string') throw new InvalidInputError('text to embed must be a string');
    if (pair === undefined) {
      const ids = this.tokenizer.encode(text, { add_special_tokens: true }).ids;
      if (ids.length <= this.maxSeqLength) return { ids, typeIds: new Array(ids.length).fill(0), truncated: false };
      // Keep [CLS] + the first tokens, then close with the final [SEP].
      const cut = ids.slice(0, this.maxSeqLength - 1);
      cut.push(ids[ids.length - 1]);
      return { ids: cut, typeIds: new Array(cut.length).fill(0), truncated: true };
    }
    const enc = this.tokenizer.encode(text, { text_pair: pair, add_special_tokens: true, return_token_type_ids: true });
    if (enc.ids.length <= this.maxSeqLength) return { ids: enc.ids, typeIds: enc.token_type_ids, truncated: false };
    // Cross-encoder inputs: shorten the passage (second segment), keep the query whole.
    const a = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const b = this.tokenizer.encode(pair, { add_special_tokens: false }).ids;
    const cls = enc.ids[0];
    const sep = enc.ids[enc.ids.length - 1];
    const aKeep = a.slice(0, Math.max(1, Math.min(a.length, this.maxSeqLength - 4)));
    const bKeep = b.slice(0, Math.max(0, this.maxSeqLength - 3 - aKeep.length));
    const ids = [cls, ...aKeep, sep, ...bKeep, sep];
    const typeIds = [...new Array(aKeep.length + 2).fill(0), ...new Array(bKeep.length + 1).fill(1)];
    return { ids, typeIds, truncated: true };
  }
}
