import { dirname, join } from 'node:path';
import { UsageError, writeFileAtomic, writeJsonAtomic } from '@irpo/contracts';
import type { Argv, CommandModule } from 'yargs';
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

interface EvalArgs {
  samples?: string;
  task: string;
  split: string;
  model?: string;
  adapter?: string;
  runtime: 'auto' | 'onnx' | 'tfjs';
  promptFormat: 'auto' | 'chat' | 'plain';
  endpoint?: string;
  servedModel?: string;
  apiKeyEnv: string;
  concurrency: number;
  requestTimeoutS: number;
  limit?: number;
  dataPath?: string;
  maxNewTokens: number;
  temperature: number;
  seed: number;
  maj?: number[];
  pass?: number[];
  problems?: string;
  breakdown?: string[];
  out?: string;
  json: boolean;
}

/**
 * `irpo eval`: greedy accuracy and maj@k of a model (`--model <dir>` or `--endpoint <url>`) on a
 * task split, or the score of an existing samples.jsonl (`--samples`). Writes eval.json, eval.md.
 */
export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Evaluate a model (--model/--endpoint) on a task split, or score a samples.jsonl: greedy, maj@k, pass@k with 95% intervals',
  builder: (y) =>
    y
      .option('samples', { type: 'string', describe: 'samples.jsonl to score (temperature-0 samples are the greedy answers)' })
      .option('task', {
        type: 'string',
        demandOption: true,
        describe: 'Task name (arith, gsm8k, math, arc): its answer normaliser is used for voting',
      })
      .option('split', { type: 'string', default: 'test', describe: 'Split the samples come from' })
      .option('model', {
        type: 'string',
        describe: 'Model folder to evaluate (Hugging Face layout); with --samples, the name recorded in eval.json',
      })
      .option('adapter', ADAPTER_OPTION)
      .option('runtime', RUNTIME_OPTION)
      .option('prompt-format', PROMPT_FORMAT_OPTION)
      .option('endpoint', { type: 'string', describe: 'OpenAI-compatible API root to evaluate instead of a local model' })
      .option('served-model', { type: 'string', describe: 'Model name at the endpoint (default: its first /v1/models entry)' })
      .option('api-key-env', { type: 'string', default: 'OPENAI_API_KEY', describe: 'Environment variable with the endpoint API key' })
      .option('concurrency', CONCURRENCY_OPTION)
      .option('request-timeout-s', REQUEST_TIMEOUT_OPTION)
      .option('limit', { type: 'number', describe: 'Evaluate the first N problems of the split' })
      .option('data-path', { type: 'string', describe: 'Data file or folder of the task (gsm8k, math, arc)' })
      .option('max-new-tokens', { type: 'number', default: 512, describe: 'Longest completion' })
      .option('temperature', { type: 'number', default: 0.8, describe: 'Temperature of the maj@k samples' })
      .option('seed', { type: 'number', default: 0, describe: 'Seed of the maj@k samples' })
      .option('maj', { type: 'number', array: true, describe: 'maj@k to report (default: all samples per problem)' })
      .option('pass', { type: 'number', array: true, describe: 'pass@k to report (default: 1 and all samples per problem)' })
      .option('problems', {
        type: 'string',
        describe: 'problems.jsonl of the split: counts problems without samples and gives meta for --breakdown',
      })
      .option('breakdown', { type: 'string', array: true, describe: 'Problem meta fields to break accuracy down by (e.g. subject level)' })
      .option('out', { type: 'string', describe: 'Folder for eval.json and eval.md (default: beside the samples)' })
      .example('irpo eval --task gsm8k --data-path data/gsm8k --model runs/x/iter-2/model --maj 32', 'Greedy and maj@32 on GSM8K test')
      .example('irpo eval --samples runs/x/iter-1/samples.jsonl --task arith', 'Score existing samples') as unknown as Argv<EvalArgs>, // --json is a global option, added by the parser
  handler: async (args) => {
    if (args.adapter !== undefined && args.model === undefined)
      throw new UsageError('--adapter needs --model: the base model folder the adapter was trained on');
    // Loaded here, not at the top: every other command would otherwise pay for loading vega.
    const { evalMarkdown, loadScoringTask, scoreSamplesFile, voteOptions } = await import('@irpo/evaluator');
    for (const k of [...(args.maj ?? []), ...(args.pass ?? [])]) {
      if (!Number.isInteger(k) || k < 1) throw new UsageError(`--maj/--pass take positive integers, got ${k}`);
    }
    if (!args.samples) {
      if (Boolean(args.model) === Boolean(args.endpoint))
        throw new UsageError('irpo eval needs --samples <file>, or one of --model <dir> / --endpoint <url>');
      await evalWithModel(args, evalMarkdown);
      return;
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
      ...(task ? voteOptions(task) : {}),
    });
    const outDir = args.out ?? dirname(args.samples);
    const md = evalMarkdown(report, notes);
    await writeJsonAtomic(join(outDir, 'eval.json'), report);
    await writeFileAtomic(join(outDir, 'eval.md'), md);
    createOutput(args.json).result(report, () => md.trimEnd() + `\n\nWrote ${join(outDir, 'eval.json')} and eval.md`);
  },
};

