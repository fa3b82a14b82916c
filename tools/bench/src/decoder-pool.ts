/**
 * `npm run bench:pool -w @irpo/bench -- [--config tiny|small|smollm|demo ...] [--reps N]`: decoding
 * on ONNX Runtime with one session (all intra-op threads, on this thread) against OnnxDecoderPool
 * (one worker thread per core, the threads shared out), alternating, one JSON line per config and
 * decoder. tiny/small/smollm: the bench's random models, one generate call of two prompts × the
 * config's sampleRows (two batches) at temperature 0.8, no EOS. demo: the demo's sampling stage,
 * the shipped arith-base sampling 200 training problems × 8 through sampleDataset (batches of
 * 64 rows, as `irpo demo`), seconds per stage. Also checks that both decoders give the same tokens.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '@irpo/contracts';
import { initBackend } from '@irpo/core';
import { getTask } from '@irpo/data';
import { createModel, loadModel } from '@irpo/model';
import { decoderLanes, OnnxDecoderPool, OnnxLlama } from '@irpo/onnx';
import { DEMO_ARITH } from '@irpo/recipes';
import { LocalEngine, sampleDataset, type HostDecoder, type Tokenizer } from '@irpo/sampler';
import { BENCH_CONFIGS } from './configs.js';
import { median } from './measure.js';
import { idTokenizer } from './phases.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

function parseArgs(argv: string[]): { configs: string[]; reps: number } {
  const configs: string[] = [];
  let reps = 3;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[++i];
    if (value === undefined) throw new UsageError(`${flag}: needs a value`);
    if (flag === '--config') {
      if (value !== 'demo' && !BENCH_CONFIGS[value]) throw new UsageError(`--config: tiny, small, smollm or demo, got '${value}'`);
      configs.push(value);
    } else if (flag === '--reps') {
      reps = Number(value);
      if (!Number.isInteger(reps) || reps < 1) throw new UsageError(`--reps: expected an integer ≥ 1, got '${value}'`);
    } else throw new UsageError(`unknown option ${flag}`);
  }
  return { configs: configs.length > 0 ? configs : ['tiny', 'small', 'smollm', 'demo'], reps };
}

interface Work {
  /** Units of one repetition (tokens, or samples for demo). */
  units: number;
  unit: string;
  run(decoder: HostDecoder, tokenizer: Tokenizer): Promise<string>;
}

async function setUp(config: string): Promise<{ onnx: OnnxLlama; tokenizer: Tokenizer; work: Work }> {
  if (config === 'demo') {
    const { model, tokenizer } = await loadModel(join(repo, 'packages/recipes/assets/arith-base'));
    const onnx = await OnnxLlama.fromModel(model);
    model.dispose();
    const task = getTask('arith', DEMO_ARITH);
    const problems = (await task.load('train')).slice(0, 200);
    const out = join(tmpdir(), `irpo-bench-pool-${process.pid}.jsonl`);
    const work: Work = {
      units: 200 * 8,
      unit: 'samples',
      async run(decoder) {
        rmSync(out, { force: true });
        const engine = new LocalEngine(decoder, tokenizer, { maxBatchSize: 64 });
        await sampleDataset(problems, task, engine, { n: 8, temperature: 1, maxNewTokens: 96, seed: 1, out, batchSize: 8 });
        const text = readFileSync(out, 'utf8');
        rmSync(out, { force: true });
        return text;
      },
    };
    return { onnx, tokenizer, work };
  }
  const c = BENCH_CONFIGS[config]!;
  const model = createModel(c.spec, { seed: 0 });
  const onnx = await OnnxLlama.fromModel(model);
  model.dispose();
  const tokenizer = idTokenizer(c.spec.vocabSize);
  const prompt = Array.from({ length: c.samplePrompt }, (_, i) => String.fromCharCode(40 + ((i * 7) % 60))).join('');
  const work: Work = {
    units: 2 * c.sampleRows * c.newTokens,
    unit: 'tokens',
    async run(decoder) {
      const engine = new LocalEngine(decoder, tokenizer, { maxBatchSize: c.sampleRows, addSpecialTokens: false });
      const r = await engine.generate({
        prompts: [prompt, `${prompt}x`],
        n: c.sampleRows,
        temperature: 0.8,
        maxNewTokens: c.newTokens,
        seed: 1,
      });
      return JSON.stringify(r.map((cs) => cs.map((x) => x.tokenIds)));
    },
  };
  return { onnx, tokenizer, work };
}

async function main(): Promise<void> {
  const { configs, reps } = parseArgs(process.argv.slice(2));
  await initBackend();
  for (const config of configs) {
    const { onnx, tokenizer, work } = await setUp(config);
    await onnx.session('decode');
    const lanes = Math.max(2, decoderLanes(onnx.spec, onnx.threads));
    const pool = await OnnxDecoderPool.create(onnx, { workers: lanes });
    const decoders: [string, HostDecoder, number][] = [
      ['session', onnx, onnx.threads],
      ['pool', pool, pool.threadsPerWorker],
    ];
    const times = new Map<string, number[]>(decoders.map(([name]) => [name, []]));
    const outputs = new Map<string, string>();
    // One untimed warm-up each, then alternating repetitions (the machine drifts between minutes).
    for (const [name, d] of decoders) outputs.set(name, await work.run(d, tokenizer));
    for (let r = 0; r < reps; r++)
      for (const [name, d] of decoders) {
        const t0 = performance.now();
        await work.run(d, tokenizer);
        times.get(name)!.push(performance.now() - t0);
      }
    const same = outputs.get('session') === outputs.get('pool');
    for (const [name, , threads] of decoders) {
      const ms = times.get(name)!;
      console.log(
        JSON.stringify({
          bench: 'decoder-pool',
          config,
          decoder: name,
          workers: name === 'pool' ? lanes : 1,
          intra_op_threads: threads,
          [`${work.unit}_per_s`]: Math.round((work.units / median(ms)) * 1000),
          median_ms: Math.round(median(ms)),
          times_ms: ms.map(Math.round),
          same_output: same,
        }),
      );
    }
    await pool.dispose();
    await onnx.dispose();
    if (!same) process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof UsageError ? `bench:pool: ${e.message}` : e);
  process.exit(e instanceof UsageError ? 2 : 1);
});
