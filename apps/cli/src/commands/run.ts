import type { Argv, CommandModule } from 'yargs';
import { loadRunConfig } from '../config-file.js';
import { createOutput } from '../output.js';
import { printIterationTable } from './iteration-summary.js';

interface RunArgs {
  config?: string;
  set?: string[];
  out?: string;
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
      .example('irpo run gsm8k.yaml --set iterations=2', 'Two iterations of a configured run')
      .example('irpo run --set model=./SmolLM2-135M --set task.name=gsm8k', 'No file: defaults plus overrides') as unknown as Argv<RunArgs>,
  handler: async (args) => {
    const config = await loadRunConfig(args.config, args.set ?? []);
    const { runIterativeRpo } = await import('@irpo/recipes');
    const out = args.out ?? `runs/${config.name}`;
    const result = await runIterativeRpo(config, { out });
    const o = createOutput(args.json);
    o.result({ out, evals: result.evals, report: result.reportFile }, () => printIterationTable(result.evals, result.reportFile));
  },
};
