import { basename, resolve } from 'node:path';
import { createLogger, UsageError } from '@irpo/contracts';
import type { CommandModule } from 'yargs';
import { ADAPTER_OPTION, chatTemplateOf, inferenceModelOf, loadModelFrom, RUNTIME_OPTION } from '../model-loading.js';
import { createOutput } from '../output.js';

interface ServeArgs {
  modelDir: string;
  adapter?: string;
  runtime: 'auto' | 'onnx' | 'tfjs';
  port: number;
  host: string;
  name?: string;
  seed?: number;
  maxBatchSize: number;
  batch: boolean;
  batchWindowMs: number;
  json: boolean;
}

const log = createLogger('serve');

/** `irpo serve <model-dir>`: the local engine behind the OpenAI-compatible API. */
export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve <model-dir>',
  describe: 'Serve a local model over the OpenAI-compatible API (/v1/completions, /v1/chat/completions)',
  builder: (y) =>
    y
      .positional('model-dir', { type: 'string', demandOption: true, describe: 'Model directory (Hugging Face layout)' })
      .option('adapter', ADAPTER_OPTION)
      .option('runtime', RUNTIME_OPTION)
      .option('port', { type: 'number', default: 8000, describe: 'Port (0: any free one)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to bind (default loopback only)' })
      .option('name', { type: 'string', describe: 'Model name clients use (default: the directory name)' })
      .option('seed', {
        type: 'number',
        describe: 'Seeds the seeds of requests that send none (as vLLM --seed); a request seed always wins',
      })
      .option('max-batch-size', { type: 'number', default: 32, describe: 'Sequences decoded together' })
      .option('batch', {
        type: 'boolean',
        default: true,
        describe:
          'Decode concurrent requests with the same settings together, in one batch (the same samples as one at a time; --no-batch: each request alone)',
      })
      .option('batch-window-ms', {
        type: 'number',
        default: 5,
        describe: 'How long an idle server waits for more requests to batch',
      }) as never,
  handler: async (args) => {
    if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535)
      throw new UsageError(`--port must be an integer in [0, 65535], got ${args.port}`);
    if (args.seed !== undefined && !Number.isInteger(args.seed)) throw new UsageError(`--seed must be an integer, got ${args.seed}`);
    if (!Number.isInteger(args.maxBatchSize) || args.maxBatchSize < 1)
      throw new UsageError(`--max-batch-size must be an integer ≥ 1, got ${args.maxBatchSize}`);
    if (!(args.batchWindowMs >= 0)) throw new UsageError(`--batch-window-ms must be ≥ 0, got ${args.batchWindowMs}`);
    const { BatchingEngine, LocalEngine, createServer } = await import('@irpo/sampler');
    const loaded = await loadModelFrom(args.modelDir, args.adapter);
    const local = new LocalEngine(await inferenceModelOf(loaded, args.runtime), loaded.tokenizer, { maxBatchSize: args.maxBatchSize });
    const engine = args.batch ? new BatchingEngine(local, { maxRows: args.maxBatchSize, windowMs: args.batchWindowMs }) : local;
    const modelName = args.name ?? basename(resolve(args.modelDir));
    const server = createServer(engine, {
      modelName,
      tokenizer: loaded.tokenizer,
      chatTemplate: await chatTemplateOf(loaded),
      seed: args.seed,
    });
    const { url } = await server.listen(args.port, args.host);
    log.info(`serving ${modelName} at ${url}/v1 (Ctrl-C to stop)`);
    createOutput(args.json).result({ url: `${url}/v1`, model: modelName }, () => `listening on ${url}/v1 (model ${modelName})`);
    await new Promise<void>((done) => {
      const stop = () => done();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    loaded.model.dispose();
  },
};
