// `lora-child.ts <dir> [stopAfterStep]`: the LoRA run of lora-setup.ts in its own process. With a
// stop step it prints `stopped <step>` after that step's onStep and blocks until it is killed
// (the last resume checkpoint is then the step before). Otherwise it trains to the end (resuming
// from <dir>/ckpt when there is one) and writes the steps it ran, whether the model was in
// training mode at each, and every weight to <dir>/result.json.
import { writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '@irpo/core';
import { adapted, trainLora, values } from './lora-setup.js';

const [dir, stopAfter] = process.argv.slice(2);
await initBackend('cpu');
const model = adapted();
const steps: { step: number; training: boolean }[] = [];
await trainLora(model, dir!, (step) => {
  steps.push({ step, training: model.training });
  if (step === Number(stopAfter)) {
    writeSync(1, `stopped ${step}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // until the SIGKILL
  }
});
const result = { steps, training: model.training, lora: await values(model.trainableVariables), all: await values(model.variables) };
writeFileSync(join(dir!, 'result.json'), JSON.stringify(result));
