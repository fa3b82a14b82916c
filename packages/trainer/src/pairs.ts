import type { PreferencePair, Sample } from '@irpo/contracts';
import { mulberry32, shuffleInPlace } from '@irpo/contracts';

export interface PairOptions {
  /** Most pairs per prompt (paper: K = 10). */
  k: number;
  /** Gold solution per problem id, added as a winner when given (the paper's GSM8K option). */
  gold?: ReadonlyMap<string, string>;
  /**
   * Length in tokens of prompt + completion, with `maxLength`, drops pairs whose chosen or
   * rejected side would not fit the model's context.
   */
  length?: (prompt: string, completion: string) => number;
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
  droppedTooLong: number;
  droppedByCap: number;
  pairs: number;
}

/**
 * The paper's pair construction. Per prompt, winners are the correct samples (plus the gold
 * solution if given) and losers the wrong ones, each in sample order with duplicate texts
 * removed; walk both lists together, restarting a list from its start when it runs out,
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
    droppedTooLong: 0,
    droppedByCap: 0,
    pairs: 0,
  };
  let pairs: PreferencePair[] = [];
  for (const [problemId, list] of byProblem) {
    list.sort((a, b) => a.index - b.index);
    const prompt = list[0]!.prompt;
    const winners = uniqueByText(list.filter((s) => s.correct).map((s) => ({ text: s.completion, index: s.index as number | null })));
    const losers = uniqueByText(list.filter((s) => !s.correct).map((s) => ({ text: s.completion, index: s.index })));
    const gold = options.gold?.get(problemId);
    if (gold !== undefined && !winners.some((w) => w.text === gold)) winners.push({ text: gold, index: null });
    if (winners.length === 0) stats.noWinner++;
    if (losers.length === 0) stats.noLoser++;
    if (winners.length === 0 || losers.length === 0) continue;
    const count = Math.min(options.k, Math.max(winners.length, losers.length));
    let made = 0;
    for (let i = 0; i < count; i++) {
      const w = winners[i % winners.length]!;
      const l = losers[i % losers.length]!;
      if (options.length && options.maxLength !== undefined) {
        const tooLong = options.length(prompt, w.text) > options.maxLength || options.length(prompt, l.text) > options.maxLength;
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
        rejectedIndex: l.index,
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

function uniqueByText<T extends { text: string }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((x) => (seen.has(x.text) ? false : (seen.add(x.text), true)));
}
