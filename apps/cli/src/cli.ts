import { InputError, setLogLevel, UsageError, type LogLevel } from '@irpo/contracts';
import yargs, { type Argv, type CommandModule } from 'yargs';
import { commands } from './commands/index.js';
import { BACKENDS, LOG_LEVELS } from './globals.js';
import { VERSION } from './version.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface RunIO {
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
}

/** Builds the yargs parser; `run` drives it. Exposed for tests of the option set. */
export function buildParser(argv: string[], io: Required<RunIO>): Argv {
  let parser = yargs(argv)
    .scriptName('irpo')
    .usage(
      'irpo <command> [options]\n\nIterative Reasoning Preference Optimization (Pang et al., 2024): sample chains of thought,\nreward correct answers, train on (correct, wrong) pairs with DPO+NLL, repeat.',
    )
    .option('backend', {
      choices: BACKENDS,
      describe: 'TensorFlow.js backend (default: best present: tensorflow (tfjs-node-gpu/tfjs-node), wasm, cpu); also IRPO_BACKEND',
      type: 'string',
      global: true,
    })
    .option('threads', {
      type: 'string',
      describe: 'Threads of the wasm backend (default: the cores Node may use, at most 8); also IRPO_THREADS',
      global: true,
    })
    .option('log-level', {
      choices: LOG_LEVELS,
      default: 'info' as LogLevel,
      describe: 'Least severe log lines shown (on stderr)',
      global: true,
    })
    .option('json', { type: 'boolean', default: false, describe: 'Print machine-readable JSON on stdout', global: true })
    .middleware((args) => {
      setLogLevel(args.logLevel as LogLevel);
      if (args.backend) process.env.IRPO_BACKEND = String(args.backend);
      if (args.threads !== undefined) {
        const t = String(args.threads);
        if (!/^[1-9][0-9]*$/.test(t)) throw new UsageError(`--threads: expected a whole number ≥ 1, got '${t}'`);
        process.env.IRPO_THREADS = t;
      }
    })
    .example('irpo demo', 'Run the whole loop on the built-in arithmetic task (minutes, CPU)')
    .example('irpo run config.yaml --set iterations=2', 'Run a configured recipe, overriding a field')
    .example('irpo eval --task gsm8k --model runs/x/iter-2/model', 'Evaluate a model on GSM8K')
    .example('irpo model inspect ./SmolLM2-135M', 'Show architecture, parameters and memory estimate')
    .demandCommand(1, 'Name a command (irpo --help lists them).')
    .strict()
    .strictCommands()
    .recommendCommands()
    .version(VERSION)
    .alias('h', 'help')
    .alias('v', 'version')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg);
    });
  for (const command of commands) parser = parser.command(command as CommandModule);
  parser.showHelpOnFail(false);
  void io;
  return parser;
}

/**
 * Runs the CLI and returns the exit code: 0 success, 1 failure, 2 user error (UsageError: bad
 * flags; InputError: a bad file, config field or data path). Known errors print one clear line;
 * a stack trace only at --log-level debug.
 */
export async function run(argv: string[], io: RunIO = {}): Promise<number> {
  const out = io.stdout ?? ((s: string) => process.stdout.write(s));
  const err = io.stderr ?? ((s: string) => process.stderr.write(s));
  const debug = argv.includes('debug') && argv.some((a) => a === '--log-level' || a.startsWith('--log-level='));
  try {
    await buildParser(argv, { stdout: out, stderr: err }).parseAsync();
    return process.exitCode && process.exitCode !== 0 ? Number(process.exitCode) : EXIT_OK;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`irpo: ${e.message}\nRun 'irpo --help' for usage.\n`);
      return EXIT_USAGE;
    }
    if (e instanceof InputError) {
      // A bad file, config field or data path is the user's to fix, like a bad flag.
      err(`irpo: ${e.message}\n`);
      return EXIT_USAGE;
    }
    const error = e instanceof Error ? e : new Error(String(e));
    err(`irpo: ${error.message}\n`);
    if (debug && error.stack) err(error.stack + '\n');
    return EXIT_FAILURE;
  }
}
