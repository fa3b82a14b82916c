// `node irpo-stop-child.mjs <calls> <irpo args...>`: the built CLI, as bin/irpo.js runs it, whose
// local engine answers `calls` generate calls and then stops: once what those calls sampled is in
// the --out file, it prints `stopped` and waits, so a test can SIGKILL it at a known point (after
// exactly that many batches were written, also when the engine runs calls side by side).
import { existsSync, readFileSync } from 'node:fs';
import { LocalEngine } from '@irpo/sampler';

const [calls, ...args] = process.argv.slice(2);
const out = args[args.indexOf('--out') + 1];
const generate = LocalEngine.prototype.generate;
let answered = 0;
let rows = 0; // samples the answered calls return
const lines = () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean).length : 0);
LocalEngine.prototype.generate = function (request) {
  if (answered++ < Number(calls)) {
    rows += request.prompts.length * (request.n ?? 1);
    return generate.call(this, request);
  }
  const poll = setInterval(() => {
    if (lines() < rows) return;
    clearInterval(poll);
    process.stdout.write('stopped\n');
  }, 5);
  setInterval(() => undefined, 1 << 30); // keeps the process alive until it is killed
  return new Promise(() => undefined);
};
const { run } = await import(new URL('../dist/main.js', import.meta.url).href);
process.exitCode = await run(args);
