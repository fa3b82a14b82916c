import { basename, resolve } from 'node:path';
import { createLogger } from '@irpo/contracts';
import type { CommandModule } from 'yargs';
import { chatTemplateOf, loadModelFrom } from '../model-loading.js';

interface ServeArgs {
  modelDir: string;
  port: number;
  host: string;
  name?: string;
  maxBatchSize: number;
}

const log = createLogger('serve');

/** `irpo serve <model-dir>`: the local engine behind the OpenAI-compatible API. */
export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve <model-dir>',
  describe: 'Serve a local model over the OpenAI-compatible API (/v1/completions, /v1/chat/completions)',
  builder: (y) =>
    y
      .positional('model-dir', { type: 'string', demandOption: true, describe: 'Model directory (Hugging Face layout)' })
      .option('port', { type: 'number', default: 8000, describe: 'Port (0: any free one)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to bind (default loopback only)' })
      .option('name', { type: 'string', describe: 'Model name clients use (default: the directory name)' })
      .option('max-batch-size', { type: 'number', default: 32, describe: 'Sequences decoded together' }) as never,
  handler: async (args) => {
    const { LocalEngine, createServer } = await import('@irpo/sampler');
    const loaded = await loadModelFrom(args.modelDir);
    const engine = new LocalEngine(loaded.model, loaded.tokenizer, { maxBatchSize: args.maxBatchSize });
    const modelName = args.name ?? basename(resolve(args.modelDir));
    const server = createServer(engine, { modelName, tokenizer: loaded.tokenizer, chatTemplate: await chatTemplateOf(loaded) });
    const { url } = await server.listen(args.port, args.host);
    log.info(`serving ${modelName} at ${url}/v1 (Ctrl-C to stop)`);
    await new Promise<void>((done) => {
      const stop = () => done();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    loaded.model.dispose();
  },
};
