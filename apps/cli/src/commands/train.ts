import { UsageError } from '@irpo/contracts';
import type { Argv, CommandModule } from 'yargs';
import { loadRunConfig } from '../config-file.js';
import { createOutput } from '../output.js';

interface TrainArgs {
  model: string;
  pairs: string;
  out: string;
  config?: string;
  iteration?: number;
  set?: string[];
  loraR?: number;
  loraAlpha?: number;
  loraDropout?: number;
  loraTargets?: string;
  json: boolean;
}

/** The --lora-* flags as --set overrides of training.lora, so the config's own validation names bad values. */
export function loraSets(args: Pick<TrainArgs, 'loraR' | 'loraAlpha' | 'loraDropout' | 'loraTargets'>): string[] {
  const given = args.loraAlpha !== undefined || args.loraDropout !== undefined || args.loraTargets !== undefined;
  if (args.loraR === undefined) {
    if (given) throw new UsageError('--lora-alpha, --lora-dropout and --lora-targets need --lora-r');
    return [];
  }
  const sets = [`training.lora.r=${args.loraR}`];
  if (args.loraAlpha !== undefined) sets.push(`training.lora.alpha=${args.loraAlpha}`);
  if (args.loraDropout !== undefined) sets.push(`training.lora.dropout=${args.loraDropout}`);
  if (args.loraTargets !== undefined) {
    const targets = args.loraTargets
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    sets.push(`training.lora.targetModules=${JSON.stringify(targets)}`);
  }
  return sets;
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
      .option('config', { type: 'string', describe: "Run config (YAML/JSON, or a run's run.json) whose training/iteration settings apply" })
      .option('iteration', {
        type: 'number',
        describe: "Train as this iteration of the config's run: its epochs, step cap and training seed (for training.launch)",
      })
      .option('set', { type: 'string', array: true, describe: 'Override a field: --set training.lr=1e-5' })
      .option('lora-r', {
        type: 'number',
        describe: 'Train a LoRA adapter of this rank instead of every weight; out/adapter/ (PEFT layout) and the merged out/model/',
      })
      .option('lora-alpha', { type: 'number', describe: 'LoRA scale: the update is multiplied by alpha / r (default 32)' })
      .option('lora-dropout', { type: 'number', describe: 'Dropout on the adapter input while training, in [0, 1)' })
      .option('lora-targets', {
        type: 'string',
        describe: 'Comma-separated modules: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj',
      })
      .example('irpo train --model M0 --pairs pairs.jsonl --out M1 --lora-r 8 --set training.lr=1e-4', 'Train a LoRA adapter')
      .example('irpo train --model M0 --pairs pairs.jsonl --out M1 --set training.alpha=0', 'Plain DPO (the ablation)')
      .example(
        'irpo train --config {config} --iteration {iter} --model {model} --pairs {pairs} --out {out}',
        "As a run's training.launch: that iteration trained as the run would in process",
      ) as unknown as Argv<TrainArgs>,
  handler: async (args) => {
    if (args.iteration !== undefined && !(Number.isInteger(args.iteration) && args.iteration >= 1))
      throw new UsageError(`--iteration must be a whole number from 1, got ${args.iteration}`);
    const config = await loadRunConfig(args.config, [...loraSets(args), ...(args.set ?? [])]);
    if (args.iteration !== undefined && args.iteration > config.iterations)
      throw new UsageError(`--iteration ${args.iteration}: the config's run has ${config.iterations} iterations`);
    const { trainStageOnPairs } = await import('@irpo/recipes');
    const r = await trainStageOnPairs(args.model, args.pairs, args.out, config, { iteration: args.iteration });
    createOutput(args.json).result(r, () => `Trained ${r.steps} steps → ${r.modelDir}`);
  },
};
