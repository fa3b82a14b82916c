// Child process for the SIGKILL tests: runs a recipe from a config file into a run directory.
import { readFileSync } from 'node:fs';
import { RunConfigSchema } from '@irpo/contracts';
import { runIterativeRpo } from '../src/iterative-rpo.js';
import { createProgress } from '../src/progress.js';

const [configFile, out] = process.argv.slice(2);
const config = RunConfigSchema.parse(JSON.parse(readFileSync(configFile!, 'utf8')));
await runIterativeRpo(config, { out: out!, progress: createProgress(process.stderr, true) });
