/**
 * `npm run bench:compare -- --config tiny [--phase ...] [--runtime tfjs,onnx] [--reps N]`: runs the irpo
 * bench (on TensorFlow.js and on ONNX Runtime, a row each, unless --runtime names one), then the
 * PyTorch peer (tools/bench/peer/bench.py) on the same shapes under each setting that moves torch
 * by more than 10% (OMP_WAIT_POLICY PASSIVE and ACTIVE × 1 thread and every core), and prints
 * every line plus one ratio line per phase: irpo tokens/s ÷ the fastest torch setting's, naming
 * that setting. The 1-minute load average is read before and after each run; when it moved by
 * more than 1.0 the ratio is withheld (null, with why_no_ratio).
 *
 * IRPO_BENCH_PYTHON picks the interpreter (default /usr/bin/python3, Debian's python3-torch);
 * IRPO_BENCH_BLAS_DIR is put first on the peer's LD_LIBRARY_PATH (an OpenBLAS libblas.so.3; see
 * the README: Debian's torch otherwise runs on whatever libblas.so.3 the system selected).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '@irpo/contracts';
import { parseBenchArgs } from './args.js';

interface Line {
  framework: string;
  phase: string;
  tokens_per_s: number;
  [k: string]: unknown;
}

const here = path.dirname(fileURLToPath(import.meta.url));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Line[] | null {
  const child = spawnSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  if (child.error) {
    process.stderr.write(`bench:compare: cannot run ${cmd} (${child.error.message})\n`);
    return null;
  }
  process.stdout.write(child.stdout);
  if (child.status !== 0)
    process.stderr.write(`bench:compare: ${path.basename(cmd)} exited with ${child.status}; ratios use the phases that ran\n`);
  return child.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

/** One torch peer setting: libgomp's wait policy and torch's intra-op threads. */
interface PeerSetting {
  ompWaitPolicy: 'PASSIVE' | 'ACTIVE';
  threads: number;
}

/** The peer settings tried: both wait policies (ACTIVE is 1.3–1.9x faster on a quiet machine), 1 thread and every core. */
export function peerSettings(cores: number): PeerSetting[] {
  const threads = [...new Set([1, Math.max(1, cores)])];
  return (['PASSIVE', 'ACTIVE'] as const).flatMap((ompWaitPolicy) => threads.map((t) => ({ ompWaitPolicy, threads: t })));
}

/** Largest move of the 1-minute load average across the samples taken around each side's run. */
export function loadDrift(samples: number[]): number {
  return samples.length ? Math.max(...samples) - Math.min(...samples) : 0;
}

/** Above this change of the load average during a comparison, no ratio is printed (where /proc is missing). */
export const MAX_LOAD_DRIFT = 1.0;

/**
 * CPU accounting at one instant (Linux /proc, clock ticks): all CPUs' busy and stolen time, and
 * this process's with its waited-for children's (the benchmarks it ran).
 */
export interface CpuSample {
  wallMs: number;
  busyTicks: number;
  stealTicks: number;
  ownTicks: number;
}

/** Now's CpuSample; null without /proc. */
export function cpuSample(readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): CpuSample | null {
  try {
    const cpu = readFile('/proc/stat').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = cpu;
    // After the command name (which may hold spaces), field n of /proc/self/stat is token n - 3.
    const own = readFile('/proc/self/stat').split(')').pop()!.trim().split(/\s+/).map(Number);
    return {
      wallMs: performance.now(),
      busyTicks: user! + nice! + system! + (irq ?? 0) + (softirq ?? 0),
      stealTicks: steal ?? 0,
      ownTicks: own[11]! + own[12]! + own[13]! + own[14]!,
    };
  } catch {
    return null;
  }
}

/**
 * Cores' worth of CPU that something other than the benchmark used between two samples: busy
 * time not spent by this process or the benchmarks it waited for, plus time the hypervisor stole,
 * per second of wall time. The load average cannot tell this: a benchmark's own two threads
 * raise it by two.
 */
export function otherCores(a: CpuSample, b: CpuSample, ticksPerSecond = 100): number {
  const seconds = (b.wallMs - a.wallMs) / 1000;
  if (seconds <= 0) return 0;
  const other = b.busyTicks - a.busyTicks + (b.stealTicks - a.stealTicks) - (b.ownTicks - a.ownTicks);
  return Math.max(0, other / ticksPerSecond / seconds);
}

/** Above this much CPU used by others during either side's run, no ratio is printed. */
export const MAX_OTHER_CORES = 0.25;

