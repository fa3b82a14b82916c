import type { Sample } from '@irpo/contracts';

export interface MajorityVoteOptions {
  /** Canonical form of an answer, so equivalent answers vote together (default: identity). */
  normalize?: (answer: string) => string;
}

export interface MajorityVoteResult {
  /** The winning answer in normalised form. */
  answer: string;
  /** Votes it received. */
  votes: number;
  /** Votes cast (samples that stated an answer). */
  cast: number;
  /** Sample index of its earliest vote, the representative whose `correct` flag is used. */
  sampleIndex: number;
  correct: boolean;
}

/**
 * Majority vote over one problem's samples. Samples whose answer is null abstain. A tie goes to
 * the answer whose earliest vote has the smallest sample index, so the result depends only on
 * the samples, not on their order in the file. The winner's correctness is its earliest
 * sample's `correct` flag (all samples with one normalised answer share a verdict when the
 * normaliser agrees with the checker). Returns null when nobody voted.
 */
export function majorityVote(samples: readonly Sample[], options: MajorityVoteOptions = {}): MajorityVoteResult | null {
  const normalize = options.normalize ?? ((a: string) => a);
  const groups = new Map<string, { votes: number; first: Sample }>();
  let cast = 0;
  for (const s of samples) {
    if (s.answer === null) continue;
    cast++;
    const key = normalize(s.answer);
    const g = groups.get(key);
    if (!g) groups.set(key, { votes: 1, first: s });
    else {
      g.votes++;
      if (s.index < g.first.index) g.first = s;
    }
  }
  let best: { answer: string; votes: number; first: Sample } | null = null;
  for (const [answer, g] of groups) {
    if (!best || g.votes > best.votes || (g.votes === best.votes && g.first.index < best.first.index)) {
      best = { answer, votes: g.votes, first: g.first };
    }
  }
  if (!best) return null;
  return { answer: best.answer, votes: best.votes, cast, sampleIndex: best.first.index, correct: best.first.correct };
}
