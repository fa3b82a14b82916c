import type { Sample } from '@irpo/contracts';
import type { ScoringTask } from './scoring-task.js';

export interface MajorityVoteOptions {
  /** Canonical form of an answer, so equivalent answers vote together (default: identity). */
  normalize?: (answer: string) => string;
  /**
   * Whether two answers whose canonical forms differ are still the same answer (a task's
   * `equivalentAnswers`, e.g. MATH's checker). Asked only when the forms differ, once per new
   * form and existing group, with the group's representative answer first.
   */
  equivalent?: (a: string, b: string) => boolean;
}

/**
 * The voting options a task provides: its `normalizeAnswer` and, if it has one,
 * `equivalentAnswers`. Spread them into `buildEvalReport` or `scoreSamplesFile` input too.
 */
export function voteOptions(task: Pick<ScoringTask, 'normalizeAnswer' | 'equivalentAnswers'>): MajorityVoteOptions {
  const equivalentAnswers = task.equivalentAnswers;
  return {
    normalize: (a) => task.normalizeAnswer(a),
    equivalent: equivalentAnswers ? (a, b) => equivalentAnswers.call(task, a, b) : undefined,
  };
}

export interface MajorityVoteResult {
  /** The winning answer in normalised form (its representative's). */
  answer: string;
  /** Votes it received. */
  votes: number;
  /** Votes cast (samples that stated an answer). */
  cast: number;
  /** Sample index of its earliest vote, the representative whose `correct` flag is used. */
  sampleIndex: number;
  correct: boolean;
}

interface Group {
  key: string;
  votes: number;
  first: Sample;
}

/**
 * Majority vote over one problem's samples. Samples whose answer is null abstain. Votes are
 * read in sample-index order: an answer joins the group of its normalised form; a form not seen
 * yet joins, when `equivalent` is given, the earliest group whose representative (earliest
 * sample) it is equivalent to, else it opens a group. (Equivalence up to a tolerance need not
 * be transitive; comparing with representatives only keeps the grouping a function of the
 * samples.) A tie goes to the group whose earliest vote has the smallest sample index, so the
 * result depends only on the samples, not on their order in the file. The winner's correctness
 * is its earliest sample's `correct` flag (all samples in one group share a verdict when the
 * normaliser and the equivalence agree with the checker). Returns null when nobody voted.
 */
export function majorityVote(samples: readonly Sample[], options: MajorityVoteOptions = {}): MajorityVoteResult | null {
  const normalize = options.normalize ?? ((a: string) => a);
  const equivalent = options.equivalent;
  const voters = samples.filter((s): s is Sample & { answer: string } => s.answer !== null).sort((a, b) => a.index - b.index);
  const groups: Group[] = [];
  const byKey = new Map<string, Group>();
  for (const s of voters) {
    const key = normalize(s.answer);
    let g = byKey.get(key);
    if (!g && equivalent) g = groups.find((h) => equivalent(h.first.answer as string, s.answer));
    if (!g) {
      g = { key, votes: 0, first: s };
      groups.push(g);
    }
    byKey.set(key, g);
    g.votes++;
  }
  // Groups were opened in order of their earliest vote: the first of the most voted wins.
  let best: Group | null = null;
  for (const g of groups) if (!best || g.votes > best.votes) best = g;
  if (!best) return null;
  return { answer: best.key, votes: best.votes, cast: voters.length, sampleIndex: best.first.index, correct: best.first.correct };
}
