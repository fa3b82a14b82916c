import type { Argv, CommandModule } from 'yargs';
import { loadRunConfig } from '../config-file.js';
import { createOutput } from '../output.js';

interface TrainArgs {
  model: string;
  pairs: string;
  out: string;
  config?: string;
  set?: string[];
  json: boolean;
}

/** `irpo train`: one DPO+NLL training stage on a pairs file (reference log-probs included). */
export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'Train a model on preference pairs with DPO+NLL (computes the reference log-probs first)',
  builder: (y) =>
    y
      .option('model', {
        type: 'string',
        demandOption: true,
        describe: 'Model folder (Hugging Face layout): the initial policy and the reference',
      })
      .option('pairs', { type: 'string', demandOption: true, describe: 'pairs.jsonl (prompt, chosen, rejected)' })
      .option('out', { type: 'string', demandOption: true, describe: 'Output folder: ref-logps.jsonl, train-log.jsonl, model/' })
      .option('config', { type: 'string', describe: 'Run config whose training/iteration settings apply' })
      .option('set', { type: 'string', array: true, describe: 'Override a field: --set training.lr=1e-5' })
      .example(
        'irpo train --model M0 --pairs pairs.jsonl --out M1 --set training.alpha=0',
        'Plain DPO (the ablation)',
      ) as unknown as Argv<TrainArgs>,
  handler: async (args) => {
    const config = await loadRunConfig(args.config, args.set ?? []);
    const { trainStageOnPairs } = await import('@irpo/recipes');
    const r = await trainStageOnPairs(args.model, args.pairs, args.out, config);
    createOutput(args.json).result(r, () => `Trained ${r.steps} steps → ${r.modelDir}`);
  },
};
