import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  DevCheckpointSchema,
  DevSelectionSchema,
  JsonlAppender,
  readJsonFile,
  readJsonlAll,
  ResumeCheckpointSchema,
  writeJsonAtomic,
  writeJsonlAtomic,
  type DevCheckpoint,
  type DevSelection,
  type Problem,
} from '@irpo/contracts';
import { tf } from '@irpo/core';
import { readSafetensors, writeSafetensors, type LoadedModel, type NamedTensor } from '@irpo/model';
import { LocalEngine, sampleDataset } from '@irpo/sampler';
import { runPromptFormat } from './prompt-format.js';
import type { StageContext } from './stages.js';

/**
 * Checkpoint selection on a dev split (the paper's protocol): while iteration t trains, greedy
 * dev accuracy is scored every training.evalEvery steps and after the last step, and M(t) is the
 * best checkpoint, the earliest on ties. The weights of the best so far are kept in
 * iter-t/dev-best/ and each score is appended to iter-t/dev-log.jsonl, so a crash resumes
 * mid-selection: the scores after the resume checkpoint's step are dropped (those steps are trained
 * again), and a snapshot is kept for the best score at or before the newest resume checkpoint as
 * well as the best overall. The result is iter-t/dev.json (DevSelectionSchema).
 *
 * Dev scoring runs the model in process (LocalEngine), whatever config.engine says: the weights
 * being chosen between exist only in memory.
 */
export class DevSelector {
  private constructor(
    private readonly ctx: StageContext,
    private readonly t: number,
    private readonly m: LoadedModel,
    private readonly dev: readonly Problem[],
    private readonly records: DevCheckpoint[],
    /** The step training resumed from (0 on a fresh start): its snapshot state is durable. */
    private readonly resumedAt: number,
  ) {}

  /** Starts (or resumes) selection for iteration t's training of the model `m`. */
  static async start(ctx: StageContext, t: number, m: LoadedModel, dev: readonly Problem[]): Promise<DevSelector> {
    const checkpoint = join(ctx.run.path(t, 'checkpoint'), 'checkpoint.json');
    const resumedAt = existsSync(checkpoint) ? (await readJsonFile(checkpoint, ResumeCheckpointSchema)).step : 0;
    const log = ctx.run.path(t, 'dev-log.jsonl');
    const records = existsSync(log)
      ? (await readJsonlAll(log, DevCheckpointSchema, { tolerateTruncatedTail: true })).filter((r) => r.step <= resumedAt)
      : [];
    await writeJsonlAtomic(log, records);
    const selector = new DevSelector(ctx, t, m, dev, records, resumedAt);
    await selector.prune(new Set([bestOf(records)?.step].filter((s) => s !== undefined)));
    return selector;
  }

  /** After optimiser step `step` of `total`: scores the dev split when due and keeps the best weights. */
  async onStep(step: number, total: number): Promise<void> {
    const every = this.ctx.config.training.evalEvery;
    if (step !== total && (every === null || step % every !== 0)) return;
    const accuracy = await devAccuracy(this.ctx, this.t, this.m, this.dev, `step-${step}`);
    const best = bestOf(this.records);
    this.records.push({ step, accuracy });
    const appender = await JsonlAppender.open(this.ctx.run.path(this.t, 'dev-log.jsonl'));
    await appender.append({ step, accuracy });
    await appender.close();
    const isBest = !best || accuracy > best.accuracy;
    // The last step's weights stay in memory: no snapshot needed to keep them.
    if (isBest && step !== total) await this.saveSnapshot(step);
    this.ctx.progress.info(
      `${this.ctx.label(this.t, 'training')}: dev accuracy ${pct(accuracy)} at step ${step}${isBest ? ' (best so far)' : `, best ${pct(best!.accuracy)} at step ${best!.step}`}`,
    );
    // Keep the best overall, and the best at or before the newest resume checkpoint (the loop
    // writes one after each checkpointEvery steps short of the last): a crash resumes there.
    const ce = this.ctx.config.training.checkpointEvery;
    const durable = Math.max(this.resumedAt, Math.floor((step - 1) / ce) * ce);
    const keep = [bestOf(this.records)?.step, bestOf(this.records.filter((r) => r.step <= durable))?.step];
    await this.prune(new Set(keep.filter((s) => s !== undefined)));
  }

  /**
   * After the last step: puts the chosen checkpoint's weights back into the model when it is not
   * the last one, and writes iter-t/dev.json.
   */
  async finish(): Promise<DevSelection> {
    const chosen = bestOf(this.records);
    const last = this.records.at(-1);
    if (!chosen || !last) throw new Error(`iteration ${this.t}: training ended with no dev score`);
    if (chosen.step !== last.step) {
      const weights = await readSafetensors(this.snapshotFile(chosen.step));
      for (const [name, v] of trainedVariables(this.m)) {
        const w = weights.get(name);
        if (!w) throw new Error(`${this.snapshotFile(chosen.step)}: no weight ${name}`);
        tf.tidy(() => v.assign(tf.tensor(w.data, w.shape, 'float32')));
      }
      this.ctx.progress.info(
        `${this.ctx.label(this.t, 'training')}: M(${this.t}) is step ${chosen.step} of ${last.step} (dev ${pct(chosen.accuracy)})`,
      );
    }
    const selection = DevSelectionSchema.parse({ problems: this.dev.length, checkpoints: this.records, chosen: chosen.step });
    await writeJsonAtomic(this.ctx.run.path(this.t, 'dev.json'), selection);
    return selection;
  }

