import { describe, expect, it } from 'vitest';
import { encodeSequence, packBatch } from './tokenize.js';
import type { Tokenizer } from './types.js';

// Characters map to their char code; EOS = 2, BOS = 1, pad = 0.
const tok: Tokenizer = {
  encode: (text, o) => [...(o?.addSpecialTokens ? [1] : []), ...[...text].map((c) => c.charCodeAt(0))],
  decode: (ids) => String.fromCharCode(...ids),
  vocabSize: 256,
  bosTokenId: 1,
  eosTokenIds: [2],
  padTokenId: 0,
};

describe('encodeSequence', () => {
  it('appends EOS only to a response that ended', () => {
    // "ab" + "cd" ended: [99, 100, 2]; cut off by the token limit: [99, 100], and packed its
    // last target is "d" (100), never EOS
    expect(encodeSequence(tok, 'ab', 'cd').responseIds).toEqual([99, 100, 2]);
    const cut = encodeSequence(tok, 'ab', 'cd', false);
    expect(cut).toEqual({ promptIds: [1, 97, 98], responseIds: [99, 100] });
    const b = packBatch([cut], 0);
    expect(Array.from(b.targets)).toEqual([97, 98, 99, 100]);
    expect(Array.from(b.lossMask)).toEqual([0, 0, 1, 1]);
    expect(b.responseLengths).toEqual([2]);
  });
});

describe('packBatch', () => {
  it('masks exactly the response targets, EOS included', () => {
    // "ab" + "c": ids [1, 97, 98 | 99, 2] → inputs [1,97,98,99], targets [97,98,99,2],
    // response targets are 99 and 2 → mask [0,0,1,1]
    const seq = encodeSequence(tok, 'ab', 'c');
    expect(seq).toEqual({ promptIds: [1, 97, 98], responseIds: [99, 2] });
    const b = packBatch([seq, encodeSequence(tok, 'x', 'yz')], 0);
    expect(b.length).toBe(4);
    expect(Array.from(b.inputIds.slice(0, 4))).toEqual([1, 97, 98, 99]);
    expect(Array.from(b.targets.slice(0, 4))).toEqual([97, 98, 99, 2]);
    expect(Array.from(b.lossMask.slice(0, 4))).toEqual([0, 0, 1, 1]);
    // second row: ids [1, 120 | 121, 122, 2] → inputs [1,120,121,122], targets [120,121,122,2]
    expect(Array.from(b.inputIds.slice(4))).toEqual([1, 120, 121, 122]);
    expect(Array.from(b.lossMask.slice(4))).toEqual([0, 1, 1, 1]);
    expect(b.responseLengths).toEqual([2, 3]);
  });

  it('right-pads shorter rows with a zero attention and loss mask', () => {
    const b = packBatch([encodeSequence(tok, 'a', 'b'), encodeSequence(tok, 'abcd', 'efg')], 0);
    expect(b.length).toBe(8); // 5 prompt + 4 response - 1
    expect(Array.from(b.attentionMask.slice(0, 8))).toEqual([1, 1, 1, 0, 0, 0, 0, 0]);
    expect(Array.from(b.lossMask.slice(0, 8))).toEqual([0, 1, 1, 0, 0, 0, 0, 0]);
  });
});
