// Child process for the SIGKILL tests: runs a recipe from a config file into a run directory.
// `run-child.ts <config.json> <out> [<stage>:<count>]`: with a stop point, the child stops inside
// iteration 1's stage of that progress label once its progress reaches count (after that many
// units were written), prints `stopped <label> <done>/<total>` and blocks until it is killed.
import { writeSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { RunConfigSchema } from '@irpo/contracts';
import { runIterativeRpo } from '../src/iterative-rpo.js';
import { createProgress, type Progress } from '../src/progress.js';

const [configFile, out, stopAt] = process.argv.slice(2);
const config = RunConfigSchema.parse(JSON.parse(readFileSync(configFile!, 'utf8')));
const quiet = createProgress(process.stderr, true);
const [stage, count] = stopAt ? [stopAt.slice(0, stopAt.lastIndexOf(':')), Number(stopAt.slice(stopAt.lastIndexOf(':') + 1))] : [];
let label = '';
let total = 0;
const progress: Progress = {
  ...quiet,
  start(l, n, unit) {
    [label, total] = [l, n];
    quiet.start(l, n, unit);
  },
  update(done, extra) {
    if (stage !== undefined && /^iter 1\b/.test(label) && label.includes(stage) && done >= count!) {
      writeSync(1, `stopped ${label} ${done}/${total}\n`);
      // Block the only thread: nothing more is written until the SIGKILL.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    }
    quiet.update(done, extra);
  },
};
await runIterativeRpo(config, { out: out!, progress });
