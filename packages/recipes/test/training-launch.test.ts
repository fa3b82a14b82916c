import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJsonFile, RunConfigSchema, RunStateSchema, type RunConfig } from '@irpo/contracts';
import { readSafetensors } from '@irpo/model';
import { describe, expect, it } from 'vitest';
import { runIterativeRpo } from '../src/iterative-rpo.js';
import { TrainerLaunchError } from '../src/launch/launched-train-stage.js';
import { createProgress } from '../src/progress.js';
import { makeTinyModel, tinyConfig } from './tiny-run.js';

const loader = new URL('../../../tools/test-support/ts-loader.mjs', import.meta.url).href;
const fakeTrainer = fileURLToPath(new URL('./fixtures/fake-trainer.ts', import.meta.url));
const runChild = fileURLToPath(new URL('./run-child.ts', import.meta.url));
const node = process.execPath;
const quiet = createProgress(process.stderr, true);

/** A one-iteration tiny run whose training is the fake trainer in `mode`. */
async function setup(mode: string): Promise<{ root: string; m0: string; out: string; state: string; config: RunConfig }> {
  const root = await mkdtemp(join(tmpdir(), `irpo-launch-${mode}-`));
  const m0 = await makeTinyModel(join(root, 'm0'));
  const state = join(root, 'trainer-state');
  const launch = `${node} --conditions=@irpo/source --import ${loader} ${fakeTrainer} ${mode} ${state} {model} {out} {pairs} {pairs_dir}`;
  const task = { name: 'arith' as const, trainLimit: 8, testLimit: 2, goldAsWinner: true };
  const config = tinyConfig(m0, { iterations: 1, task, training: { lr: 3e-3, batchSize: 4, launch } });
  return { root, m0, out: join(root, 'run'), state, config };
}

const doneStages = async (out: string) => (await readJsonFile(join(out, 'state.json'), RunStateSchema)).iterations['1']?.done ?? [];