/** The fastest peer line per phase, with the setting it ran under. */
export function bestPerPhase(lines: (Line & { setting: PeerSetting })[]): Map<string, Line & { setting: PeerSetting }> {
  const best = new Map<string, Line & { setting: PeerSetting }>();
  for (const l of lines) {
    const b = best.get(l.phase);
    if (!b || l.tokens_per_s > b.tokens_per_s) best.set(l.phase, l);
  }
  return best;
}

function main(argv: string[]): void {
  const args = parseBenchArgs(argv); // validates before either side starts
  const common = [
    '--config',
    args.config,
    '--phase',
    args.phases.join(','),
    '--warmup',
    String(args.warmup),
    ...(args.reps ? ['--reps', String(args.reps)] : []),
  ];
  const load: number[] = [os.loadavg()[0]!];
  const cpu: (CpuSample | null)[] = [cpuSample()];
  const irpo = run(
    process.execPath,
    [
      ...process.execArgv,
      path.join(here, 'main.ts'),
      ...common,
      '--backend',
      args.backend,
      // Both runtimes unless one is named: a row per engine.
      '--runtime',
      (args.runtimeGiven ? args.runtimes : ['tfjs', 'onnx']).join(','),
      ...(args.threads ? ['--threads', String(args.threads)] : []),
    ],
    process.env,
  )!;
  load.push(os.loadavg()[0]!);
  cpu.push(cpuSample());
  const python = process.env.IRPO_BENCH_PYTHON ?? '/usr/bin/python3';
  const blasDir = process.env.IRPO_BENCH_BLAS_DIR;
  const baseEnv = blasDir
    ? { ...process.env, LD_LIBRARY_PATH: [blasDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') }
    : process.env;
  // The peer at its best: every setting that moves torch by more than 10% is tried, and each
  // phase's ratio is taken against the fastest (the README's figures before this were against
  // PASSIVE only, which flattered irpo by 1.3–1.9x on a quiet machine).
  const torch: (Line & { setting: PeerSetting })[] = [];
  for (const setting of peerSettings(os.availableParallelism())) {
    const env = { ...baseEnv, OMP_WAIT_POLICY: setting.ompWaitPolicy };
    const lines = run(python, [path.join(here, '..', 'peer', 'bench.py'), ...common, '--threads', String(setting.threads)], env) ?? [];
    load.push(os.loadavg()[0]!);
    cpu.push(cpuSample());
    torch.push(...lines.map((l) => ({ ...l, setting })));
  }
  if (torch.length === 0) process.stderr.write('bench:compare: no PyTorch figures (peer skipped); ratios are null\n');
  const best = bestPerPhase(torch);
  // Others' CPU during each run (irpo's, then each peer setting's); without /proc, the load average's drift.
  const samples = cpu.every((c) => c !== null) ? (cpu as CpuSample[]) : null;
  const others = samples ? samples.slice(1).map((c, i) => Math.round(otherCores(samples[i]!, c) * 100) / 100) : null;
  const drift = loadDrift(load);
  const why = others
    ? Math.max(...others) > MAX_OTHER_CORES
      ? `other processes used up to ${Math.max(...others).toFixed(2)} cores during a run (> ${MAX_OTHER_CORES})`
      : null
    : drift > MAX_LOAD_DRIFT
      ? `load average moved by ${drift.toFixed(2)} (> ${MAX_LOAD_DRIFT})`
      : null;
  const unsteady = why !== null;
  if (unsteady) process.stderr.write(`bench:compare: ${why}; no ratio printed: rerun on a quiet machine\n`);
  for (const a of irpo.filter((l) => args.phases.includes(l.phase as never))) {
    const phase = a.phase;
    const b = best.get(phase);
    const ratio = !unsteady && a?.tokens_per_s && b?.tokens_per_s ? Math.round((a.tokens_per_s / b.tokens_per_s) * 1000) / 1000 : null;
    const line = {
      compare: 'irpo/torch-best',
      engine: a.engine ?? 'tfjs',
      config: args.config,
      phase,
      irpo_tokens_per_s: a?.tokens_per_s ?? null,
      torch_tokens_per_s: b?.tokens_per_s ?? null,
      torch_setting: b ? { omp_wait_policy: b.setting.ompWaitPolicy, threads: b.setting.threads } : null,
      torch_all: torch.filter((l) => l.phase === phase).map((l) => ({ ...l.setting, tokens_per_s: l.tokens_per_s })),
      load_avg_1m: load.map((l) => Math.round(l * 100) / 100),
      other_cores: others,
      ratio,
      ...(unsteady ? { why_no_ratio: why } : {}),
    };
    process.stdout.write(JSON.stringify(line) + '\n');
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench:compare: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  }
}
