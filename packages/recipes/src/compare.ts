import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, RunConfigSchema, UsageError, type RunConfig } from '@irpo/contracts';
import { writeComparison, type MethodRow, type MethodRun } from '@irpo/evaluator';
import { runDpoBaseline, runSftChosenBaseline, runSftGoldBaseline, runStarBaseline } from './baselines.js';
import { runIterativeRpo, startRun, type RecipeOptions } from './iterative-rpo.js';
import { evaluateStage, sampleStage } from './stages.js';

/** The methods of the paper's Table 1, in its order, and SFT on chosen answers (its ablation). */
export const METHODS = ['zero-shot', 'sft-gold', 'star', 'dpo', 'irpo', 'sft-chosen'] as const;
export type Method = (typeof METHODS)[number];
/** What `--compare` runs unless told otherwise: the five methods of Table 1. */
export const DEFAULT_METHODS: readonly Method[] = ['zero-shot', 'sft-gold', 'star', 'dpo', 'irpo'];

/** How each method is called in the table and what it trains on. */
const ABOUT: Record<Method, { label: string; training: string }> = {
  'zero-shot': { label: 'Zero-shot (M0)', training: 'no training: M0 evaluated as it is (iteration 0 of the Iterative RPO run)' },
  'sft-gold': {
    label: 'SFT on gold CoTs',
    training: "SFT (token-mean NLL) on the task's gold solutions of the training problems; iteration t continues from M(t-1)",
  },
  star: {
    label: 'STaR',
    training:
      'SFT on the distinct correct samples drawn from STaR’s M(t-1); every iteration retrains M0 (Zelikman et al. 2022, no rationalization)',
  },
  dpo: { label: 'Iterative DPO (α 0)', training: 'DPO without the NLL term on correct/wrong pairs of its own M(t-1)’s samples' },
  irpo: { label: 'Iterative RPO', training: 'DPO + NLL on correct/wrong pairs of its own M(t-1)’s samples (the paper’s method)' },
  'sft-chosen': { label: 'SFT on chosen', training: 'SFT on the winners of Iterative RPO’s iteration-1 pairs; one iteration' },
};

/** Parses a `--methods` list ("star,dpo"); unknown names are a usage error. */
export function parseMethods(list: string): Method[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(METHODS as readonly string[]).includes(n));
  if (unknown.length || names.length === 0)
    throw new UsageError(`--methods: unknown method ${unknown.join(', ') || '(none given)'}; choose from ${METHODS.join(', ')}`);
  return METHODS.filter((m) => names.includes(m));
}

export interface CompareResult {
  /** Run directory of each method (zero-shot's is the Iterative RPO run: its iteration 0). */
  dirs: Partial<Record<Method, string>>;
  rows: MethodRow[];
  /** compare.md */
  markdown: string;
  files: string[];
}

/**
 * The paper's Table 1 from one M0 and one data set: zero-shot, SFT on gold CoTs, STaR, iterative
 * DPO and Iterative RPO (and, on request, SFT on chosen answers), each in its own run directory
 * under `out` (out/irpo, out/dpo, ...), then compare.md, compare.html and compare.json with one
 * row per method × iteration. The Iterative RPO run goes first: its M0, M0's evaluation and its
 * iteration-1 samples are what every method shares. Every run resumes like a run, so rerunning
 * the same command skips finished methods and continues the one in progress.
 */
