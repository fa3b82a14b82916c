/**
 * `npm run bench:profile -- --config tiny --phase train [--threads N] [--reps N]`: where one step's
 * time goes, kernel by kernel. Runs a warm-up step, then `reps` steps under `tf.profile`, and
 * prints one JSON line: the step's wall time with and without the profiler, the kernels' sum, and
 * per kernel name (and per shape for the matmuls) the time per step, the share of the step, the
 * calls and, for matmuls, the GFLOP/s they ran at. The profiler times each kernel synchronously
 * (wasm has no async timer), so the kernels' sum is close to their real cost; the rest of the step
 * (JavaScript between kernels, host AdamW, gradient bookkeeping) is `outside_kernels_ms`.
 */
import { UsageError } from '@irpo/contracts';
import { initBackend, tf, wasmThreads } from '@irpo/core';
import { parseBenchArgs, type Phase } from './args.js';
import { BENCH_CONFIGS } from './configs.js';
import { median } from './measure.js';
import { reflogpPhase, samplePhase, trainPhase, type PhaseRun } from './phases.js';

const PHASE_RUNS: Record<Phase, typeof trainPhase> = { train: trainPhase, reflogp: reflogpPhase, sample: samplePhase };

interface KernelRecord {
  name: string;
  inputShapes: (number[] | null)[];
  outputShapes: number[][];
  kernelTimeMs: number | { error: string };
}

/**
 * Multiply-adds of a BatchMatMul/_FusedMatMul from its shapes alone: out = [..., M, N], and a's
 * last two dims are M and K in either order, so K = size(a) / (a's batch · M). Unknown → null.
 */
function matmulMacs(k: KernelRecord): number | null {
  const [a] = k.inputShapes;
  const out = k.outputShapes[0];
  if (!a || a.length < 2 || !out || out.length < 2) return null;
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
  const depth = size(a) / (size(a.slice(0, -2)) * out[out.length - 2]!);
  return size(out) * depth;
}

async function main(argv: string[]): Promise<void> {
  const args = parseBenchArgs(argv);
  if (args.phases.length !== 1) throw new UsageError('profile: name one --phase (train, reflogp or sample)');
  const phase = args.phases[0]!;
  const config = BENCH_CONFIGS[args.config]!;
  const reps = args.reps ?? 3;
  const backend = await initBackend(args.backend, { threads: args.threads });
  const run: PhaseRun = PHASE_RUNS[phase](config, { lora: args.lora });
  for (let i = 0; i < Math.max(1, args.warmup); i++) await run.step();
  const plain: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run.step();
    plain.push(performance.now() - t0);
  }
  const wall: number[] = [];
  const byKey = new Map<string, { name: string; shapes: string; ms: number; calls: number; macs: number | null }>();
  let kernelsSum = 0;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const info = await tf.profile(() => run.step());
    wall.push(performance.now() - t0);
    for (const k of info.kernels as unknown as KernelRecord[]) {
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      kernelsSum += ms;
      const isMatmul = k.name === 'BatchMatMul' || k.name === '_FusedMatMul';
      const shapes = isMatmul ? `${JSON.stringify(k.inputShapes)}→${JSON.stringify(k.outputShapes[0])}` : '';
      const key = `${k.name}|${shapes}`;
      const e = byKey.get(key) ?? { name: k.name, shapes, ms: 0, calls: 0, macs: isMatmul ? 0 : null };
      e.ms += ms;
      e.calls += 1;
      if (e.macs !== null) e.macs += matmulMacs(k) ?? 0;
      byKey.set(key, e);
    }
  }
  run.dispose();
  const stepMs = median(plain);
  const perStep = (x: number) => Math.round((x / reps) * 100) / 100;
  // Group by kernel name (matmuls also listed per shape).
  const byName = new Map<string, { ms: number; calls: number; macs: number | null }>();
  for (const e of byKey.values()) {
    const g = byName.get(e.name) ?? { ms: 0, calls: 0, macs: e.macs === null ? null : 0 };
    g.ms += e.ms;
    g.calls += e.calls;
    if (g.macs !== null && e.macs !== null) g.macs += e.macs;
    byName.set(e.name, g);
  }
  const gflops = (macs: number | null, ms: number) => (macs === null || ms <= 0 ? null : Math.round(((2 * macs) / (ms * 1e6)) * 10) / 10);
  const kernels = [...byName.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([name, g]) => ({
      name,
      ms_per_step: perStep(g.ms),
      share: Math.round((g.ms / reps / stepMs) * 1000) / 1000,
      calls_per_step: g.calls / reps,
      ...(g.macs !== null ? { gflops: gflops(g.macs, g.ms) } : {}),
    }));
  const matmuls = [...byKey.values()]
    .filter((e) => e.macs !== null)
    .sort((a, b) => b.ms - a.ms)
    .map((e) => ({ shapes: e.shapes, ms_per_step: perStep(e.ms), calls_per_step: e.calls / reps, gflops: gflops(e.macs, e.ms) }));
  const line = {
    framework: 'irpo',
    profile: phase,
    config: config.name,
    backend: backend.name,
    threads: backend.name === 'wasm' ? wasmThreads() : null,
    step_ms: Math.round(stepMs * 10) / 10,
    profiled_step_ms: Math.round(median(wall) * 10) / 10,
    kernels_ms: perStep(kernelsSum),
    outside_kernels_ms: Math.round((stepMs - kernelsSum / reps) * 10) / 10,
    kernels,
    matmuls,
  };
  process.stdout.write(JSON.stringify(line) + '\n');
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`bench:profile: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof UsageError ? 2 : 1);
});
