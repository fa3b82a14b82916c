import type { CommandModule } from 'yargs';
import { createOutput } from '../output.js';

interface ModelInspectArgs {
  dir: string;
  batch: number;
  length: number;
  json: boolean;
}

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

/** `irpo model inspect <dir>`: what a model directory holds and what training it would cost. */
export const modelInspectCommand: CommandModule<object, ModelInspectArgs> = {
  command: 'inspect <dir>',
  describe: 'Architecture, parameter count, dtype, vocabulary and training memory estimate of a model directory',
  builder: (y) =>
    y
      .positional('dir', { type: 'string', demandOption: true, describe: 'Hugging Face model directory (config.json, *.safetensors)' })
      .option('batch', { type: 'number', default: 1, describe: 'sequences per training step, for the activation estimate' })
      .option('length', { type: 'number', default: 512, describe: 'tokens per sequence, for the activation estimate' }) as never,
  handler: async (args) => {
    // Imported here so `irpo --help` does not load TensorFlow.js.
    const { inspectModelDir } = await import('@irpo/model');
    const info = await inspectModelDir(args.dir, args.batch, args.length);
    createOutput(args.json).result(info, () => {
      const s = info.spec;
      const m = info.memory;
      return [
        `architecture  ${info.architecture}`,
        `parameters    ${info.parameters.toLocaleString('en-US')}`,
        `dtype         ${info.dtypes.length ? info.dtypes.join(', ') : '(no weights)'}`,
        `vocab         ${info.vocabSize}`,
        `layers        ${s.numLayers} × hidden ${s.hiddenSize}, heads ${s.numHeads}/${s.numKvHeads} kv, head dim ${info.headDim}, mlp ${s.intermediateSize}`,
        `tied head     ${s.tieWordEmbeddings}`,
        `memory        ${gib(m.totalBytes)} to train batch ${m.batch} × ${m.length} tokens in float32:`,
        `                weights ${gib(m.weightsBytes)}, grads ${gib(m.gradsBytes)}, AdamW ${gib(m.optimizerBytes)}, activations ${gib(m.activationsBytes)}`,
      ].join('\n');
    });
  },
};

/** `irpo model <subcommand>`: model directory tools. */
export const modelCommand: CommandModule<object, object> = {
  command: 'model <command>',
  describe: 'Model directory tools (inspect)',
  builder: (y) => y.command(modelInspectCommand as CommandModule).demandCommand(1, 'Name a model subcommand: inspect'),
  handler: () => undefined,
};
