/**
 * `npm run bench -- --config tiny|small|smollm --phase train|reflogp|sample|all [--backend wasm]
 * [--runtime tfjs|onnx|tfjs,onnx] [--threads N] [--reps N] [--warmup N]`: one JSON line per phase
 * and runtime on stdout (`engine` says which). Several phases run one child
 * process each, so every line's peak memory belongs to its phase alone.
 */
import { spawnSync } from 'node:child_process';
import { UsageError } from '@irpo/contracts';
import { initBackend, tf, wasmThreads } from '@irpo/core';
import { parseBenchArgs, type Phase } from './args.js';
import { BENCH_CONFIGS } from './configs.js';
import { mallocEnv, memoryPeaks, timeSteps } from './measure.js';
import { onnxReflogpPhase, onnxSamplePhase, reflogpPhase, samplePhase, trainPhase, type PhaseRun } from './phases.js';
import { loadOrt, ortThreads } from '@irpo/onnx';

const PHASE_RUNS: Record<Phase, typeof trainPhase> = { train: trainPhase, reflogp: reflogpPhase, sample: samplePhase };
const ONNX_RUNS: Partial<Record<Phase, (c: (typeof BENCH_CONFIGS)[string], threads?: number) => Promise<PhaseRun>>> = {
  reflogp: onnxReflogpPhase,
  sample: onnxSamplePhase,
};

async function main(argv: string[]): Promise<void> {
  const args = parseBenchArgs(argv);
  // One child per phase and runtime (ONNX Runtime runs reflogp and sample; training is TensorFlow.js only).
  const jobs = args.runtimes.flatMap((runtime) =>
    args.phases.filter((phase) => runtime === 'tfjs' || ONNX_RUNS[phase]).map((phase) => ({ runtime, phase })),
  );
  if (jobs.length === 0)
    throw new UsageError(`--runtime onnx runs ${Object.keys(ONNX_RUNS).join(' and ')} only (training is TensorFlow.js)`);
  if (jobs.length > 1) {
    let failed = false;
    const drop = new Set(['--phase', '--runtime']);
    for (const { runtime, phase } of jobs) {
      const rest = argv.filter(
        (a, i) => !drop.has(a) && !drop.has(argv[i - 1]!) && !a.startsWith('--phase=') && !a.startsWith('--runtime='),
      );
      const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, ...rest, '--phase', phase, '--runtime', runtime], {
        stdio: 'inherit',
      });
      if (child.status === 2) process.exit(2);
      // A phase that dies (e.g. the wasm heap's 4 GiB limit) is reported; the others still run.
      if (child.status !== 0) {
        process.stdout.write(
          JSON.stringify({
            framework: 'irpo',
            engine: runtime,
            backend: args.backend,
            config: args.config,
            phase,
            error: `exited with ${child.status ?? child.signal}`,
          }) + '\n',
        );
        failed = true;
      }
    }
    if (failed) process.exitCode = 1;
    return;
  }
  const { runtime, phase } = jobs[0]!;
  const config = BENCH_CONFIGS[args.config]!;
  const reps = args.reps ?? config.reps;
  const backend = await initBackend(args.backend, { threads: args.threads });
  let onnx: { version: string; threads: number } | undefined;
  if (runtime === 'onnx') {
    const ort = await loadOrt();
    if (!ort.ok) throw new Error(`--runtime onnx: ${ort.reason}`);
    onnx = { version: ort.version, threads: ortThreads(args.threads) };
  }
  const run: PhaseRun = onnx ? await ONNX_RUNS[phase]!(config, onnx.threads) : PHASE_RUNS[phase](config, { lora: args.lora });
  const timing = await timeSteps(run, reps, args.warmup);
  run.dispose();
  const line = {
    framework: 'irpo',
    engine: runtime,
    backend: onnx ? `onnxruntime-node ${onnx.version}` : backend.name,
    config: config.name,
    phase,
    ...(args.lora !== undefined && phase === 'train' ? { lora_r: args.lora } : {}),
    tokens_per_s: Math.round((run.tokens / timing.median_ms) * 1000),
    median_ms: timing.median_ms,
    reps,
    ...memoryPeaks(),
    min_ms: timing.min_ms,
    times_ms: timing.times_ms,
    tokens: run.tokens,
    ...(reps < 5
      ? {
          note: `only ${reps} timed repetitions (fewer than the usual 5: ${config.name === 'smollm' ? 'smollm steps take long' : 'asked for'})`,
        }
      : {}),
    threads: onnx ? onnx.threads : backend.name === 'wasm' ? wasmThreads() : null,
    malloc: mallocEnv(),
    node: process.version,
    tfjs: tf.version_core,
    kernels: backend.kernels,
  };
  process.stdout.write(JSON.stringify(line) + '\n');
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof UsageError ? 2 : 1);
});
