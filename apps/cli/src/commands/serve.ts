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
  apiKeyEnv: string;
  apiKey?: unknown;
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
      .option('host', {
        type: 'string',
        default: '127.0.0.1',
        describe:
          'Address to bind (default: loopback only). Any other (0.0.0.0, a LAN address) lets whoever reaches it use the model: set an API key (--api-key-env), else irpo serve warns at start',
      })
      .option('api-key-env', {
        type: 'string',
        default: 'IRPO_API_KEY',
        describe:
          'Environment variable with the API key clients must send as `Authorization: Bearer <key>` (comma-separated: several keys); every route but GET /health then answers 401 without it. Unset: no key needed',
      })
      // vLLM and llama-server take the key itself; here it would land in shell history and `ps`
      .option('api-key', { type: 'string', hidden: true })
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
    if (args.apiKey !== undefined)
      throw new UsageError(
        `irpo serve takes no key on the command line (shell history and \`ps\` would show it): put it in the environment variable ${args.apiKeyEnv} (--api-key-env names another)`,
      );
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(args.apiKeyEnv))
      throw new UsageError(`--api-key-env must name an environment variable (letters, digits, _), got ${JSON.stringify(args.apiKeyEnv)}`);
    const { BatchingEngine, LocalEngine, createServer, parseApiKeys } = await import('@irpo/sampler');
    let apiKeys: string[];
    try {
      apiKeys = parseApiKeys(process.env[args.apiKeyEnv], args.apiKeyEnv);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const loaded = await loadModelFrom(args.modelDir, args.adapter);
    const local = new LocalEngine(await inferenceModelOf(loaded, args.runtime), loaded.tokenizer, { maxBatchSize: args.maxBatchSize });
    const engine = args.batch ? new BatchingEngine(local, { maxRows: args.maxBatchSize, windowMs: args.batchWindowMs }) : local;
    const modelName = args.name ?? basename(resolve(args.modelDir));
    const server = createServer(engine, {
      modelName,
      tokenizer: loaded.tokenizer,
      chatTemplate: await chatTemplateOf(loaded),
      seed: args.seed,
      apiKeys,
    });
    const { url } = await server.listen(args.port, args.host);
    log.info(`serving ${modelName} at ${url}/v1 (Ctrl-C to stop)`);
    if (apiKeys.length > 0)
      log.info(
        `API key required (${apiKeys.length === 1 ? 'the key' : `${apiKeys.length} keys`} in ${args.apiKeyEnv}); GET /health is open`,
      );
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
