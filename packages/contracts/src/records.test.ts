import { describe, expect, it } from 'vitest';
import { PreferencePairSchema } from './records.js';

describe('PreferencePairSchema', () => {
  it('reads pairs without ended flags (older files, TRL exports) and keeps them when given', () => {
    const old = PreferencePairSchema.parse({ id: 'a#0', problemId: 'a', prompt: 'Q', chosen: 'w', rejected: 'l' });
    expect(old.chosenEnded).toBeUndefined();
    expect(old.rejectedEnded).toBeUndefined();
    const cut = PreferencePairSchema.parse({ id: 'a#1', problemId: 'a', prompt: 'Q', chosen: 'w', rejected: 'l', rejectedEnded: false });
    expect(cut.rejectedEnded).toBe(false);
    expect(
      PreferencePairSchema.safeParse({ id: 'a#2', problemId: 'a', prompt: 'Q', chosen: 'w', rejected: 'l', chosenEnded: 'yes' }).success,
    ).toBe(false);
  });
});
