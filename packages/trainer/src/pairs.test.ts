import type { Sample } from '@irpo/contracts';
import { describe, expect, it } from 'vitest';
import { buildPairs } from './pairs.js';

const s = (
  problemId: string,
  index: number,
  completion: string,
  correct: boolean,
  finishReason: Sample['finishReason'] = 'stop',
): Sample => ({
  v: 1,
  problemId,
  index,
  prompt: `Q ${problemId}`,
  completion,
  answer: correct ? '1' : '2',
  correct,
  tokens: completion.length,
  finishReason,
});

const brief = (p: { chosen: string; rejected: string }) => `${p.chosen}>${p.rejected}`;

describe('buildPairs', () => {
  it('walks winners and losers together, wrapping the shorter list (hand-computed)', () => {
    // winners w0 w1, losers l0 l1 l2 l3 l4, K = 4: the longer list has 5, so 4 pairs:
    // (w0,l0) (w1,l1) (w0,l2) (w1,l3)
    const samples = [
      s('a', 0, 'w0', true),
      s('a', 1, 'l0', false),
      s('a', 2, 'l1', false),
      s('a', 3, 'w1', true),
      s('a', 4, 'l2', false),
      s('a', 5, 'l3', false),
      s('a', 6, 'l4', false),
    ];
    const { pairs } = buildPairs(samples, { k: 4 });
    expect(pairs.map(brief)).toEqual(['w0>l0', 'w1>l1', 'w0>l2', 'w1>l3']);
    expect(pairs.map((p) => [p.chosenIndex, p.rejectedIndex])).toEqual([
      [0, 1],
      [3, 2],
      [0, 4],
      [3, 5],
    ]);
  });

  it('stops when the longer list is used up, below K', () => {
    // 3 winners, 1 loser, K = 10 → 3 pairs, the loser reused
    const samples = [s('a', 0, 'w0', true), s('a', 1, 'w1', true), s('a', 2, 'w2', true), s('a', 3, 'l0', false)];
    expect(buildPairs(samples, { k: 10 }).pairs.map(brief)).toEqual(['w0>l0', 'w1>l0', 'w2>l0']);
  });

  it('reads the recorded reward, not correct, when a sample has one (noisy rewards)', () => {
    // w0 is correct but rewarded as wrong, l0 wrong but rewarded as right: the pair turns round.
    const samples = [{ ...s('a', 0, 'w0', true), reward: false }, { ...s('a', 1, 'l0', false), reward: true }, s('a', 2, 'w1', true)];
    expect(buildPairs(samples, { k: 4, seed: 0 }).pairs.map(brief)).toEqual(['l0>w0', 'w1>w0']);
  });

  it('drops prompts with no winner or no loser and counts them', () => {
    const samples = [s('a', 0, 'w0', true), s('a', 1, 'w1', true), s('b', 0, 'l0', false), s('c', 0, 'w', true), s('c', 1, 'l', false)];
    const { pairs, stats } = buildPairs(samples, { k: 10 });
    expect(pairs.map((p) => p.problemId)).toEqual(['c']);
    expect(stats).toMatchObject({ prompts: 3, promptsWithPairs: 1, noLoser: 1, noWinner: 1, pairs: 1 });
  });

  it('removes duplicate texts before walking', () => {
    // winners "w","w","x" → "w","x"; losers "l","l" → "l": 2 pairs
    const samples = [s('a', 0, 'w', true), s('a', 1, 'w', true), s('a', 2, 'x', true), s('a', 3, 'l', false), s('a', 4, 'l', false)];
    expect(buildPairs(samples, { k: 10 }).pairs.map(brief)).toEqual(['w>l', 'x>l']);
  });

  it('never makes a truncated sample a winner, and by default drops truncated samples', () => {
    // t0 correct but cut off by the token limit, w1 correct and ended (EOS), t2 wrong and cut
    // off, l3 wrong and stopped on a stop string, w4 correct and stopped on a stop string (it
    // ended): pairs w1>l3, w4>l3; two truncated samples dropped
    const samples = [
      s('a', 0, 't0', true, 'length'),
      s('a', 1, 'w1', true, 'eos'),
      s('a', 2, 't2', false, 'length'),
      s('a', 3, 'l3', false, 'stop'),
      s('a', 4, 'w4', true, 'stop'),
    ];
    const { pairs, stats } = buildPairs(samples, { k: 10 });
    expect(pairs.map(brief)).toEqual(['w1>l3', 'w4>l3']);
    expect(pairs[0]).toMatchObject({ chosenIndex: 1, rejectedIndex: 3, chosenEnded: true, rejectedEnded: true });
    expect(stats.truncatedDropped).toBe(2);
  });

  it('a prompt whose only correct sample was truncated has no winner', () => {
    const samples = [s('a', 0, 't0', true, 'length'), s('a', 1, 'l1', false)];
    const { pairs, stats } = buildPairs(samples, { k: 10, dropTruncated: false });
    expect(pairs).toEqual([]);
    expect(stats).toMatchObject({ noWinner: 1, truncatedDropped: 1 });
  });

  it('with dropTruncated false a truncated wrong sample may lose, marked as not ended', () => {
    // winners w0; losers t1 (truncated), l2: pairs w0>t1, w0>l2; the correct truncated t3 is dropped
    const samples = [s('a', 0, 'w0', true), s('a', 1, 't1', false, 'length'), s('a', 2, 'l2', false), s('a', 3, 't3', true, 'length')];
    const { pairs, stats } = buildPairs(samples, { k: 10, dropTruncated: false });
    expect(pairs.map(brief)).toEqual(['w0>t1', 'w0>l2']);
    expect(pairs.map((p) => [p.chosenEnded, p.rejectedEnded])).toEqual([
      [true, false],
      [true, true],
    ]);
    expect(stats.truncatedDropped).toBe(1);
  });

  it('counts EOS in the length only for sides that ended', () => {
    // length = prompt + completion + 1 for EOS when ended; prompt "Q a" = 3, max 6:
    // w "ok" ended → 6 fits; truncated loser "abc" → 6 fits (no EOS); ended loser "xyz" → 7 too long
    const samples = [s('a', 0, 'ok', true), s('a', 1, 'abc', false, 'length'), s('a', 2, 'xyz', false)];
    const length = (p: string, c: string, ended: boolean) => p.length + c.length + (ended ? 1 : 0);
    const { pairs, stats } = buildPairs(samples, { k: 10, dropTruncated: false, length, maxLength: 6 });
    expect(pairs.map(brief)).toEqual(['ok>abc']);
    expect(stats.droppedTooLong).toBe(1);
  });

  it('puts the gold solution first among the winners, even when K samples are correct', () => {
    // gold, w0, w1 winners (in that order); losers l0..l3; K = 3: gold>l0, w0>l1, w1>l2.
    // Appended last, gold would never be used with K correct samples.
    const samples = [
      s('a', 0, 'w0', true),
      s('a', 1, 'l0', false),
      s('a', 2, 'w1', true),
      s('a', 3, 'l1', false),
      s('a', 4, 'l2', false),
      s('a', 5, 'l3', false),
    ];
    const { pairs } = buildPairs(samples, { k: 3, gold: new Map([['a', 'gold']]) });
    expect(pairs.map(brief)).toEqual(['gold>l0', 'w0>l1', 'w1>l2']);
    expect(pairs.map((p) => p.chosenSource)).toEqual(['gold', 'sample', 'sample']);
    expect(pairs.map((p) => p.chosenIndex)).toEqual([null, 0, 2]);
  });

  it('keeps the gold solution (not a sample) when a correct sample repeats its text', () => {
    const samples = [s('a', 0, 'gold', true), s('a', 1, 'l0', false)];
    const { pairs } = buildPairs(samples, { k: 10, gold: new Map([['a', 'gold']]) });
    expect(pairs.map(brief)).toEqual(['gold>l0']);
    expect(pairs[0]!.chosenSource).toBe('gold');
  });

  it('adds the gold solution as a winner, so prompts without a correct sample give pairs', () => {
    const samples = [s('a', 0, 'l0', false), s('a', 1, 'l1', false)];
    const { pairs } = buildPairs(samples, { k: 10, gold: new Map([['a', 'gold']]) });
    expect(pairs.map(brief)).toEqual(['gold>l0', 'gold>l1']);
    expect(pairs[0]!.chosenSource).toBe('gold');
    expect(pairs[0]!.chosenIndex).toBeNull();
  });

  it('drops pairs longer than the context', () => {
    const samples = [s('a', 0, 'ok', true), s('a', 1, 'a-very-long-loser', false), s('a', 2, 'no', false)];
    const length = (p: string, c: string) => p.length + c.length; // prompt "Q a" = 3 chars
    const { pairs, stats } = buildPairs(samples, { k: 10, length, maxLength: 6 });
    expect(pairs.map(brief)).toEqual(['ok>no']);
    expect(stats.droppedTooLong).toBe(1);
  });

  it('caps the total with a seeded choice that is stable for a seed', () => {
    const samples: Sample[] = [];
    for (let p = 0; p < 10; p++) samples.push(s(`p${p}`, 0, 'w', true), s(`p${p}`, 1, 'l', false));
    const a = buildPairs(samples, { k: 1, maxPairs: 4, seed: 7 });
    const b = buildPairs(samples, { k: 1, maxPairs: 4, seed: 7 });
    const c = buildPairs(samples, { k: 1, maxPairs: 4, seed: 8 });
    expect(a.pairs).toHaveLength(4);
    expect(a.stats.droppedByCap).toBe(6);
    expect(a.pairs.map((p) => p.id)).toEqual(b.pairs.map((p) => p.id));
    expect(a.pairs.map((p) => p.id)).not.toEqual(c.pairs.map((p) => p.id));
  });
});
