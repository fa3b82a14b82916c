import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpEngine } from '@irpo/sampler';
import { bin } from './irpo-bin.js';
import { describe, expect, it } from 'vitest';
import { tinyModel } from './tiny-model.js';

const env = { ...process.env, IRPO_LOG_LEVEL: 'info' };
const stopChild = fileURLToPath(new URL('./irpo-stop-child.mjs', import.meta.url));
const lineCount = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0);

describe('irpo sample with a local model', () => {
  it('a SIGKILLed run, rerun, equals an uninterrupted one: each (problem, index) once', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-sample-'));
    const model = await tinyModel(join(root, 'm'));
    const args = (out: string) => [
      'sample',
      '--task',
      'arith',
      '--model',
      model,
      '--limit',
      '24',
      '--n',
      '4',
      '--max-new-tokens',
      '12',
      '--batch-size',
      '2',
      '--seed',
      '7',
      '--out',
      out,
      '--backend',
      'wasm',
    ];
    const whole = join(root, 'whole.jsonl');
    const w = spawnSync(process.execPath, [bin, ...args(whole)], { encoding: 'utf8', env });
    expect(w.status, w.stderr).toBe(0);
    expect(lineCount(whole)).toBe(96);

    // The same command stopped after its second batch (2 problems × 4 samples each), then SIGKILLed.
    const killed = join(root, 'killed.jsonl');
    const signal = await new Promise<NodeJS.Signals | null>((done, fail) => {
      const p = spawn(process.execPath, [stopChild, '2', ...args(killed)], { stdio: ['ignore', 'pipe', 'pipe'], env });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('stopped')) p.kill('SIGKILL');
      });
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('error', fail);
      p.on('exit', (code, sig) => (sig ? done(sig) : fail(new Error(`exited ${code} before the stop: ${stderr}`))));
    });
    expect(signal).toBe('SIGKILL');
    expect(lineCount(killed)).toBe(16);
    const again = spawnSync(process.execPath, [bin, ...args(killed)], { encoding: 'utf8', env });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^sampled 80 \(resumed 16, total 96\)/); // only what the killed run had not written
    const rows = readFileSync(killed, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { problemId: string; index: number });
    expect(new Set(rows.map((r) => `${r.problemId}/${r.index}`)).size).toBe(96);
    expect(readFileSync(killed, 'utf8')).toBe(readFileSync(whole, 'utf8'));
  }, 180_000);
});

describe('irpo serve', () => {
  it('serves a model on an ephemeral loopback port that the HTTP engine samples from', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-serve-'));
    const model = await tinyModel(join(root, 'tiny'));
    const p = spawn(process.execPath, [bin, 'serve', model, '--port', '0', '--backend', 'wasm'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
    });
    try {
      const url = await new Promise<string>((done, fail) => {
        let err = '';
        p.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          const m = /serving \S+ at (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(err);
          if (m) done(m[1]!);
        });
        p.on('exit', (code) => fail(new Error(`serve exited ${code}: ${err}`)));
      });
      const engine = new HttpEngine({ baseUrl: `${url}/v1`, model: 'tiny' });
      const a = await engine.generate({ prompts: ['Q: Ann has 3 pens.\nA: '], n: 2, temperature: 1, maxNewTokens: 8, seed: 5 });
      const b = await engine.generate({ prompts: ['Q: Ann has 3 pens.\nA: '], n: 2, temperature: 1, maxNewTokens: 8, seed: 5 });
      expect(a[0]).toHaveLength(2);
      expect(a[0]!.map((c) => c.text)).toEqual(b[0]!.map((c) => c.text));
      const bad = await fetch(`${url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"prompt": 5',
      });
      expect(bad.status).toBe(400);
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
      expect(models.data[0]!.id).toBe('tiny');
    } finally {
      p.kill('SIGTERM');
    }
  }, 120_000);
});
