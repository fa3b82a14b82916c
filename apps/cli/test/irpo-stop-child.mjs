// `node irpo-stop-child.mjs <calls> <irpo args...>`: the built CLI, as bin/irpo.js runs it, whose
// local engine answers `calls` generate calls and then stops: it prints `stopped` and waits, so a
// test can SIGKILL it at a known point (after exactly that many batches were written).
import { LocalEngine } from '@irpo/sampler';

const [calls, ...args] = process.argv.slice(2);
const generate = LocalEngine.prototype.generate;
let answered = 0;
LocalEngine.prototype.generate = function (request) {
  if (answered++ < Number(calls)) return generate.call(this, request);
  process.stdout.write('stopped\n');
  setInterval(() => undefined, 1 << 30); // keeps the process alive until it is killed
  return new Promise(() => undefined);
};
const { run } = await import(new URL('../dist/main.js', import.meta.url).href);
process.exitCode = await run(args);
