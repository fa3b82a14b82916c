import { readFileSync } from 'node:fs';
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

  it('--json puts one JSON document on stdout', () => {
    const r = irpo('env', '--json');
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as { irpo: string; node: string };
    expect(parsed.irpo).toBe(pkg.version);
    expect(parsed.node).toBe(process.versions.node);
  });
});
