import { UsageError } from '@irpo/contracts';
import { BENCH_CONFIGS } from './configs.js';

export const PHASES = ['train', 'reflogp', 'sample'] as const;
export type Phase = (typeof PHASES)[number];
const BACKENDS = ['wasm', 'cpu', 'tensorflow'] as const;
/** What runs irpo's side: TensorFlow.js (on --backend), or ONNX Runtime (reflogp and sample; train is TensorFlow.js only). */
export const RUNTIMES = ['tfjs', 'onnx'] as const;
export type Runtime = (typeof RUNTIMES)[number];

export interface BenchArgs {
  config: string;
  phases: Phase[];
  backend: (typeof BACKENDS)[number];
  /** Timed repetitions; undefined → the config's default. */
  reps?: number;
  /** Untimed repetitions first (kernel set-up, heap growth, allocator warm-up). */
  warmup: number;
  /** wasm pool threads; undefined → core's default (IRPO_THREADS, else the cores, at most 8). */
  threads?: number;
  /** Train a LoRA adapter of this rank (alpha 2r, every projection) on a frozen base; undefined → full fine-tuning. */
  lora?: number;
  /** Runtimes of irpo's side, each a row of its own (default tfjs; bench:compare defaults to both). */
  runtimes: Runtime[];
  /** Whether --runtime was given. */
  runtimeGiven: boolean;
}

/** `--config tiny|small|smollm|smollm360 --phase train|reflogp|sample|all [--backend wasm] [--runtime tfjs,onnx] [--threads N] [--reps N] [--warmup N] [--lora R]`. */
export function parseBenchArgs(argv: string[]): BenchArgs {
  const out: BenchArgs = { config: 'tiny', phases: [...PHASES], backend: 'wasm', warmup: 1, runtimes: ['tfjs'], runtimeGiven: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const [name, inline] = flag.startsWith('--') ? flag.slice(2).split('=', 2) : [flag, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`--${name}: needs a value`);
      return v;
    };
    const count = (min: number): number => {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer ≥ ${min}, got '${v}'`);
      return n;
    };
    switch (name) {
      case 'config': {
        const v = value();
        if (!(v in BENCH_CONFIGS)) throw new UsageError(`--config: unknown '${v}' (expected ${Object.keys(BENCH_CONFIGS).join(', ')})`);
        out.config = v;
        break;
      }
      case 'phase': {
        const v = value();
        if (v === 'all') out.phases = [...PHASES];
        else {
          const list = v.split(',');
          const bad = list.find((p) => !(PHASES as readonly string[]).includes(p));
          if (bad !== undefined) throw new UsageError(`--phase: unknown '${bad}' (expected ${PHASES.join(', ')} or all)`);
          out.phases = list as Phase[];
        }
        break;
      }
      case 'backend': {
        const v = value();
        if (!(BACKENDS as readonly string[]).includes(v))
          throw new UsageError(`--backend: unknown '${v}' (expected ${BACKENDS.join(', ')})`);
        out.backend = v as BenchArgs['backend'];
        break;
      }
      case 'runtime': {
        const list = value().split(',');
        const bad = list.find((r) => !(RUNTIMES as readonly string[]).includes(r));
        if (bad !== undefined)
          throw new UsageError(`--runtime: unknown '${bad}' (expected ${RUNTIMES.join(', ')}, or both comma-separated)`);
        out.runtimes = [...new Set(list)] as Runtime[];
        out.runtimeGiven = true;
        break;
      }
      case 'reps':
        out.reps = count(1);
        break;
      case 'warmup':
        out.warmup = count(0);
        break;
      case 'threads':
        out.threads = count(1);
        break;
      case 'lora':
        out.lora = count(1);
        break;
      default:
        throw new UsageError(
          `unknown argument '${flag}' (use --config, --phase, --backend, --runtime, --threads, --reps, --warmup, --lora)`,
        );
    }
  }
  return out;
}
