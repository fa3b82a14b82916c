import { formatDuration, UsageError } from '@irpo/contracts';
import type { CommandModule } from 'yargs';
import {
  ADAPTER_OPTION,
  CONCURRENCY_OPTION,
  firstServedModel,
  getTaskByName,
  inferenceModelOf,
  loadModelFrom,
  PROMPT_FORMAT_OPTION,
  REQUEST_TIMEOUT_OPTION,
  RUNTIME_OPTION,
} from '../model-loading.js';
import { createOutput } from '../output.js';
import { formatProgress } from '../progress.js';

interface SampleArgs {
  task: string;
  split: 'train' | 'test' | 'dev';
  limit?: number;
  dataPath?: string;
  model?: string;
  adapter?: string;
  runtime: 'auto' | 'onnx' | 'tfjs';
  endpoint?: string;
  servedModel?: string;
  apiKeyEnv: string;
  concurrency: number;
  requestTimeoutS: number;
  n: number;
  temperature: number;
  topP: number;
  topK: number;
  maxNewTokens: number;
  seed: number;
  out: string;
  batchSize?: number;
  maxBatchSize: number;
  promptFormat: 'auto' | 'chat' | 'plain';
  json: boolean;
}

/** `irpo sample`: N scored samples per problem to samples.jsonl; rerun to resume. */
export const sampleCommand: CommandModule<object, SampleArgs> = {
  command: 'sample',
  describe: 'Sample N chains of thought per problem to a samples.jsonl (resumes where it stopped)',
  builder: (y) =>
    y
      .option('task', { type: 'string', demandOption: true, describe: 'Task name (arith, gsm8k, math, arc)' })
      .option('split', { choices: ['train', 'test', 'dev'] as const, default: 'train' as const, describe: 'Split to sample' })
      .option('limit', { type: 'number', describe: 'Only the first N problems' })
      .option('data-path', { type: 'string', describe: 'Read the task data from this path' })
      .option('model', { type: 'string', describe: 'Local model directory (Hugging Face layout)' })
      .option('adapter', ADAPTER_OPTION)
      .option('runtime', RUNTIME_OPTION)
      .option('prompt-format', PROMPT_FORMAT_OPTION)
      .option('endpoint', { type: 'string', describe: 'OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1' })
      .option('served-model', { type: 'string', describe: 'Model name the endpoint serves (default: its first /v1/models entry)' })
      .option('api-key-env', { type: 'string', default: 'OPENAI_API_KEY', describe: 'Environment variable with the endpoint API key' })
      .option('concurrency', CONCURRENCY_OPTION)
      .option('request-timeout-s', REQUEST_TIMEOUT_OPTION)
      .option('n', { type: 'number', default: 4, describe: 'Samples per problem' })
      .option('temperature', { type: 'number', default: 0.8, describe: 'Sampling temperature (0: greedy)' })
      .option('top-p', { type: 'number', default: 1, describe: 'Nucleus sampling mass' })
      .option('top-k', { type: 'number', default: 0, describe: 'Top-k (0: off)' })
      .option('max-new-tokens', { type: 'number', default: 512, describe: 'Longest completion' })
      .option('seed', { type: 'number', default: 0, describe: 'Seed: the same seed gives the same samples' })
      .option('out', { type: 'string', demandOption: true, describe: 'samples.jsonl to write (appended to on resume)' })
      .option('batch-size', {
        type: 'number',
        describe: 'Problems per local engine call, the unit a crash can lose (default 8); an endpoint gets one problem per request',
      })
      .option('max-batch-size', { type: 'number', default: 32, describe: 'Sequences the local engine decodes together' }) as never,
  handler: async (args) => {
    if (args.adapter !== undefined && args.model === undefined)
      throw new UsageError('--adapter needs --model: the base model folder the adapter was trained on');
    if (Boolean(args.model) === Boolean(args.endpoint)) throw new UsageError('give exactly one of --model <dir> or --endpoint <url>');
    if (!Number.isInteger(args.n) || args.n < 1) throw new UsageError(`--n must be an integer ≥ 1, got ${args.n}`);
    const sampler = await import('@irpo/sampler');
    const task = await getTaskByName(args.task);
    const problems = await task.load(args.split, { limit: args.limit, path: args.dataPath });
    let engine: import('@irpo/sampler').Engine;
    let dispose = () => undefined as void;
    if (args.endpoint) {
      const model = args.servedModel ?? (await firstServedModel(args.endpoint, args.apiKeyEnv));
      engine = new sampler.HttpEngine({
        baseUrl: args.endpoint,
        model,
        apiKeyEnv: args.apiKeyEnv,
        concurrency: args.concurrency,
        timeoutMs: args.requestTimeoutS * 1000,
      });
    } else {
      const loaded = await loadModelFrom(args.model!, args.adapter);
      const { promptFormat } = await import('@irpo/model');
      engine = new sampler.LocalEngine(await inferenceModelOf(loaded, args.runtime), loaded.tokenizer, {
        maxBatchSize: args.maxBatchSize,
        promptFormat: promptFormat(loaded.tokenizer, args.promptFormat),
      });
      dispose = () => loaded.model.dispose();
    }
    const tty = Boolean(process.stderr.isTTY) && !args.json;
    const start = Date.now();
    const elapsed = () => (Date.now() - start) / 1000;
    try {
      const result = await sampler.sampleDataset(problems, task, engine, {
        n: args.n,
        temperature: args.temperature,
        topP: args.topP,
        topK: args.topK,
        maxNewTokens: args.maxNewTokens,
        seed: args.seed,
        out: args.out,
        batchSize: args.batchSize ?? 8,
        onProgress: tty
          ? (p) =>
              process.stderr.write(
                `\r${formatProgress(p, elapsed())}${args.endpoint ? ` | ${engine.activity?.().inFlight ?? p.inFlight} in flight` : ''}\u001b[K`,
              )
          : undefined,
        stallWarnS: Math.min(60, args.requestTimeoutS / 2),
        onStall: (s) =>
          process.stderr.write(
            `${tty ? '\n' : ''}no completion for ${s.seconds} s with ${s.inFlight} request(s) in flight; a request fails after ${args.requestTimeoutS} s (--request-timeout-s)\n`,
          ),
      });
      if (tty) process.stderr.write('\n');
      const secs = elapsed();
      const summary = {
        out: args.out,
        samples: result.done,
        written: result.written,
        resumed: result.resumed,
        correct: result.correct,
        accuracyOfWritten: result.written > 0 ? result.correct / result.written : null,
        tokens: result.tokens,
        seconds: secs,
        samplesPerSecond: secs > 0 ? result.written / secs : 0,
        tokensPerSecond: secs > 0 ? result.tokens / secs : 0,
      };
      createOutput(args.json).result(
        summary,
        () =>
          `sampled ${result.written} (resumed ${result.resumed}, total ${result.done}) in ${formatDuration(secs)}: ` +
          `${summary.samplesPerSecond.toFixed(2)} samples/s, ${summary.tokensPerSecond.toFixed(1)} tokens/s, ` +
          `${result.correct}/${result.written} correct → ${args.out}`,
      );
    } finally {
      dispose();
    }
  },
};
