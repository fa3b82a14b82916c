import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '@irpo/contracts';
import type { RunComparisonRow } from '@irpo/evaluator';
import type { Argv, CommandModule } from 'yargs';
import { createOutput } from '../output.js';

interface ReportArgs {
  runDir: string;
  compare?: string[];
  json: boolean;
}

/** `irpo report <run-dir>`: report.md, report.html and SVG charts of a run; optionally a comparison. */
export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <run-dir>',
  describe: 'Write report.md, report.html and SVG charts for a run directory (works while it runs)',
  builder: (y) =>
    y
      .positional('run-dir', { type: 'string', demandOption: true, describe: 'Run directory (runs/<name>)' })
      .option('compare', { type: 'string', array: true, describe: 'Other run directories to compare with (writes comparison.md/.json)' })
      .example('irpo report runs/demo', 'Report one run')
      .example('irpo report runs/dpo-nll --compare runs/dpo runs/sft', 'Compare DPO+NLL with DPO and SFT') as unknown as Argv<ReportArgs>, // --json is a global option, added by the parser
  handler: async (args) => {
    // Loaded here, not at the top: every other command would otherwise pay for loading vega.
    const { compareRuns, writeRunReport } = await import('@irpo/evaluator');
    const out = createOutput(args.json);
    const report = await writeRunReport(args.runDir);
    const result: { files: string[]; comparison?: RunComparisonRow[] } = {
      files: report.files.map((f) => join(args.runDir, f)),
    };
    let comparisonMd: string | undefined;
    if (args.compare?.length) {
      const comparison = await compareRuns([args.runDir, ...args.compare]);
      await writeFileAtomic(join(args.runDir, 'comparison.md'), comparison.markdown + '\n');
      await writeJsonAtomic(join(args.runDir, 'comparison.json'), comparison.rows);
      result.files.push(join(args.runDir, 'comparison.md'), join(args.runDir, 'comparison.json'));
      result.comparison = comparison.rows;
      comparisonMd = comparison.markdown;
    }
    out.result(result, () => [`Wrote ${result.files.join(', ')}`, ...(comparisonMd ? ['', comparisonMd] : [])].join('\n'));
  },
};
