import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile, ResumeCheckpointSchema, writeJsonAtomic, type ResumeCheckpoint } from '@irpo/contracts';
import { tf } from '@irpo/core';
import type { Optimizer } from './optimizer.js';
import { loadTensors, saveTensors } from './tensor-file.js';

/** The pointer file of a checkpoint folder, naming its newest complete snapshot. */
export const RESUME_CHECKPOINT_FILE = 'checkpoint.json';

/**
 * Writes a resume checkpoint after optimiser step `step`: weights and optimiser state into a new
 * snapshot folder `step-NNNNNN`, then checkpoint.json, replaced atomically, points at it, and
 * older snapshots are removed after the switch. A crash at any moment leaves a pointer to a
 * complete snapshot.
 */
export async function writeResumeCheckpoint(
  checkpointDir: string,
  step: number,
  variables: Map<string, tf.Variable>,
  optimizer: Optimizer,
): Promise<void> {
  const name = `step-${String(step).padStart(6, '0')}`;
  const dir = join(checkpointDir, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const state = optimizer.getState();
  await saveTensors(join(dir, 'weights.safetensors'), variables);
  await saveTensors(join(dir, 'optimizer.safetensors'), state.tensors);
  tf.dispose(Object.values(state.tensors));
  await writeJsonAtomic(join(checkpointDir, RESUME_CHECKPOINT_FILE), {
    v: 1,
    dir: name,
    step,
    optimizerStep: state.step,
  } satisfies ResumeCheckpoint);
  for (const entry of await readdir(checkpointDir)) {
    if (entry.startsWith('step-') && entry !== name) await rm(join(checkpointDir, entry), { recursive: true, force: true });
  }
}

/**
 * Restores the resume checkpoint in `checkpointDir`, if there is one, into `variables` and
 * `optimizer`, and returns its pointer and snapshot folder; undefined when none was written.
 * checkpoint.json is validated: a malformed one is an InputError naming the file and field.
 */
export async function readResumeCheckpoint(
  checkpointDir: string,
  variables: Map<string, tf.Variable>,
  optimizer: Optimizer,
): Promise<(ResumeCheckpoint & { snapshot: string }) | undefined> {
  const pointer = join(checkpointDir, RESUME_CHECKPOINT_FILE);
  if (!existsSync(pointer)) return undefined;
  const meta = await readJsonFile(pointer, ResumeCheckpointSchema);
  const snapshot = join(checkpointDir, meta.dir);
  const weights = await loadTensors(join(snapshot, 'weights.safetensors'));
  try {
    for (const [name, variable] of variables) {
      const t = weights.get(name);
      if (!t) throw new Error(`${snapshot}: resume checkpoint lacks weight ${name}`);
      variable.assign(t);
    }
  } finally {
    tf.dispose([...weights.values()]);
  }
  const opt = await loadTensors(join(snapshot, 'optimizer.safetensors'));
  optimizer.setState({ step: meta.optimizerStep, tensors: Object.fromEntries(opt) });
  tf.dispose([...opt.values()]);
  return { ...meta, snapshot };
}