async function evalWithModel(args: EvalArgs, evalMarkdown: (r: import('@irpo/contracts').EvalReport) => string): Promise<void> {
  if ((args.maj?.length ?? 0) > 1) throw new UsageError('with --model/--endpoint give one --maj k');
  const { evaluateModel, createProgress, engineProgress } = await import('@irpo/recipes');
  const { HttpEngine, LocalEngine } = await import('@irpo/sampler');
  const task = await getTaskByName(args.task, { path: args.dataPath });
  const problems = await task.load(args.split as 'train' | 'test' | 'dev', { limit: args.limit });
  const outDir = args.out ?? (args.model ? join(args.model, `eval-${args.task}-${args.split}`) : `eval-${args.task}-${args.split}`);
  let engine: import('@irpo/sampler').Engine;
  let dispose = () => undefined as void;
  if (args.endpoint) {
    engine = new HttpEngine({
      baseUrl: args.endpoint,
      model: args.servedModel ?? (await firstServedModel(args.endpoint, args.apiKeyEnv)),
      apiKeyEnv: args.apiKeyEnv,
      concurrency: args.concurrency,
      timeoutMs: args.requestTimeoutS * 1000,
    });
  } else {
    const loaded = await loadModelFrom(args.model!, args.adapter);
    const { promptFormat } = await import('@irpo/model');
    engine = new LocalEngine(await inferenceModelOf(loaded, args.runtime), loaded.tokenizer, {
      promptFormat: promptFormat(loaded.tokenizer, args.promptFormat),
    });
    dispose = () => loaded.model.dispose();
  }
  try {
    const majK = args.maj?.[0] ?? 0;
    const progress = createProgress(process.stderr, args.json);
    const report = await evaluateModel(engine, task, problems, {
      modelName: args.model ?? args.endpoint!,
      split: args.split,
      maxNewTokens: args.maxNewTokens,
      majK,
      temperature: args.temperature,
      seed: args.seed,
      greedyFile: join(outDir, 'greedy.jsonl'),
      votesFile: join(outDir, `maj${majK}.jsonl`),
      out: join(outDir, 'eval.json'),
      progress,
      label: `${args.task}/${args.split}`,
      engineProgress: (extra) => engineProgress(progress, engine, args.requestTimeoutS, extra),
    });
    const md = evalMarkdown(report);
    await writeFileAtomic(join(outDir, 'eval.md'), md);
    createOutput(args.json).result(
      report,
      () => md.trimEnd() + `\n\nWrote ${join(outDir, 'eval.json')} and eval.md (samples beside them; rerun to resume)`,
    );
  } finally {
    dispose();
  }
}
