import type { Argv, CommandModule } from 'yargs';
import { loadRunConfig } from '../config-file.js';
import { UsageError } from '@irpo/contracts';
import { createOutput } from '../output.js';
import { printCompareTable } from './compare-summary.js';
import { printIterationTable } from './iteration-summary.js';

interface RunArgs {
  config?: string;
  set?: string[];
  out?: string;
  compare: boolean;
  methods?: string;
  json: boolean;
}

/** `irpo run <config>`: the iterative RPO recipe from a YAML/JSON config; rerun to resume. */
export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run [config]',
  describe: 'Run iterative RPO from a YAML/JSON config (rerun the same command to resume)',
  builder: (y) =>
    y
      .positional('config', { type: 'string', describe: 'Run config (YAML or JSON); defaults apply to what it leaves out' })
      .option('set', { type: 'string', array: true, describe: 'Override a field: --set training.lr=1e-4 (repeatable)' })
      .option('out', { type: 'string', describe: 'Run directory (default runs/<name>)' })
      .option('compare', {
        type: 'boolean',
        default: false,
        describe:
          "The paper's Table 1 from the same M0 and samples: zero-shot, SFT on gold, STaR, iterative DPO and Iterative RPO, one run folder each under --out",
      })
      .option('methods', {
        type: 'string',
        describe: 'With --compare: a comma list of methods (zero-shot, sft-gold, star, dpo, irpo, sft-chosen); default the first five',
      })
      .example('irpo run gsm8k.yaml --set iterations=2', 'Two iterations of a configured run')
      .example('irpo run --set model=./SmolLM2-135M --set task.name=gsm8k', 'No file: defaults plus overrides')
      .example(
        'irpo run gsm8k.yaml --compare --methods irpo,dpo',
        'Iterative RPO against iterative DPO from the same M0',
      ) as unknown as Argv<RunArgs>,
  handler: async (args) => {
    const config = await loadRunConfig(args.config, args.set ?? []);
    const { parseMethods, runCompare, runIterativeRpo } = await import('@irpo/recipes');
    if (args.methods !== undefined && !args.compare) throw new UsageError('--methods goes with --compare');
    const o = createOutput(args.json);
    if (args.compare) {
      const t0 = performance.now();
      const out = args.out ?? `runs/${config.name}-compare`;
      const methods = args.methods === undefined ? undefined : parseMethods(args.methods);
      const r = await runCompare(config, { out, methods });
      o.result(r, () => printCompareTable(r, `${((performance.now() - t0) / 1000).toFixed(0)} s this time`));
      return;
    }
    const out = args.out ?? `runs/${config.name}`;
    const result = await runIterativeRpo(config, { out });
    o.result({ out, evals: result.evals, report: result.reportFile }, () => printIterationTable(result.evals, result.reportFile));
  },
};
