/**
 * A sampling run in its own process, for the SIGKILL test: `sample-child.ts <out> [hangAfter]`.
 * With hangAfter, the engine stops answering after that many calls and the process prints
 * `hanging` so the test can kill it at a known point.
 */
import { initBackend } from '@irpo/core';
import type { Engine } from '../src/engine.js';
import { LocalEngine } from '../src/local-engine.js';
import { sampleDataset } from '../src/sample-dataset.js';
import { FakeCharTokenizer, fakeProblems, fakeTask, FakeLM } from '../src/testing/fakes.js';

const [out, hangAfter] = process.argv.slice(2);
await initBackend('cpu');
const local = new LocalEngine(new FakeLM(7), new FakeCharTokenizer(), { maxBatchSize: 16 });
let calls = 0;
const engine: Engine = {
  generate: (req) => {
    if (hangAfter !== undefined && calls++ >= Number(hangAfter)) {
      process.stdout.write('hanging\n');
      // A pending promise alone does not keep Node alive (it would exit 13 and race the kill).
      setInterval(() => undefined, 1 << 30);
      return new Promise(() => undefined);
    }
    return local.generate(req);
  },
};
const res = await sampleDataset(fakeProblems(7), fakeTask, engine, {
  n: 3,
  temperature: 1,
  topP: 0.9,
  maxNewTokens: 12,
  seed: 5,
  batchSize: 2,
  out,
});
process.stdout.write(`done ${res.written}\n`);
