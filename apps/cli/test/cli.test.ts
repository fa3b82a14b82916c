import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { irpo } from './irpo-bin.js';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe('irpo binary', () => {
  it('--help lists the global options and examples', () => {
    const r = irpo('--help');
    expect(r.code).toBe(0);
    for (const opt of ['--backend', '--log-level', '--json', '--version', 'Examples:']) expect(r.stdout).toContain(opt);
  });

  it('--version prints the package version', () => {
    const r = irpo('--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('exits 2 on an unknown command, with one line and no stack', () => {
    const r = irpo('no-such-command');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Unknown command: no-such-command');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 on a bad option value', () => {
    const r = irpo('env', '--backend', 'gpu');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('backend');
  });

  it('--threads sets the wasm pool (env reports it); a bad count exits 2', () => {
    const bad = irpo('env', '--threads', 'two');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--threads: expected a whole number ≥ 1, got 'two'");
    const r = irpo('env', '--backend', 'wasm', '--threads', '2', '--json');
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as { reasons: string[] };
    expect(parsed.reasons).toContain('wasm: chosen (SIMD on, threads 2 (XNNPACK pool in worker_threads; small ops without it))');
  });

  it('--backend tensorflow without the native package exits 2 with one line, no stack', () => {
    const r = irpo('env', '--backend', 'tensorflow');
    expect(r.code).toBe(2);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('irpo:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("backend 'tensorflow' is unavailable");
    expect(lines[0]).toContain('@tensorflow/tfjs-node');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('env names the backend it chose and why', () => {
    const r = irpo('env', '--backend', 'cpu', '--json');
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as { backend: string; reasons: string[] };
    expect(parsed.backend).toBe('cpu');
    expect(parsed.reasons[0]).toBe('cpu: requested');
  });

  it('env says what runs inference and why: ONNX Runtime by default, TensorFlow.js when forced or unavailable', () => {
    const auto = JSON.parse(irpo('env', '--backend', 'cpu', '--json').stdout) as { inference: string };
    expect(auto.inference).toMatch(/^ONNX Runtime \(onnxruntime-node \d+\.\d+\.\d+ loaded \(engine\.runtime: auto\)\)$/);
    const forced = irpo('env', '--backend', 'cpu', '--set', 'engine.runtime=tfjs');
    expect(forced.stdout).toContain('inference  TensorFlow.js (engine.runtime: tfjs)');
  });

  it('env shows the engine a run config would use: local by default, a launch template, static endpoints probed', async () => {
    const local = JSON.parse(irpo('env', '--backend', 'cpu', '--json').stdout) as { engine: { kind: string; batchSize: number } };
    expect(local.engine).toMatchObject({ kind: 'local', batchSize: 32 });
    const launch = irpo(
      'env',
      '--backend',
      'cpu',
      '--set',
      'engine.kind=http',
      '--set',
      'engine.launch=npx irpo serve {model} --port {port}',
    );
    expect(launch.code).toBe(0);
    expect(launch.stdout).toContain('launch: npx irpo serve {model} --port {port}');
    expect(launch.stdout).toContain('iter-t/engine.log');
    const port = await new Promise<number>((done) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => done(p)); // free again: nothing listens there
      });
    });
    const sets = ['--set', 'engine.kind=http', '--set', `engine.endpoints=["http://127.0.0.1:${port}/v1"]`];
    const r = irpo('env', '--backend', 'cpu', '--json', ...sets);
    expect(r.code).toBe(0);
    const e = (JSON.parse(r.stdout) as { engine: { endpoints: { url: string; status: string }[]; summary: string } }).engine;
    expect(e.endpoints).toEqual([{ url: `http://127.0.0.1:${port}/v1`, status: 'unreachable (ECONNREFUSED)' }]);
    expect(e.summary).toContain('no engine.reload to make them serve M(t): a run is refused at start');
    const bad = irpo('env', '--set', 'engine.kind=http');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('engine.launch');
  });

  it('--json puts one JSON document on stdout', () => {
    const r = irpo('env', '--json');
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as { irpo: string; node: string };
    expect(parsed.irpo).toBe(pkg.version);
    expect(parsed.node).toBe(process.versions.node);
  });
});