export async function runCompare(config: RunConfig, o: RecipeOptions & { methods?: readonly Method[] }): Promise<CompareResult> {
  if (config.stop.devGainBelow !== null)
    throw new InputError(
      'run config',
      undefined,
      'stop.devGainBelow',
      'a comparison runs every method for the same iterations (one row each); use the stop rule on a single run',
    );
  const methods = METHODS.filter((m) => (o.methods ?? DEFAULT_METHODS).includes(m));
  const main = join(o.out, 'irpo');
  const irpo = methodConfig(config, 'irpo');
  await sharedStart(irpo, { ...o, method: 'irpo', out: main });
  const dirOf = (m: Method) => (m === 'zero-shot' || m === 'irpo' ? main : join(o.out, m));
  // Iterative RPO first (its result is the one awaited), then the baselines in the table's order.
  if (methods.includes('irpo')) await runIterativeRpo(irpo, { ...o, method: 'irpo', out: main });
  for (const m of methods) {
    const run = { ...o, method: m, out: dirOf(m) };
    if (m === 'sft-gold') await runSftGoldBaseline(methodConfig(config, m), main, run);
    if (m === 'star') await runStarBaseline(methodConfig(config, m), main, run);
    if (m === 'dpo') await runDpoBaseline(methodConfig(config, m), main, run);
    if (m === 'sft-chosen') await runSftChosenBaseline(methodConfig(config, m), main, run);
  }
  const dirs = Object.fromEntries(methods.map((m) => [m, dirOf(m)])) as Partial<Record<Method, string>>;
  const T = config.iterations;
  const iterations = (m: Method) => (m === 'zero-shot' ? [0] : m === 'sft-chosen' ? [1] : Array.from({ length: T }, (_, i) => i + 1));
  const runs: MethodRun[] = [];
  for (const m of methods) {
    const settings = m === 'zero-shot' ? undefined : await resolvedSettings(dirOf(m));
    runs.push({ method: m, ...ABOUT[m], dir: dirOf(m), iterations: iterations(m), ...(settings ? { settings } : {}) });
  }
  const table = await writeComparison(o.out, runs, {
    title: `Methods compared: ${config.name} (${config.task.name}, ${T} iteration${T === 1 ? '' : 's'}, seed ${config.seed})`,
    notes: [
      'Every method starts from the same M0 and the same training problems; every method that samples shares Iterative RPO’s iteration-1 samples, and later iterations sample from the method’s own M(t-1) with the same seeds.',
      'Greedy accuracy on the test split with 95% Wilson intervals.',
      ...(config.task.devLimit !== null
        ? [
            `Each method's M(t) is its best checkpoint on the same ${config.task.devLimit} dev problems (greedy, ${config.training.evalEvery === null ? 'scored after the last step only' : `scored every ${config.training.evalEvery} steps and after the last`}).`,
          ]
        : []),
      ...(Object.keys(config.compare).length
        ? [`Per-method settings over the run's: ${JSON.stringify(config.compare)} (each method's resolved settings are in compare.json).`]
        : []),
    ],
  });
  return { dirs, rows: table.rows, markdown: table.markdown, files: table.files.map((f) => join(o.out, f)) };
}

/**
 * A method's config in a comparison: the run's, with the method's own settings (config.compare)
 * over its training block and training length. The result has no compare block of its own.
 */
export function methodConfig(config: RunConfig, method: Exclude<Method, 'zero-shot'>): RunConfig {
  const own = config.compare[method] ?? {};
  const length = own.iteration;
  return RunConfigSchema.parse({
    ...config,
    compare: {},
    training: { ...config.training, ...own.training },
    // a method's training length over the run's, field by field (an unset field keeps the run's)
    iteration: {
      ...config.iteration,
      ...Object.fromEntries(LENGTH_KEYS.filter((k) => length?.[k] !== undefined).map((k) => [k, length![k]])),
    },
  });
}

/** The iteration fields a comparison method may set for itself. */
const LENGTH_KEYS = ['epochs', 'maxSteps'] as const;

/** What a method trained with, from its run.json (after any change its recipe made, like dpo's alpha 0). */
async function resolvedSettings(dir: string): Promise<Record<string, unknown> | undefined> {
  const file = join(dir, 'run.json');
  if (!existsSync(file)) return undefined;
  const { config, recipe } = JSON.parse(await readFile(file, 'utf8')) as { config: RunConfig; recipe?: string };
  return { recipe, training: config.training, iteration: config.iteration, overrides: config.overrides };
}

/** What every method shares, in the Iterative RPO run: M0 (made when the config names none), its evaluation, and iteration 1's samples from it. */
async function sharedStart(config: RunConfig, o: RecipeOptions): Promise<void> {
  const { ctx, train, test, m0 } = await startRun(config, o);
  try {
    await evaluateStage(ctx, 0, m0, test);
    await sampleStage(ctx, 1, m0, train);
  } finally {
    ctx.slot.dispose();
  }
}
