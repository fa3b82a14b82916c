import { fnv1a, type Problem } from '@irpo/contracts';
import { createRng, type Rng } from '../rng.js';
import type { Split } from '../task.js';

export type ArithOp = 'add' | 'sub' | 'mul' | 'div';

/** Difficulty knobs of the built-in arithmetic task. Defaults suit a tiny character-level model. */
export interface ArithOptions {
  /** Seed of the generator: same seed, same problems. */
  seed?: number;
  /** Fewest operations after the starting amount (2: the easiest GSM8K-like chains). */
  minSteps?: number;
  /** Most operations (4 keeps the completion under ~80 characters). */
  maxSteps?: number;
  /** Starting amount is drawn from [2, maxStart]. */
  maxStart?: number;
  /** Added or removed amounts are drawn from [1, maxOperand]. */
  maxOperand?: number;
  /** Every intermediate value stays within [0, maxValue] (3 digits keep lines short). */
  maxValue?: number;
  /** Multiplication and division factors are drawn from [2, maxFactor] (phrases exist up to 4). */
  maxFactor?: number;
  /** Which operations appear. */
  operations?: ArithOp[];
  /** Problems per split (each split is drawn from its own stream, so sizes do not interact). */
  size?: Partial<Record<Split, number>>;
  /** Longest question (the prompt adds 7 characters of template). */
  maxQuestionChars?: number;
  /** Longest gold completion. */
  maxCompletionChars?: number;
}

export const ARITH_DEFAULTS: Required<ArithOptions> = {
  seed: 1234,
  minSteps: 2,
  maxSteps: 4,
  maxStart: 50,
  maxOperand: 20,
  maxValue: 999,
  maxFactor: 3,
  operations: ['add', 'sub', 'mul'],
  size: { train: 2000, test: 200, dev: 200 },
  maxQuestionChars: 113,
  maxCompletionChars: 80,
};

interface Step {
  op: ArithOp;
  n: number;
}

const NAMES: ReadonlyArray<readonly [string, 'She' | 'He']> = [
  ['Ann', 'She'],
  ['Bea', 'She'],
  ['Eve', 'She'],
  ['Kim', 'She'],
  ['Liz', 'She'],
  ['Mia', 'She'],
  ['Zoe', 'She'],
  ['Ben', 'He'],
  ['Dan', 'He'],
  ['Max', 'He'],
  ['Sam', 'He'],
  ['Tom', 'He'],
  ['Leo', 'He'],
  ['Jay', 'He'],
];
const ITEMS = ['apples', 'pens', 'cards', 'coins', 'eggs', 'books', 'stamps', 'shells', 'beads', 'marbles'] as const;
const ADD = ['buys {n} more', 'finds {n} more', 'gets {n} more'] as const;
const SUB = ['gives away {n}', 'loses {n}', 'sells {n}'] as const;
const MUL: Record<number, string> = { 2: 'doubles them', 3: 'triples them', 4: 'gets 4 times as many' };
const DIV: Record<number, string> = { 2: 'keeps half', 3: 'keeps a third', 4: 'keeps a quarter' };
const SYMBOL: Record<ArithOp, string> = { add: '+', sub: '-', mul: '*', div: '/' };

/** Every character an arith prompt or completion can contain (for a character tokenizer). */
export const ARITH_CHARSET: string = (() => {
  const parts = [
    ...NAMES.flat(),
    ...NAMES.map(([, p]) => p.toLowerCase()),
    ...ITEMS,
    ...ADD,
    ...SUB,
    ...Object.values(MUL),
    ...Object.values(DIV),
    'has . , then How many does have?',
    'Q: \nA: ',
    '0123456789 +-*/=.\nFinal answer: ',
  ];
  const set = new Set<string>();
  for (const p of parts) for (const ch of p.replace(/\{n\}/g, '')) set.add(ch);
  return [...set].sort().join('');
})();

function applyStep(value: number, step: Step): number {
  switch (step.op) {
    case 'add':
      return value + step.n;
    case 'sub':
      return value - step.n;
    case 'mul':
      return value * step.n;
    case 'div':
      return value / step.n;
  }
}

function drawStep(rng: Rng, value: number, o: Required<ArithOptions>): Step | null {
  const op = rng.pick(o.operations);
  const factor = rng.int(2, Math.min(4, Math.max(2, o.maxFactor)));
  const step: Step = op === 'add' || op === 'sub' ? { op, n: rng.int(1, o.maxOperand) } : { op, n: factor };
  const next = applyStep(value, step);
  if (!Number.isInteger(next) || next < 0 || next > o.maxValue) return null;
  return step;
}

