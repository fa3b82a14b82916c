/**
 * `npm run bench:compare -- --config tiny [--phase ...] [--reps N]`: runs the irpo bench, then the
 * PyTorch peer (tools/bench/peer/bench.py), back to back on the same shapes, and prints every
 * line of both plus one ratio line per phase: irpo tokens/s ÷ torch tokens/s.
 *
 * IRPO_BENCH_PYTHON picks the interpreter (default /usr/bin/python3, Debian's python3-torch);
 * IRPO_BENCH_BLAS_DIR is put first on the peer's LD_LIBRARY_PATH (an OpenBLAS libblas.so.3; see
 * the README: Debian's torch otherwise runs on whatever libblas.so.3 the system selected).
 */
import { spawnSync } from 'node:child_process';
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
  const python = process.env.IRPO_BENCH_PYTHON ?? '/usr/bin/python3';
  const blasDir = process.env.IRPO_BENCH_BLAS_DIR;
  const env = blasDir ? { ...process.env, LD_LIBRARY_PATH: [blasDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } : process.env;
  const torch = run(python, [path.join(here, '..', 'peer', 'bench.py'), ...common], env) ?? [];
  if (torch.length === 0) process.stderr.write('bench:compare: no PyTorch figures (peer skipped); ratios are null\n');
  for (const phase of args.phases) {
    const a = irpo.find((l) => l.phase === phase);
    const b = torch.find((l) => l.phase === phase);
    const ratio = a?.tokens_per_s && b?.tokens_per_s ? Math.round((a.tokens_per_s / b.tokens_per_s) * 1000) / 1000 : null;
    const line = {
      compare: 'irpo/torch',
      config: args.config,
      phase,
      irpo_tokens_per_s: a?.tokens_per_s ?? null,
      torch_tokens_per_s: b?.tokens_per_s ?? null,
      ratio,
    };
    process.stdout.write(JSON.stringify(line) + '\n');
  }
}

try {
  main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`bench:compare: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof UsageError ? 2 : 1);
}
