import { fnv1a, mulberry32 } from '@irpo/contracts';

/**
 * The reward of reward.flipProbability q (the paper's open question 3, imperfect rewards): each
 * sample's correct/wrong is flipped with probability q, by a draw fixed by the stage seed, the
 * problem and the sample index, so a resumed or re-batched sampling stage flips the same samples.
 * Undefined for q = 0: samples carry no `reward` and training reads `correct`, as without the
 * setting.
 */
export function noisyReward(q: number, seed: number): ((problemId: string, index: number, correct: boolean) => boolean) | undefined {
  if (q === 0) return undefined;
  return (problemId, index, correct) => (flipDraw(seed, problemId, index) < q ? !correct : correct);
}

/** A uniform draw in [0, 1) for one sample. */
export function flipDraw(seed: number, problemId: string, index: number): number {
  const rng = mulberry32(fnv1a(`reward-flip:${seed}:${problemId}:${index}`));
  rng(); // the first output of a freshly seeded mulberry32 mixes its seed least
  return rng();
}
