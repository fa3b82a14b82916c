/**
 * `npm run bench:compare -- --config tiny [--phase ...] [--reps N]`: runs the irpo bench, then the
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

/** Above this change of the load average during a comparison, no ratio is printed. */
export const MAX_LOAD_DRIFT = 1.0;

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
  const irpo = run(
    process.execPath,
    [
      ...process.execArgv,
      path.join(here, 'main.ts'),
      ...common,
      '--backend',
      args.backend,
      ...(args.threads ? ['--threads', String(args.threads)] : []),
    ],
    process.env,
  )!;
  load.push(os.loadavg()[0]!);
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
    torch.push(...lines.map((l) => ({ ...l, setting })));
  }
  if (torch.length === 0) process.stderr.write('bench:compare: no PyTorch figures (peer skipped); ratios are null\n');
  const best = bestPerPhase(torch);
  const drift = loadDrift(load);
  const unsteady = drift > MAX_LOAD_DRIFT;
  if (unsteady)
    process.stderr.write(
      `bench:compare: the load average moved by ${drift.toFixed(2)} during the comparison (${load.map((l) => l.toFixed(2)).join(' → ')}); ` +
        `no ratio printed: rerun on a quiet machine\n`,
    );
  for (const phase of args.phases) {
    const a = irpo.find((l) => l.phase === phase);
    const b = best.get(phase);
    const ratio = !unsteady && a?.tokens_per_s && b?.tokens_per_s ? Math.round((a.tokens_per_s / b.tokens_per_s) * 1000) / 1000 : null;
    const line = {
      compare: 'irpo/torch-best',
      config: args.config,
      phase,
      irpo_tokens_per_s: a?.tokens_per_s ?? null,
      torch_tokens_per_s: b?.tokens_per_s ?? null,
      torch_setting: b ? { omp_wait_policy: b.setting.ompWaitPolicy, threads: b.setting.threads } : null,
      torch_all: torch.filter((l) => l.phase === phase).map((l) => ({ ...l.setting, tokens_per_s: l.tokens_per_s })),
      load_avg_1m: load.map((l) => Math.round(l * 100) / 100),
      ratio,
      ...(unsteady ? { why_no_ratio: `load average moved by ${drift.toFixed(2)} (> ${MAX_LOAD_DRIFT})` } : {}),
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
