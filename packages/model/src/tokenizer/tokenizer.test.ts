import { describe, expect, it } from 'vitest';
import { padIdOf } from './tokenizer.js';

describe('padIdOf', () => {
  it('takes the pad token, else the first EOS, else 0', () => {
    expect(padIdOf({ padTokenId: 5, eosTokenIds: [2, 7] })).toBe(5);
    expect(padIdOf({ padTokenId: 0, eosTokenIds: [2] })).toBe(0);
    expect(padIdOf({ padTokenId: null, eosTokenIds: [7, 2] })).toBe(7);
    expect(padIdOf({ padTokenId: null, eosTokenIds: [] })).toBe(0);
  });
});