  /** Once M(t) is saved: the snapshots and the running log are no longer needed (dev.json holds the scores). */
  async cleanup(): Promise<void> {
    await rm(this.ctx.run.path(this.t, 'dev-best'), { recursive: true, force: true });
    await rm(this.ctx.run.path(this.t, 'dev-log.jsonl'), { force: true });
  }

  private snapshotFile(step: number): string {
    return join(this.ctx.run.path(this.t, 'dev-best'), `step-${String(step).padStart(6, '0')}.safetensors`);
  }

  private async saveSnapshot(step: number): Promise<void> {
    const file = this.snapshotFile(step);
    await mkdir(this.ctx.run.path(this.t, 'dev-best'), { recursive: true });
    const named = new Map<string, NamedTensor>();
    for (const [name, v] of trainedVariables(this.m)) named.set(name, { shape: v.shape, data: new Float32Array(await v.data()) });
    await writeSafetensors(`${file}.tmp`, named, 'F32');
    await rename(`${file}.tmp`, file);
  }

  private async prune(keep: Set<number>): Promise<void> {
    const dir = this.ctx.run.path(this.t, 'dev-best');
    if (!existsSync(dir)) return;
    for (const entry of await readdir(dir)) {
      const m = /^step-(\d+)\.safetensors$/.exec(entry);
      if (!m || !keep.has(Number(m[1]))) await rm(join(dir, entry), { force: true });
    }
  }
}

/** The best record, the earliest among equals; undefined for none. */
export function bestOf(records: readonly DevCheckpoint[]): DevCheckpoint | undefined {
  let best: DevCheckpoint | undefined;
  for (const r of [...records].sort((a, b) => a.step - b.step)) if (!best || r.accuracy > best.accuracy) best = r;
  return best;
}

/**
 * Greedy accuracy of the model in memory on the dev problems, decoded in process with the run's
 * prompt format and eval length; the completions go to a scratch file removed afterwards.
 */
export async function devAccuracy(ctx: StageContext, t: number, m: LoadedModel, dev: readonly Problem[], tag: string): Promise<number> {
  const file = ctx.run.path(t, `dev-scratch-${tag}.jsonl`);
  await rm(file, { force: true });
  const engine = new LocalEngine(m.model, m.tokenizer, {
    maxBatchSize: ctx.config.engine.batchSize,
    promptFormat: runPromptFormat(ctx.config, m.tokenizer),
  });
  try {
    const r = await sampleDataset([...dev], ctx.task, engine, {
      n: 1,
      temperature: 0,
      maxNewTokens: ctx.config.eval.maxNewTokens,
      seed: ctx.seed(t, 'eval'),
      out: file,
      batchSize: ctx.config.engine.batchSize,
    });
    return dev.length === 0 ? 0 : r.correct / dev.length;
  } finally {
    await rm(file, { force: true });
  }
}

/**
 * The dev accuracy of a saved model as iteration t's only checkpoint (step 0): M0 before the
 * first iteration, what the stop rule measures iteration 1's gain against. Written to
 * iter-t/dev.json once; a rerun reads it back.
 */
export async function scoreOnDev(ctx: StageContext, t: number, modelDir: string, dev: readonly Problem[]): Promise<DevSelection> {
  const file = ctx.run.path(t, 'dev.json');
  if (existsSync(file)) return readJsonFile(file, DevSelectionSchema);
  await mkdir(dirname(file), { recursive: true });
  const m = await ctx.slot.ensure(modelDir);
  const accuracy = await devAccuracy(ctx, t, m, dev, 'step-0');
  ctx.progress.info(`iter ${t} · dev: ${pct(accuracy)} greedy on ${dev.length} dev problems`);
  const selection = DevSelectionSchema.parse({ problems: dev.length, checkpoints: [{ step: 0, accuracy }], chosen: 0 });
  await writeJsonAtomic(file, selection);
  return selection;
}

/** The accuracy of the chosen checkpoint of a dev.json. */
export const chosenAccuracy = (s: DevSelection) => s.checkpoints.find((c) => c.step === s.chosen)!.accuracy;

/** What training updates: a LoRA adapter's A/B when one is attached, else every weight. */
const trainedVariables = (m: LoadedModel) => m.model.trainableVariables ?? m.model.variables;

const pct = (a: number) => `${(100 * a).toFixed(1)}%`;
