import { readJsonlAll, SampleSchema, UsageError, writeJsonAtomic, writeJsonlAtomic } from '@irpo/contracts';
import type { Argv, CommandModule } from 'yargs';
import { createOutput } from '../output.js';

interface PairsArgs {
  samples: string;
  out: string;
  k: number;
  maxPairs?: number;
  seed: number;
  export?: string;
  beta: number;
  alpha: number;
  json: boolean;
}

/** `irpo pairs`: preference pairs from a samples.jsonl, optionally with TRL's matching settings. */
export const pairsCommand: CommandModule<object, PairsArgs> = {
  command: 'pairs',
  describe: 'Build (correct, wrong) preference pairs from samples.jsonl; --export trl adds TRL DPOConfig settings',
  builder: (y) =>
    y
      .option('samples', { type: 'string', demandOption: true, describe: 'samples.jsonl (from irpo sample or a run)' })
      .option('out', { type: 'string', demandOption: true, describe: 'pairs.jsonl to write (keys prompt, chosen, rejected)' })
      .option('k', { type: 'number', default: 10, describe: 'Most pairs per prompt (paper: 10)' })
      .option('max-pairs', { type: 'number', describe: 'Keep at most this many pairs (seeded choice)' })
      .option('seed', { type: 'number', default: 0 })
      .option('export', { type: 'string', choices: ['trl'], describe: 'Also write <out>.trl.json: DPOConfig settings for the same loss' })
      .option('beta', { type: 'number', default: 0.1, describe: 'DPO beta for the exported settings' })
      .option('alpha', { type: 'number', default: 1, describe: 'NLL weight for the exported settings' })
      .example(
        'irpo pairs --samples runs/x/iter-1/samples.jsonl --out pairs.jsonl --export trl',
        'Pairs for training with TRL',
      ) as unknown as Argv<PairsArgs>,
  handler: async (args) => {
    if (!(args.k >= 1)) throw new UsageError('--k must be at least 1');
    const { buildPairs } = await import('@irpo/trainer');
    const samples = await readJsonlAll(args.samples, SampleSchema);
    const { pairs, stats } = buildPairs(samples, { k: args.k, maxPairs: args.maxPairs, seed: args.seed });
    await writeJsonlAtomic(args.out, pairs);
    const files = [args.out];
    if (args.export === 'trl') {
      // TRL's DPOTrainer computes the paper's loss as a weighted sum of its sigmoid (DPO) and sft
      // (NLL on chosen) losses; pairs.jsonl already uses the keys it reads.
      const trl = {
        beta: args.beta,
        loss_type: ['sigmoid', 'sft'],
        loss_weights: [1, args.alpha],
        note: "TRL DPOConfig fields for IRPO (DPO + alpha·NLL); pass with the pairs file as the train dataset. TRL's sft term is the token-mean NLL of the chosen answers; irpo's default normalises per sequence (training.nllNormalization: token-mean matches TRL).",
      };
      await writeJsonAtomic(`${args.out}.trl.json`, trl);
      files.push(`${args.out}.trl.json`);
    }
    createOutput(args.json).result(
      { files, stats },
      () =>
        `${stats.pairs} pairs from ${stats.promptsWithPairs}/${stats.prompts} prompts (no correct: ${stats.noWinner}, no wrong: ${stats.noLoser}) → ${files.join(', ')}`,
    );
  },
};
