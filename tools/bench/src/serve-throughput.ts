/**
 * `npm run bench:serve -w @irpo/bench -- [--model DIR | --random-model HIDDEN,LAYERS] [--problems N]
 * [--n N] [--max-new-tokens N] [--concurrency N] [--no-batch-too] [--json]`: the throughput of
 * `irpo serve` (completion tokens per second) with one request in flight versus `--concurrency`
 * (default 8, as the loop's HttpEngine), on arith test prompts. The model is the demo's
 * arith-base unless --model or --random-model (a random character-level model of that width and
 * depth: a model whose matrix products outweigh the per-row work). The server is started with
 * launchEngine, from the built CLI when there is one (`npm run build`), else from the TypeScript
 * sources, with `--batch` (the default). With --no-batch-too, a second server started with `--no-batch`
 * (concurrent requests each run their own generate call, interleaved) shows what the
 * batching brings (irpo serve batches by default since 1.27–1.49x was measured at 8 in flight). Also checks that every run gives the same texts (per-request seeds).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '@irpo/contracts';
import { launchEngine, mapLimit } from '@irpo/sampler';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

interface Args {
  model: string;
  randomModel?: { hidden: number; layers: number };
  problems: number;
  n: number;
  maxNewTokens: number;
  concurrency: number;
  noBatchToo: boolean;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const out: Args = {
    model: join(repo, 'packages/recipes/assets/arith-base'),
    problems: 32,
    n: 4,
    maxNewTokens: 64,
    concurrency: 8,
    noBatchToo: false,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag}: needs a value`);
      return v;
    };
    const count = () => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1) throw new UsageError(`${flag}: expected an integer ≥ 1, got '${argv[i]}'`);
      return v;
    };
    if (flag === '--model') out.model = value();
    else if (flag === '--random-model') {
      const [hidden, layers] = value().split(',').map(Number);
      if (!Number.isInteger(hidden) || hidden! % 64 !== 0 || !Number.isInteger(layers) || layers! < 1)
        throw new UsageError(`--random-model: expected HIDDEN,LAYERS with HIDDEN a multiple of 64, got '${argv[i]}'`);
      out.randomModel = { hidden: hidden!, layers: layers! };
    } else if (flag === '--problems') out.problems = count();
    else if (flag === '--n') out.n = count();
    else if (flag === '--max-new-tokens') out.maxNewTokens = count();
    else if (flag === '--concurrency') out.concurrency = count();
    else if (flag === '--no-batch-too') out.noBatchToo = true;
    else if (flag === '--json') out.json = true;
    else throw new UsageError(`unknown option ${flag}`);
  }
  return out;
}

interface Run {
  server: 'batching' | 'no-batch';
  inFlight: number;
  requests: number;
  completionTokens: number;
  seconds: number;
  tokensPerSecond: number;
  texts: string[][];
}

async function timeRun(
  baseUrl: string,
  model: string,
  prompts: string[],
  args: Args,
  inFlight: number,
  server: Run['server'],
): Promise<Run> {
  let completionTokens = 0;
  const start = performance.now();
  const texts = await mapLimit(prompts, inFlight, async (prompt, i) => {
    const res = await fetch(`${baseUrl}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        prompt,
        n: args.n,
        temperature: 1,
        max_tokens: args.maxNewTokens,
        stop: ['\nQ:', '\n\n'],
        seed: 1000 + i,
      }),
    });
    if (!res.ok) throw new Error(`request ${i}: ${res.status} ${await res.text()}`);
    const json = (await res.json()) as { choices: { index: number; text: string }[]; usage: { completion_tokens: number } };
    completionTokens += json.usage.completion_tokens;
    return [...json.choices].sort((a, b) => a.index - b.index).map((c) => c.text);
  });
  const seconds = (performance.now() - start) / 1000;
  return { server, inFlight, requests: prompts.length, completionTokens, seconds, tokensPerSecond: completionTokens / seconds, texts };
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const { getTask } = await import('@irpo/data');
  const task = await getTask('arith');
  const prompts = (await task.load('test', { limit: args.problems })).map((p) => task.prompt(p));
  const built = join(repo, 'apps/cli/dist/main.js');
  const cli = existsSync(built)
    ? `${process.execPath} ${join(repo, 'apps/cli/bin/irpo.js')}`
    : `${process.execPath} --conditions=@irpo/source --import ${join(repo, 'tools/test-support/ts-loader.mjs')} ${join(repo, 'apps/cli/src/main.ts')}`;
  const dir = await mkdtemp(join(tmpdir(), 'irpo-bench-serve-'));
  const runs: Run[] = [];
  try {
    if (args.randomModel)
      args.model = await randomModel(join(dir, `random-${args.randomModel.hidden}x${args.randomModel.layers}`), args.randomModel);
    for (const server of args.noBatchToo ? (['batching', 'no-batch'] as const) : (['batching'] as const)) {
      const engine = await launchEngine({
        command: `${cli} serve {model} --port {port} --seed {seed} --log-level warn ${server === 'no-batch' ? '--no-batch' : '--batch'}`,
        model: args.model,
        seed: 0,
        logFile: join(dir, `serve-${server}.log`),
        startupTimeoutS: 300,
      });
      try {
        await timeRun(engine.baseUrl, engine.modelName, prompts.slice(0, 2), args, 1, server); // warm-up: kernels, heap
        for (const inFlight of [1, args.concurrency]) {
          const run = await timeRun(engine.baseUrl, engine.modelName, prompts, args, inFlight, server);
          runs.push(run);
          if (!args.json)
            process.stdout.write(
              `${server.padEnd(8)}  ${String(inFlight).padStart(2)} in flight: ${run.completionTokens} tokens in ${run.seconds.toFixed(1)} s = ${run.tokensPerSecond.toFixed(1)} tokens/s\n`,
            );
        }
      } finally {
        await engine.stop();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const reference = JSON.stringify(runs[0]!.texts);
  const identical = runs.every((r) => JSON.stringify(r.texts) === reference);
  const speedup = runs[1]!.tokensPerSecond / runs[0]!.tokensPerSecond;
  // batching vs no batching, both with `concurrency` requests in flight
  const overNoBatch = runs.length === 4 ? runs[1]!.tokensPerSecond / runs[3]!.tokensPerSecond : undefined;
  if (args.json) {
    const summary = runs.map(({ texts: _texts, ...r }) => r);
    process.stdout.write(
      JSON.stringify({
        model: args.randomModel ?? args.model,
        problems: args.problems,
        n: args.n,
        runs: summary,
        speedup,
        overNoBatch,
        identical,
      }) + '\n',
    );
  } else {
    process.stdout.write(
      `batching server, ${args.concurrency} in flight vs 1: ×${speedup.toFixed(2)}` +
        (overNoBatch === undefined ? '' : `; vs the no-batch server, ${args.concurrency} in flight: ×${overNoBatch.toFixed(2)}`) +
        `; same texts in every run: ${identical}\n`,
    );
  }
  if (!identical) process.exitCode = 1;
}

/** A random character-level Llama over the arith characters, 64-wide heads. */
async function randomModel(dir: string, size: { hidden: number; layers: number }): Promise<string> {
  const { ModelSpecSchema } = await import('@irpo/contracts');
  const { initBackend } = await import('@irpo/core');
  const { ARITH_CHARSET } = await import('@irpo/data');
  const { CharTokenizer, createModel, saveModel } = await import('@irpo/model');
  await initBackend('cpu');
  const tokenizer = new CharTokenizer(ARITH_CHARSET);
  const spec = ModelSpecSchema.parse({
    vocabSize: tokenizer.vocabSize,
    hiddenSize: size.hidden,
    intermediateSize: Math.round((size.hidden * 8) / 3 / 64) * 64,
    numLayers: size.layers,
    numHeads: size.hidden / 64,
    numKvHeads: size.hidden / 64,
    maxPositions: 512,
    tieWordEmbeddings: true,
    eosTokenId: tokenizer.eosTokenIds[0],
  });
  const model = createModel(spec, { seed: 1 });
  await mkdir(dir, { recursive: true });
  await saveModel(dir, model, tokenizer);
  model.dispose();
  return dir;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
