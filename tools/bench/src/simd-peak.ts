/**
 * `npm run bench:peak -w @irpo/bench [-- --seconds 1]`: the most f32 arithmetic 128-bit WebAssembly
 * SIMD does on this machine, as the ceiling the kernels are measured against. One loop of twelve
 * independent f32x4 multiply-then-add chains (wasm SIMD has no fused multiply-add; V8 emits one
 * mulps and one addps each), no memory traffic: 96 flops per iteration. Runs on 1 thread, then on
 * every core at once (worker_threads), and prints one JSON line with GFLOP/s for each; a second
 * thread that adds nothing means the "cores" share one physical core's vector units.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import wabtInit from 'wabt';

const ACC = 12;
const WAT = `(module
  (func (export "run") (param $n i32) (result f32)
    ${Array.from({ length: ACC }, (_, i) => `(local $a${i} v128)`).join(' ')}
    (local $m v128) (local $c v128)
    (local.set $m (f32x4.splat (f32.const 0.999999)))
    (local.set $c (f32x4.splat (f32.const 0.000001)))
    ${Array.from({ length: ACC }, (_, i) => `(local.set $a${i} (f32x4.splat (f32.const ${i + 1})))`).join(' ')}
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      ${Array.from({ length: ACC }, (_, i) => `(local.set $a${i} (f32x4.add (f32x4.mul (local.get $a${i}) (local.get $m)) (local.get $c)))`).join('\n      ')}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    ${'(f32x4.extract_lane 0 (f32x4.add '.repeat(1)}(local.get $a0) ${Array.from({ length: ACC - 1 }, (_, i) => `(local.get $a${i + 1})`).reduce((acc, x) => `(f32x4.add ${acc} ${x})`)}))))`;

const FLOPS_PER_ITER = ACC * 4 * 2;

/** The WebAssembly global (Node has it; this package's TypeScript lib has no DOM types). */
const wasm = (
  globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object) => { exports: unknown } } }
).WebAssembly;

async function bytes(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const m = wabt.parseWat('peak.wat', WAT, { simd: true });
  m.validate();
  return new Uint8Array(m.toBinary({}).buffer);
}

/** Runs the loop for about `seconds` in this thread; GFLOP/s of the fastest of three timed runs. */
function measure(code: Uint8Array, seconds: number): number {
  const run = (new wasm.Instance(new wasm.Module(code)).exports as { run(n: number): number }).run;
  run(1_000_000); // tier up
  let n = 1_000_000;
  for (;;) {
    const t0 = performance.now();
    run(n);
    const ms = performance.now() - t0;
    if (ms > 50) {
      n = Math.round((n * seconds * 1000) / ms);
      break;
    }
    n *= 4;
  }
  let best = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    run(n);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (n * FLOPS_PER_ITER) / s / 1e9);
  }
  return best;
}

async function main(argv: string[]): Promise<void> {
  const at = argv.indexOf('--seconds');
  const seconds = at >= 0 ? Number(argv[at + 1]) : 1;
  const code = await bytes();
  const one = measure(code, seconds);
  const threads = availableParallelism();
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    const run = new WebAssembly.Instance(new WebAssembly.Module(workerData.code)).exports.run;
    run(1_000_000);
    parentPort.on('message', (n) => {
      const t0 = performance.now();
      run(n);
      parentPort.postMessage(performance.now() - t0);
    });`;
  // Same iteration count on every thread, started together; GFLOP/s of all of them over the slowest.
  const n = Math.round(((one * 1e9) / FLOPS_PER_ITER) * seconds);
  const workers = Array.from({ length: threads }, () => new Worker(src, { eval: true, workerData: { code } }));
  let all = 0;
  for (let rep = 0; rep < 3; rep++) {
    const times = await Promise.all(workers.map((w) => new Promise<number>((resolve) => (w.once('message', resolve), w.postMessage(n)))));
    all = Math.max(all, (threads * n * FLOPS_PER_ITER) / (Math.max(...times) / 1000) / 1e9);
  }
  await Promise.all(workers.map((w) => w.terminate()));
  const r = (x: number) => Math.round(x * 10) / 10;
  process.stdout.write(
    JSON.stringify({
      framework: 'irpo',
      bench: 'wasm-simd-peak',
      kernel: `${ACC} independent f32x4 mul+add chains`,
      gflops_1_thread: r(one),
      threads,
      gflops_all_threads: r(all),
      node: process.version,
    }) + '\n',
  );
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`bench:peak: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
