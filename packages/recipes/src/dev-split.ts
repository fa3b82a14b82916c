import { fnv1a, InputError, mulberry32, shuffleInPlace, type Problem, type RunConfig } from '@irpo/contracts';
import type { Task } from '@irpo/data';

/** The problems a run reads: what it samples and trains on, what it selects on, what it reports. */
export interface RunSplits {
  train: Problem[];
  /** Empty when the config has no dev split (task.devLimit null). */
  dev: Problem[];
  test: Problem[];
}

/** Where a run's dev problems came from, as run.json records it. */
export interface DevSplitRecord {
  from: 'train' | 'dev';
  problems: number;
  ids: string[];
}

/**
 * Loads the task's splits for a run. With task.devLimit N and devFrom `train`, N problems of the
 * whole training split are held out, chosen by the run seed (a shuffle of its indices), and the
 * training problems are the rest, in the dataset's order, cut to task.trainLimit; with devFrom
 * `dev`, the dev problems are the first N of the task's validation split. Dev problems are never
 * among the training ones either way.
 */
export async function loadRunSplits(task: Task, config: RunConfig): Promise<RunSplits> {
  const { trainLimit, testLimit, devLimit, devFrom } = config.task;
  const test = () => task.load('test', { limit: testLimit ?? undefined });
  if (devLimit === null) return { train: await task.load('train', { limit: trainLimit ?? undefined }), dev: [], test: await test() };
  if (devFrom === 'dev') {
    let dev: Problem[];
    try {
      dev = await task.load('dev', { limit: devLimit });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      throw new InputError(
        'run config',
        undefined,
        'task.devFrom',
        `${task.name} has no validation split to read (${e.message}); use devFrom: train`,
      );
    }
    return { train: await task.load('train', { limit: trainLimit ?? undefined }), dev, test: await test() };
  }
  const all = await task.load('train');
  if (devLimit >= all.length) {
    throw new InputError(
      'run config',
      undefined,
      'task.devLimit',
      `holds out ${devLimit} of the ${all.length} training problems and leaves none to train on; lower it`,
    );
  }
  const held = new Set(devIndices(all.length, devLimit, config.seed));
  const dev = all.filter((_, i) => held.has(i));
  const rest = all.filter((_, i) => !held.has(i));
  return { train: trainLimit === null ? rest : rest.slice(0, trainLimit), dev, test: await test() };
}

/** N indices of 0..size-1 chosen by `seed`, in increasing order: a seeded shuffle's first N. */
export function devIndices(size: number, n: number, seed: number): number[] {
  const order = shuffleInPlace(
    Array.from({ length: size }, (_, i) => i),
    mulberry32(fnv1a(`dev-split:${seed}`)),
  );
  return order.slice(0, n).sort((a, b) => a - b);
}

export const devSplitRecord = (config: RunConfig, dev: Problem[]): DevSplitRecord | undefined =>
  config.task.devLimit === null ? undefined : { from: config.task.devFrom, problems: dev.length, ids: dev.map((p) => p.id) };
