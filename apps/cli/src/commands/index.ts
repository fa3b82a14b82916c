import type { CommandModule } from 'yargs';
import { dataCommand } from './data-inspect.js';
import { demoCommand } from './demo.js';
import { envCommand } from './env.js';
import { evalCommand } from './eval.js';
import { modelCommand } from './model-inspect.js';
import { pairsCommand } from './pairs.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { sampleCommand } from './sample.js';
import { serveCommand } from './serve.js';
import { trainCommand } from './train.js';

/** Every `irpo` command, one per line (keeps merges of new commands trivial). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  demoCommand,
  runCommand,
  envCommand,
  dataCommand,
  modelCommand,
  sampleCommand,
  serveCommand,
  pairsCommand,
  trainCommand,
  evalCommand,
  reportCommand,
];
