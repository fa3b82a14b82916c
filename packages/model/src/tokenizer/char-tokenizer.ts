import type { SavableTokenizer } from './tokenizer.js';

export const CHAR_SPECIAL_TOKENS = ['<pad>', '<bos>', '<eos>'] as const;

/**
 * One id per character for the built-in tiny model: ids 0–2 are <pad>, <bos>, <eos>, then the
 * characters in the given order. Saved as a Hugging Face WordLevel tokenizer.json that splits
 * every character (pre-tokenizer Split on `[\s\S]`) and fuses on decode, so other tools read it
 * and `loadTokenizer` recognises it.
 */
export class CharTokenizer implements SavableTokenizer {
  readonly chars: string[];
  private readonly ids: Map<string, number>;
  readonly bosTokenId = 1;
  readonly eosTokenIds = [2];
  readonly padTokenId = 0;
  readonly chatTemplate = null;

  constructor(charset: string | string[]) {
    this.chars = [...new Set(typeof charset === 'string' ? [...charset] : charset)];
    for (const c of this.chars) if ([...c].length !== 1) throw new Error(`CharTokenizer: "${c}" is not one character`);
    this.ids = new Map(this.chars.map((c, i) => [c, i + CHAR_SPECIAL_TOKENS.length]));
  }

  get vocabSize(): number {
    return this.chars.length + CHAR_SPECIAL_TOKENS.length;
  }

  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    const out = (options.addSpecialTokens ?? true) ? [this.bosTokenId] : [];
    for (const c of text) {
      const id = this.ids.get(c);
      if (id === undefined)
        throw new Error(
          `CharTokenizer: character ${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}) is not in the vocabulary`,
        );
      out.push(id);
    }
    return out;
  }

  decode(ids: number[], options: { skipSpecialTokens?: boolean } = {}): string {
    let s = '';
    for (const id of ids) {
      if (id < CHAR_SPECIAL_TOKENS.length) {
        if (!options.skipSpecialTokens) s += CHAR_SPECIAL_TOKENS[id];
      } else {
        s += this.chars[id - CHAR_SPECIAL_TOKENS.length] ?? '';
      }
    }
    return s;
  }

  toFiles(): Record<string, unknown> {
    const vocab: Record<string, number> = {};
    CHAR_SPECIAL_TOKENS.forEach((t, i) => (vocab[t] = i));
    this.chars.forEach((c, i) => (vocab[c] = i + CHAR_SPECIAL_TOKENS.length));
    return {
      'tokenizer.json': {
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: CHAR_SPECIAL_TOKENS.map((content, id) => ({
          id,
          content,
          single_word: false,
          lstrip: false,
          rstrip: false,
          normalized: false,
          special: true,
        })),
        normalizer: null,
        pre_tokenizer: { type: 'Split', pattern: { Regex: '[\\s\\S]' }, behavior: 'Isolated', invert: false },
        post_processor: {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<bos>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: '<bos>', type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { '<bos>': { id: '<bos>', ids: [1], tokens: ['<bos>'] } },
        },
        decoder: { type: 'Fuse' },
        model: { type: 'WordLevel', vocab, unk_token: '<pad>' },
      },
      'tokenizer_config.json': { bos_token: '<bos>', eos_token: '<eos>', pad_token: '<pad>', tokenizer_class: 'PreTrainedTokenizerFast' },
    };
  }

  /** Rebuilds from a WordLevel tokenizer.json written by `toFiles` (ids 0–2 special, then one char each). */
  static fromTokenizerJson(json: { model?: { vocab?: Record<string, number> } }, file: string): CharTokenizer {
    const vocab = json.model?.vocab ?? {};
    const byId: string[] = [];
    for (const [tok, id] of Object.entries(vocab)) byId[id] = tok;
    CHAR_SPECIAL_TOKENS.forEach((t, i) => {
      if (byId[i] !== t) throw new Error(`${file}: model.vocab: id ${i} must be ${t} for a character tokenizer`);
    });
    const chars = byId.slice(CHAR_SPECIAL_TOKENS.length);
    chars.forEach((c, i) => {
      if (c === undefined || [...c].length !== 1)
        throw new Error(
          `${file}: model.vocab: id ${i + 3} is ${JSON.stringify(c)}, not one character (only character-level WordLevel tokenizers are supported)`,
        );
    });
    return new CharTokenizer(chars);
  }
}
