/**
 * `npm run bench -- --config tiny|small|smollm --phase train|reflogp|sample|all [--backend wasm]
 * [--threads N] [--reps N] [--warmup N]`: one JSON line per phase on stdout. Several phases run one child
 * process each, so every line's peak memory belongs to its phase alone.
 */
import { spawnSync } from 'node:child_process';
import { UsageError } from '@irpo/contracts';
import { initBackend, tf, wasmThreads } from '@irpo/core';
import { parseBenchArgs, type Phase } from './args.js';
import { BENCH_CONFIGS } from './configs.js';
import { mallocEnv, memoryPeaks, timeSteps } from './measure.js';
import { reflogpPhase, samplePhase, trainPhase, type PhaseRun } from './phases.js';

const PHASE_RUNS: Record<Phase, typeof trainPhase> = { train: trainPhase, reflogp: reflogpPhase, sample: samplePhase };

async function main(argv: string[]): Promise<void> {
  const args = parseBenchArgs(argv);
  if (args.phases.length > 1) {
    let failed = false;
    for (const phase of args.phases) {
      const rest = argv.filter((_, i) => argv[i] !== '--phase' && argv[i - 1] !== '--phase' && !argv[i]!.startsWith('--phase='));
      const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, ...rest, '--phase', phase], { stdio: 'inherit' });
      if (child.status === 2) process.exit(2);
      // A phase that dies (e.g. the wasm heap's 4 GiB limit) is reported; the others still run.
      if (child.status !== 0) {
        process.stdout.write(
          JSON.stringify({
            framework: 'irpo',
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
  const phase = args.phases[0]!;
  const config = BENCH_CONFIGS[args.config]!;
  const reps = args.reps ?? config.reps;
  const backend = await initBackend(args.backend, { threads: args.threads });
  const run: PhaseRun = PHASE_RUNS[phase](config, { lora: args.lora });
  const timing = await timeSteps(run, reps, args.warmup);
  run.dispose();
  const line = {
    framework: 'irpo',
    backend: backend.name,
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
    threads: backend.name === 'wasm' ? wasmThreads() : null,
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
