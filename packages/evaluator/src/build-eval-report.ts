import type { Accuracy, EvalReport, Problem, Sample } from '@irpo/contracts';
import { accuracy } from './accuracy.js';
import { groupByProblem } from './group-by-problem.js';
import { majorityVote } from './majority-vote.js';
import { passAtK } from './pass-at-k.js';

/** A problem as the report needs it: its id, and its meta for breakdowns. */
export type ProblemRef = Pick<Problem, 'id' | 'meta'>;

export interface BuildEvalReportInput {
  task: string;
  split: string;
  /** Model directory, endpoint or name. */
  model: string;
  /** Every problem evaluated; one without samples counts wrong. */
  problems: readonly ProblemRef[];
  /** One greedy (temperature 0) sample per problem; the lowest index is used if there are several. */
  greedySamples: readonly Sample[];
  /** Sampled completions for maj@k and pass@k (the first k by index are used). */
  samples?: readonly Sample[];
  majK?: number | readonly number[];
  passK?: number | readonly number[];
  /** Problem meta fields to break greedy accuracy down by (e.g. `subject`, `level`). */
  breakdownBy?: readonly string[];
  /** Canonical answer form for voting (a task's `normalizeAnswer`); default identity. */
  normalize?: (answer: string) => string;
  /** Whether answers with different canonical forms still vote together (a task's `equivalentAnswers`). */
  equivalent?: (a: string, b: string) => boolean;
  /** ISO time stamp; now when absent (tests pin it). */
  createdAt?: string;
}

const list = (k: number | readonly number[] | undefined): number[] => (k === undefined ? [] : typeof k === 'number' ? [k] : [...k]);

/**
 * The eval.json of one model on one split: greedy accuracy, maj@k, pass@k and breakdowns.
 * maj@k and pass@k need at least k samples for every problem; fewer is an error rather than a
 * silently different metric.
 */
export function buildEvalReport(input: BuildEvalReportInput): EvalReport {
  const ids = new Set<string>();
  for (const p of input.problems) {
    if (ids.has(p.id)) throw new Error(`problem ${p.id} is listed twice`);
    ids.add(p.id);
  }
  const checkKnown = (samples: readonly Sample[], what: string) => {
    for (const s of samples) {
      if (!ids.has(s.problemId)) throw new Error(`${what} sample ${s.problemId}#${s.index}: problem not in the evaluated set`);
    }
  };
  checkKnown(input.greedySamples, 'greedy');
  const greedyGroups = groupByProblem(input.greedySamples);
  const greedyCorrect = (id: string) => greedyGroups.get(id)?.[0]?.correct ?? false;
  const greedy = tally(input.problems, (p) => greedyCorrect(p.id));

  const maj: Record<string, Accuracy> = {};
  const pass: Record<string, number> = {};
  const majKs = list(input.majK);
  const passKs = list(input.passK);
  if (majKs.length + passKs.length > 0) {
    const samples = input.samples ?? [];
    checkKnown(samples, 'sampled');
    const groups = groupByProblem(samples);
    const drawn = (id: string, k: number): Sample[] => {
      const g = groups.get(id) ?? [];
      if (g.length < k) throw new RangeError(`k=${k} needs ${k} samples per problem; problem ${id} has ${g.length}`);
      return g;
    };
    for (const k of majKs) {
      maj[String(k)] = tally(
        input.problems,
        (p) => majorityVote(drawn(p.id, k).slice(0, k), { normalize: input.normalize, equivalent: input.equivalent })?.correct ?? false,
      );
    }
    for (const k of passKs) {
      let sum = 0;
      for (const p of input.problems) {
        const g = drawn(p.id, k);
        sum += passAtK(g.length, g.filter((s) => s.correct).length, k);
      }
      pass[String(k)] = input.problems.length === 0 ? 0 : sum / input.problems.length;
    }
  }

  const breakdown: Record<string, Accuracy> = {};
  for (const dim of input.breakdownBy ?? []) {
    const byValue = new Map<string, ProblemRef[]>();
    for (const p of input.problems) {
      const value = p.meta?.[dim];
      if (value === undefined) continue;
      const key = `${dim}=${String(value)}`;
      const g = byValue.get(key);
      if (g) g.push(p);
      else byValue.set(key, [p]);
    }
    for (const key of [...byValue.keys()].sort(naturalCompare)) {
      breakdown[key] = tally(byValue.get(key)!, (p) => greedyCorrect(p.id));
    }
  }

  return {
    v: 1,
    task: input.task,
    split: input.split,
    model: input.model,
    problems: input.problems.length,
    greedy,
    maj,
    pass,
    breakdown,
    createdAt: input.createdAt ?? new Date().toISOString(),
  };
}

function tally(problems: readonly ProblemRef[], isCorrect: (p: ProblemRef) => boolean): Accuracy {
  let correct = 0;
  for (const p of problems) if (isCorrect(p)) correct++;
  return accuracy(correct, problems.length);
}

/** `level=2` before `level=10`. */
function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