function phrase(rng: Rng, step: Step): string {
  if (step.op === 'add') return rng.pick(ADD).replace('{n}', String(step.n));
  if (step.op === 'sub') return rng.pick(SUB).replace('{n}', String(step.n));
  return (step.op === 'mul' ? MUL : DIV)[step.n];
}

/** The arithmetic content of a problem, without wording: equal keys never land in two splits. */
export function arithKey(start: number, steps: Step[]): string {
  return [start, ...steps.map((s) => `${s.op}${s.n}`)].join('|');
}

/** Which split a canonical problem belongs to: 10% test, 10% dev, 80% train, by hash. */
export function arithSplitOf(key: string): Split {
  const bucket = fnv1a(key) % 100;
  return bucket < 10 ? 'test' : bucket < 20 ? 'dev' : 'train';
}

function resolve(options: ArithOptions): Required<ArithOptions> {
  const o = { ...ARITH_DEFAULTS, ...options, size: { ...ARITH_DEFAULTS.size, ...options.size } };
  if (o.minSteps < 1 || o.maxSteps < o.minSteps)
    throw new RangeError(`arith: need 1 <= minSteps <= maxSteps (got ${o.minSteps}, ${o.maxSteps})`);
  if (o.operations.length === 0) throw new RangeError('arith: operations must not be empty');
  for (const op of o.operations) if (!(op in SYMBOL)) throw new RangeError(`arith: unknown operation "${op}"`);
  if (o.maxStart < 2 || o.maxOperand < 1) throw new RangeError('arith: maxStart must be >= 2 and maxOperand >= 1');
  return o;
}

/** One candidate problem from the stream, or null when it breaks a limit (the caller redraws). */
function drawProblem(rng: Rng, o: Required<ArithOptions>) {
  const start = rng.int(2, o.maxStart);
  const nSteps = rng.int(o.minSteps, o.maxSteps);
  const steps: Step[] = [];
  let value = start;
  for (let i = 0; i < nSteps; i++) {
    const step = drawStep(rng, value, o);
    if (!step) return null;
    steps.push(step);
    value = applyStep(value, step);
  }
  const [name, pronoun] = rng.pick(NAMES);
  const item = rng.pick(ITEMS);
  const phrases = steps.map((s) => phrase(rng, s));
  const last = phrases.pop();
  const question =
    `${name} has ${start} ${item}. ${pronoun} ${[...phrases, `then ${last}`].join(', ')}. ` +
    `How many ${item} does ${pronoun.toLowerCase()} have?`;
  const lines: string[] = [];
  let acc = start;
  for (const s of steps) {
    const next = applyStep(acc, s);
    lines.push(`${acc} ${SYMBOL[s.op]} ${s.n} = ${next}.`);
    acc = next;
  }
  const solution = `${lines.join(' ')}\nFinal answer: ${value}`;
  if (question.length > o.maxQuestionChars || solution.length > o.maxCompletionChars) return null;
  return { key: arithKey(start, steps), question, solution, answer: String(value), steps };
}

/**
 * The problems of one split, deterministic for (seed, split, knobs). Each split draws from its
 * own seeded stream and keeps only candidates whose arithmetic hashes into that split, so train
 * and test never share a problem and a longer train split leaves the test split unchanged.
 */
export function generateArith(split: Split, options: ArithOptions = {}): Problem[] {
  const o = resolve(options);
  const size = o.size[split] ?? 0;
  const rng = createRng(fnv1a(`arith:${o.seed}:${split}`));
  const seen = new Set<string>();
  const out: Problem[] = [];
  const maxDraws = 1000 + size * 500;
  for (let draws = 0; out.length < size; draws++) {
    if (draws > maxDraws) {
      throw new RangeError(`arith: only ${out.length} distinct ${split} problems within the knobs; ask for fewer or widen the ranges`);
    }
    const p = drawProblem(rng, o);
    if (!p || seen.has(p.key) || arithSplitOf(p.key) !== split) continue;
    seen.add(p.key);
    out.push({
      v: 1,
      id: `arith/${split}/${out.length}`,
      question: p.question,
      answer: p.answer,
      solution: p.solution,
      meta: { steps: p.steps.length, ops: p.steps.map((s) => s.op).join(','), key: p.key },
    });
  }
  return out;
}
