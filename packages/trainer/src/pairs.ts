import type { PreferencePair, Sample } from '@irpo/contracts';
import { mulberry32, shuffleInPlace } from '@irpo/contracts';

export interface PairOptions {
  /** Most pairs per prompt (paper: K = 10). */
  k: number;
  /**
   * Gold solution per problem id, when given added as the first winner (the paper's GSM8K
   * option): one more correct answer, ahead of the correct samples.
   */
  gold?: ReadonlyMap<string, string>;
  /**
   * Samples cut off by the token limit (finishReason 'length') are never winners; with true
   * (the default) they are not losers either, with false a truncated wrong sample may lose.
   */
  dropTruncated?: boolean;
  /**
   * Length in tokens of prompt + completion (EOS counted only when `ended`), with `maxLength`,
   * drops pairs whose chosen or rejected side would not fit the model's context.
   */
  length?: (prompt: string, completion: string, ended: boolean) => number;
  maxLength?: number;
  /** Keep at most this many pairs over all prompts, chosen with `seed`. */
  maxPairs?: number;
  seed?: number;
}

export interface PairStats {
  prompts: number;
  promptsWithPairs: number;
  noWinner: number;
  noLoser: number;
  /** Samples cut off by the token limit left out of pairing (all of them, or with
   * dropTruncated false only the correct ones, which may not win). */
  truncatedDropped: number;
  droppedTooLong: number;
  droppedByCap: number;
  pairs: number;
}

/**
 * The paper's pair construction. Per prompt, winners are the gold solution if given, then the
 * correct samples that ended (EOS or a stop string) in sample order; losers are the wrong
 * samples in sample order (correct and wrong as the sample's `reward` says, when it has one) (truncated ones only when `dropTruncated` is false); duplicate texts
 * are removed. Walk both lists together, restarting a list from its start when it runs out,
 * until the longer list is used up or K pairs are made. Prompts with no winner or no loser
 * give none.
 */
export function buildPairs(samples: readonly Sample[], options: PairOptions): { pairs: PreferencePair[]; stats: PairStats } {
  const byProblem = new Map<string, Sample[]>();
  for (const s of samples) {
    const list = byProblem.get(s.problemId);
    if (list) list.push(s);
    else byProblem.set(s.problemId, [s]);
  }
  const stats: PairStats = {
    prompts: byProblem.size,
    promptsWithPairs: 0,
    noWinner: 0,
    noLoser: 0,
    truncatedDropped: 0,
    droppedTooLong: 0,
    droppedByCap: 0,
    pairs: 0,
  };
  const dropTruncated = options.dropTruncated ?? true;
  let pairs: PreferencePair[] = [];
  for (const [problemId, list] of byProblem) {
    list.sort((a, b) => a.index - b.index);
    const prompt = list[0]!.prompt;
    const candidates: Candidate[] = [];
    const gold = options.gold?.get(problemId);
    if (gold !== undefined) candidates.push({ text: gold, index: null, ended: true });
    const wrong: Candidate[] = [];
    for (const s of list) {
      const ended = s.finishReason !== 'length';
      // The reward training is given: `correct`, unless a noisy-reward run recorded another.
      const rewarded = s.reward ?? s.correct;
      if (!ended && (rewarded || dropTruncated)) {
        stats.truncatedDropped++;
        continue;
      }
      (rewarded ? candidates : wrong).push({ text: s.completion, index: s.index, ended });
    }
    const winners = uniqueByText(candidates);
    const losers = uniqueByText(wrong);
    if (winners.length === 0) stats.noWinner++;
    if (losers.length === 0) stats.noLoser++;
    if (winners.length === 0 || losers.length === 0) continue;
    const count = Math.min(options.k, Math.max(winners.length, losers.length));
    let made = 0;
    for (let i = 0; i < count; i++) {
      const w = winners[i % winners.length]!;
      const l = losers[i % losers.length]!;
      if (options.length && options.maxLength !== undefined) {
        const tooLong =
          options.length(prompt, w.text, w.ended) > options.maxLength || options.length(prompt, l.text, l.ended) > options.maxLength;
        if (tooLong) {
          stats.droppedTooLong++;
          continue;
        }
      }
      pairs.push({
        v: 1,
        id: `${problemId}#${i}`,
        problemId,
        prompt,
        chosen: w.text,
        rejected: l.text,
        chosenSource: w.index === null ? 'gold' : 'sample',
        chosenIndex: w.index,
        rejectedIndex: l.index!,
        chosenEnded: w.ended,
        rejectedEnded: l.ended,
      });
      made++;
    }
    if (made > 0) stats.promptsWithPairs++;
  }
  if (options.maxPairs !== undefined && pairs.length > options.maxPairs) {
    const rng = mulberry32(options.seed ?? 0);
    const order = pairs.map((_, i) => i);
    shuffleInPlace(order, rng);
    const keep = new Set(order.slice(0, options.maxPairs));
    stats.droppedByCap = pairs.length - options.maxPairs;
    pairs = pairs.filter((_, i) => keep.has(i));
  }
  stats.pairs = pairs.length;
  return { pairs, stats };
}

interface Candidate {
  text: string;
  /** Sample index; null for the gold solution. */
  index: number | null;
  /** Ended by EOS or a stop string, not cut off by the token limit. */
  ended: boolean;
}

function uniqueByText<T extends { text: string }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((x) => (seen.has(x.text) ? false : (seen.add(x.text), true)));
}