describe('training.launch', () => {
  it('a trainer exiting non-zero fails the stage with its last lines, marks nothing done; the rerun relaunches it', async () => {
    const { out, state, config } = await setup('fail-once');
    let thrown: unknown;
    try {
      await runIterativeRpo(config, { out, progress: quiet });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(TrainerLaunchError);
    const message = (thrown as Error).message;
    expect(message).toMatch(/exited with code 3/);
    expect(message).toContain('CUDA out of memory (pretend)');
    expect(message).toContain('loading the model');
    expect(await doneStages(out)).toEqual(['samples', 'pairs']);
    expect(existsSync(join(out, 'iter-1/model'))).toBe(false);
    const log = await readFile(join(out, 'iter-1/train.log'), 'utf8');
    // the command line first, placeholders substituted
    expect(log.split('\n')[0]).toMatch(new RegExp(`^=== irpo \\S+: .*fake-trainer\\.ts fail-once .* ${join(out, 'iter-1/trainer-out')} `));

    await runIterativeRpo(config, { out, progress: quiet });
    expect(existsSync(join(state, 'launch-2'))).toBe(true);
    expect(await doneStages(out)).toEqual(['samples', 'pairs', 'ref-logps', 'train', 'model', 'eval']);
    expect((await readFile(join(out, 'iter-1/train.log'), 'utf8')).match(/^=== irpo /gm)).toHaveLength(2); // appended
  }, 300_000);

  it("takes the newest checkpoint-N, copies M(t-1)'s missing tokenizer files, and turns trainer_state.json into train-log.jsonl", async () => {
    const { m0, out, config } = await setup('checkpoints');
    await runIterativeRpo(config, { out, progress: quiet });
    const model = join(out, 'iter-1/model');
    // checkpoint-2 holds M0's weights times 2
    const w0 = await readSafetensors(join(m0, 'model.safetensors'));
    const w1 = await readSafetensors(join(model, 'model.safetensors'));
    const name = 'model.layers.0.self_attn.q_proj.weight';
    expect(Array.from(w1.get(name)!.data.slice(0, 4))).toEqual(Array.from(w0.get(name)!.data.slice(0, 4)).map((x) => x * 2));
    expect(await readFile(join(model, 'tokenizer.json'), 'utf8')).toBe(await readFile(join(m0, 'tokenizer.json'), 'utf8'));
    expect(existsSync(join(out, 'iter-1/trainer-out'))).toBe(false);
    // TRL's log_history: training entries only, absent metrics absent (not 0)
    const log = readFileSync(join(out, 'iter-1/train-log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log).toEqual([
      { v: 1, step: 1, epoch: 0.5, grad_norm: 1.5, lr: 1e-5, loss: 0.69, 'rewards/chosen': 0.01, 'logps/chosen': -12.5 },
      { v: 1, step: 2, epoch: 1, lr: 5e-6, loss: 0.6, 'rewards/chosen': 0.03, 'logps/chosen': -11.5, 'logps/rejected': -13 },
    ]);
    // the pairs the trainer read: a base model's standard rows, answers ending with EOS
    const row = JSON.parse(readFileSync(join(out, 'iter-1/trainer-data/train.jsonl'), 'utf8').split('\n')[0]!) as Record<string, string>;
    expect(Object.keys(row)).toEqual(['prompt', 'chosen', 'rejected']);
    expect(row.chosen.endsWith('<eos>')).toBe(true);
    // the report reads the partial log
    expect(existsSync(join(out, 'report.md'))).toBe(true);
  }, 300_000);

  it('merges an adapter-only result onto M(t-1) and keeps the adapter', async () => {
    const { m0, out, config } = await setup('adapter');
    await runIterativeRpo(config, { out, progress: quiet });
    const w0 = await readSafetensors(join(m0, 'model.safetensors'));
    const w1 = await readSafetensors(join(out, 'iter-1/model/model.safetensors'));
    const name = 'model.layers.1.self_attn.q_proj.weight';
    const [rows, cols] = w0.get(name)!.shape as [number, number];
    // W' = W + (alpha / r) B A, with alpha / r = 2, B = 0.01 everywhere, A = 0.1 at [0][0] and 0.2 at [1][1]:
    // row o gains 2 * 0.01 * 0.1 = 0.002 in column 0 and 2 * 0.01 * 0.2 = 0.004 in column 1, nothing elsewhere.
    for (let o = 0; o < rows; o++) {
      for (let i = 0; i < cols; i++) {
        const delta = i === 0 ? 0.002 : i === 1 ? 0.004 : 0;
        expect(w1.get(name)!.data[o * cols + i]).toBeCloseTo(w0.get(name)!.data[o * cols + i]! + delta, 6);
      }
    }
    expect(Array.from(w1.get('model.layers.1.self_attn.k_proj.weight')!.data)).toEqual(
      Array.from(w0.get('model.layers.1.self_attn.k_proj.weight')!.data),
    );
    expect(existsSync(join(out, 'iter-1/adapter/adapter_model.safetensors'))).toBe(true);
    expect(existsSync(join(out, 'iter-1/model/tokenizer.json'))).toBe(true);
    expect(existsSync(join(out, 'iter-1/train-log.jsonl'))).toBe(false); // the trainer logged nothing: no zeros made up
  }, 300_000);

  it('refuses a pickled adapter_model.bin, saying to save safetensors', async () => {
    const { out, config } = await setup('bin-adapter');
    await expect(runIterativeRpo(config, { out, progress: quiet })).rejects.toThrow(/adapter_model\.bin.*torch pickle.*safetensors/s);
    expect(await doneStages(out)).toEqual(['samples', 'pairs']);
  }, 300_000);

  it('SIGKILL of irpo while the trainer runs: the rerun stops the orphaned trainer, relaunches it, and completes', async () => {
    const { root, out, state, config } = await setup('block-once');
    const configFile = join(root, 'config.json');
    await writeFile(configFile, JSON.stringify(config));
    const child = (kill: boolean) => runIrpo(configFile, out, kill ? { when: join(state, 'started-1'), signal: 'SIGKILL' } : undefined);
    const first = await child(true);
    expect(first.signal).toBe('SIGKILL');
    const orphan = Number(readFileSync(join(state, 'started-1'), 'utf8'));
    expect(alive(orphan)).toBe(true); // nothing stopped it: irpo died without a chance to
    expect(await doneStages(out)).toEqual(['samples', 'pairs']);
    const second = await child(false);
    expect(second.code, second.stderr).toBe(0);
    expect(alive(orphan)).toBe(false);
    expect(existsSync(join(state, 'launch-2'))).toBe(true);
    expect(await doneStages(out)).toContain('model');
  }, 300_000);

  it('SIGTERM to irpo while the trainer runs stops the trainer too', async () => {
    const { root, out, state, config } = await setup('block-once');
    const configFile = join(root, 'config.json');
    await writeFile(configFile, JSON.stringify(config));
    const r = await runIrpo(configFile, out, { when: join(state, 'started-1'), signal: 'SIGTERM' });
    expect(r.signal).toBe('SIGTERM');
    const trainer = Number(readFileSync(join(state, 'started-1'), 'utf8'));
    // the SIGKILL irpo sent its group lands asynchronously: wait for it, bounded
    for (let i = 0; i < 250 && alive(trainer); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(trainer)).toBe(false);
  }, 300_000);

  it('pairsFormat needs training.launch', () => {
    const r = RunConfigSchema.safeParse({ training: { pairsFormat: 'tokens' } });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['training', 'pairsFormat']);
  });
});

/** Runs the recipe in a child process; with `kill`, sends it the signal once the marker file exists (no timing). */
function runIrpo(
  configFile: string,
  out: string,
  kill?: { when: string; signal: NodeJS.Signals },
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(node, ['--conditions=@irpo/source', '--import', loader, runChild, configFile, out], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let sent = false;
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = kill
      ? setInterval(() => {
          if (!sent && existsSync(kill.when)) {
            sent = true;
            p.kill(kill.signal);
          }
        }, 20)
      : undefined;
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      clearInterval(timer);
      resolve({ code, signal, stderr });
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
}
