import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '@irpo/contracts';
import { createOutput } from '../output.js';
import { printCompareTable } from './compare-summary.js';
import { printIterationTable } from './iteration-summary.js';

/** The demo's adapter: LoRA wants a far larger learning rate than full fine-tuning (2e-5 here). */
const DEMO_LORA = { r: 8, alpha: 16 };
const DEMO_LORA_LR = 2e-4;

interface DemoArgs {
  out: string;
  compare: boolean;
  methods?: string;
  seed: number;
  iterations?: number;
  fromScratch: boolean;
  lora: boolean;
  set?: string[];
  json: boolean;
}

/** `irpo demo`: the whole loop on the built-in arith task with a tiny model trained here. */
export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'Run the whole loop on built-in arithmetic problems with a tiny model trained here (CPU, minutes)',
  builder: (y) =>
    y
      .option('out', { type: 'string', default: 'runs/demo', describe: 'Run directory (rerun to resume)' })
      .option('compare', {
        type: 'boolean',
        default: false,
        describe:
          "The paper's Table 1: zero-shot, SFT on gold, STaR, iterative DPO and Iterative RPO from the same M0 and samples (2 harder-trained iterations each, checkpoints chosen on 100 dev problems, each method at the learning rate a grid chose on dev)",
      })
      .option('methods', {
        type: 'string',
        describe: 'With --compare: a comma list of methods (zero-shot, sft-gold, star, dpo, irpo, sft-chosen); default the first five',
      })
      .option('seed', { type: 'number', default: 0, describe: 'Seed of data, model init, sampling and training' })
      .option('iterations', { type: 'number', describe: 'Iterations of RPO (default 3)' })
      .option('set', { type: 'string', array: true, describe: 'Override a field of the demo config: --set training.lr=1e-3' })
      .option('lora', {
        type: 'boolean',
        default: false,
        describe: `Train a LoRA adapter each iteration (r ${DEMO_LORA.r}, alpha ${DEMO_LORA.alpha}, lr ${DEMO_LORA_LR}) instead of every weight`,
      })
      .option('from-scratch', {
        type: 'boolean',
        default: false,
        describe: 'Train M0 from random weights now instead of starting from the shipped base model (slower)',
      })
      .example('irpo demo', 'Warm start M0, then 3 iterations; prints the table and the report path')
      .example('irpo demo --lora --out runs/demo-lora', 'The same loop training LoRA adapters (iter-t/adapter/ in PEFT layout)')
      .example('irpo demo --compare --out runs/demo-compare', 'Zero-shot, SFT on gold, STaR, iterative DPO, Iterative RPO')
      .example(
        'irpo demo --compare --methods irpo,dpo,sft-chosen',
        'A subset, with SFT on the chosen answers',
      ) as unknown as Argv<DemoArgs>,
  handler: async (args) => {
    const { createDemoM0, demoCompareOverrides, demoConfig, parseMethods, runCompare, runIterativeRpo } = await import('@irpo/recipes');
    const { applySet } = await import('../config-file.js');
    if (args.methods !== undefined && !args.compare) throw new UsageError('--methods goes with --compare');
    // Compare mode (DEMO_COMPARE): two iterations trained harder, M(t) chosen on a dev split,
    // each method at the learning rate its grid chose on dev (unless --lora or --set training.lr).
    const user: Record<string, unknown> = {};
    for (const s of args.set ?? []) applySet(user, s);
    const compareDefaults: { training?: object } = args.compare ? demoCompareOverrides({ lora: args.lora, user }) : {};
    const loraDefaults = args.lora ? { training: { ...compareDefaults.training, lr: DEMO_LORA_LR, lora: DEMO_LORA } } : {};
    const over: Record<string, unknown> = {
      ...compareDefaults,
      ...loraDefaults,
      seed: args.seed,
      ...(args.iterations ? { iterations: args.iterations } : {}),
    };
    for (const s of args.set ?? []) applySet(over, s);
    const config = demoConfig(over);
    const createM0: Parameters<typeof runIterativeRpo>[1]['createM0'] = (run, task, train, progress) =>
      createDemoM0(run, task, train, progress, { seed: args.seed, from: args.fromScratch ? 'scratch' : 'base' });
    const o = createOutput(args.json);
    if (args.compare) {
      const t0 = performance.now();
      const methods = args.methods === undefined ? undefined : parseMethods(args.methods);
      const r = await runCompare(config, { out: args.out, createM0, methods });
      o.result(r, () => printCompareTable(r, `${((performance.now() - t0) / 1000).toFixed(0)} s this time`));
      return;
    }
    const result = await runIterativeRpo(config, { out: args.out, createM0 });
    o.result({ out: args.out, evals: result.evals, report: result.reportFile }, () => printIterationTable(result.evals, result.reportFile));
  },
};
