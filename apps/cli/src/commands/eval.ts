import { dirname, join } from 'node:path';
import { UsageError, writeFileAtomic, writeJsonAtomic } from '@irpo/contracts';
import type { Argv, CommandModule } from 'yargs';
import { createOutput } from '../output.js';

interface EvalArgs {
  samples?: string;
  task: string;
  split: string;
  model?: string;
  maj?: number[];
  pass?: number[];
  problems?: string;
  breakdown?: string[];
  out?: string;
  json: boolean;
}

/**
 * `irpo eval --samples <file> --task <name>`: scores an existing samples.jsonl into eval.json
 * and eval.md. (Generating the samples with a model is the sampler's job.)
 */
export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Score a samples.jsonl: greedy accuracy, maj@k, pass@k with 95% intervals; writes eval.json and eval.md',
  builder: (y) =>
    y
      .option('samples', { type: 'string', describe: 'samples.jsonl to score (temperature-0 samples are the greedy answers)' })
      .option('task', { type: 'string', demandOption: true, describe: 'Task name (arith, gsm8k, math, arc): its answer normaliser is used for voting' })
      .option('split', { type: 'string', default: 'test', describe: 'Split the samples come from' })
      .option('model', { type: 'string', describe: 'Model name recorded in eval.json (default: the samples path)' })
      .option('maj', { type: 'number', array: true, describe: 'maj@k to report (default: all samples per problem)' })
      .option('pass', { type: 'number', array: true, describe: 'pass@k to report (default: 1 and all samples per problem)' })
      .option('problems', { type: 'string', describe: 'problems.jsonl of the split: counts problems without samples and gives meta for --breakdown' })
      .option('breakdown', { type: 'string', array: true, describe: 'Problem meta fields to break accuracy down by (e.g. subject level)' })
      .option('out', { type: 'string', describe: 'Folder for eval.json and eval.md (default: beside the samples)' })
      .example('irpo eval --samples runs/x/iter-1/samples.jsonl --task arith', 'Score existing samples') as unknown as Argv<EvalArgs>, // --json is a global option, added by the parser
  handler: async (args) => {
    // Loaded here, not at the top: every other command would otherwise pay for loading vega.
    const { evalMarkdown, loadScoringTask, scoreSamplesFile } = await import('@irpo/evaluator');
    if (!args.samples) throw new UsageError('irpo eval needs --samples <samples.jsonl> (sampling with a model is not built in yet)');
    for (const k of [...(args.maj ?? []), ...(args.pass ?? [])]) {
      if (!Number.isInteger(k) || k < 1) throw new UsageError(`--maj/--pass take positive integers, got ${k}`);
    }
    const task = await loadScoringTask(args.task);
    const { report, notes } = await scoreSamplesFile({
      samplesFile: args.samples,
      task: args.task,
      split: args.split,
      model: args.model,
      majK: args.maj,
      passK: args.pass,
      problemsFile: args.problems,
      breakdownBy: args.breakdown,
      normalize: task ? (a) => task.normalizeAnswer(a) : undefined,
    });
    const outDir = args.out ?? dirname(args.samples);
    const md = evalMarkdown(report, notes);
    await writeJsonAtomic(join(outDir, 'eval.json'), report);
    await writeFileAtomic(join(outDir, 'eval.md'), md);
    createOutput(args.json).result(report, () => md.trimEnd() + `\n\nWrote ${join(outDir, 'eval.json')} and eval.md`);
  },
};
