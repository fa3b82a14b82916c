import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  fillTemplate,
  groupAlive,
  iterationSettings,
  startProcessGroup,
  stopGroup,
  writeJsonAtomic,
  writeJsonlAtomic,
  type PreferencePair,
} from '@irpo/contracts';
import { loadTokenizer } from '@irpo/model';
import { runPromptFormat } from '../prompt-format.js';
import type { StageContext } from '../stages.js';
import { adoptTrainerOutput, findTrainerOutput } from './adopt-trainer-output.js';
import { collectTrainerMetrics } from './trainer-metrics.js';
import { resolvePairsFormat, trainerPairRow } from './trainer-pairs.js';

/** The launched trainer exited non-zero or was killed; the message ends with the last lines of its log. */
export class TrainerLaunchError extends Error {
  override readonly name = 'TrainerLaunchError';
  constructor(
    message: string,
    readonly command: string,
    readonly logTail: string,
  ) {
    super(message);
  }
}

export interface LaunchedTrainOptions {
  /** The run's resolved run.json, for {config}. */
  configFile: string;
  /** Seconds between "still running" lines (default 30). */
  heartbeatS?: number;
}

/**
 * The reference and train stages of iteration t handed to another trainer (training.launch): the
 * pairs written as it reads them (iter-t/trainer-data/train.jsonl, training.pairsFormat), the
 * command run by /bin/sh in its own process group with its output appended to iter-t/train.log,
 * and its result (found in iter-t/trainer-out/, checked, merged when an adapter) moved to
 * iter-t/model/ with its metrics in iter-t/train-log.jsonl. The stage is marked done only then:
 * a non-zero exit throws with the log's last lines, and a run killed meanwhile (irpo or the
 * trainer) relaunches the trainer from scratch on rerun, into an emptied {out}.
 */
export async function launchedTrainStage(
  ctx: StageContext,
  t: number,
  from: string,
  pairs: readonly PreferencePair[],
  o: LaunchedTrainOptions,
): Promise<{ modelDir: string }> {
  const { run, config, progress } = ctx;
  const modelDir = run.path(t, 'model');
  if (run.isDone(t, 'model')) return { modelDir };
  const template = config.training.launch;
  if (!template) throw new Error('launchedTrainStage: training.launch is not set');
  const it = iterationSettings(config, t);
  const label = ctx.label(t, 'training');

  const tokenizer = await loadTokenizer(from);
  const format = runPromptFormat(config, tokenizer);
  const rowFormat = resolvePairsFormat(config.training.pairsFormat, format);
  const dataDir = run.path(t, 'trainer-data');
  const pairsFile = join(dataDir, 'train.jsonl');
  await writeJsonlAtomic(
    pairsFile,
    pairs.map((p) => trainerPairRow(p, rowFormat, tokenizer, format)),
  );

  const pidFile = run.path(t, 'train.pid');
  await stopStale(pidFile);
  const out = run.path(t, 'trainer-out');
  await rm(out, { recursive: true, force: true }); // whatever a killed launch left
  await mkdir(out, { recursive: true });
  const command = fillTemplate(template, {
    model: resolve(from),
    pairs: resolve(pairsFile),
    pairs_dir: resolve(dataDir),
    out: resolve(out),
    config: resolve(o.configFile),
    iter: String(t),
    seed: String(ctx.seed(t, 'train')),
    beta: String(config.training.beta),
    alpha: String(config.training.alpha),
    lr: String(config.training.lr),
    epochs: String(it.epochs),
    batch_size: String(config.training.batchSize),
  });
  const logFile = run.path(t, 'train.log');
  progress.info(`${label}: ${pairs.length} pairs (${rowFormat}) handed to \`${command}\`; its output goes to ${logFile}`);
  const started = performance.now();
  const group = await startProcessGroup({ command, logFile });
  await writeJsonAtomic(pidFile, { pid: group.pid, command });
  const heartbeat = setInterval(
    () => {
      const last = group.logTail(1).trim().slice(0, 160);
      progress.info(`${label}: trainer running for ${elapsed(started)}${last ? ` · ${last}` : ''}`);
    },
    (o.heartbeatS ?? 30) * 1000,
  );
  let exit;
  try {
    exit = await group.exited;
  } finally {
    clearInterval(heartbeat);
  }
  await group.stop(); // children the shell left behind
  await rm(pidFile, { force: true });
  if (exit.code !== 0) {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const tail = group.logTail();
    throw new TrainerLaunchError(
      `${label}: the trainer \`${command}\` ${how}; nothing of iteration ${t}'s training was kept, and a rerun launches it again\n` +
        (tail ? `--- last lines of ${logFile} ---\n${tail}` : `(${logFile} has no output from it)`),
      command,
      tail,
    );
  }

  const output = await findTrainerOutput(out);
  const metrics = await collectTrainerMetrics(out, run.path(t, 'train-log.jsonl'));
  const { copied } = await adoptTrainerOutput({
    output,
    from,
    modelDir,
    adapterDir: run.path(t, 'adapter'),
    slot: ctx.slot,
    prompt: config.prompt,
  });
  await rm(out, { recursive: true, force: true }); // trainer states and older checkpoints: M(t) is in model/
  progress.info(
    `${label}: trainer done in ${elapsed(started)}; ${output.kind === 'adapter' ? 'adapter merged onto M(t-1)' : 'checkpoint'} from ${output.dir}` +
      `${copied.length > 0 ? ` (copied from M(t-1): ${copied.join(', ')})` : ''}; ` +
      (metrics.source ? `${metrics.records} metric records from ${metrics.source}` : 'no metrics found (train-log.jsonl not written)'),
  );
  await run.markDone(t, 'ref-logps');
  await run.markDone(t, 'train');
  await run.markDone(t, 'model');
  return { modelDir };
}

/** Stops a trainer a killed irpo left running (its group id in train.pid, its command line unchanged). */
async function stopStale(pidFile: string): Promise<void> {
  let recorded: { pid?: unknown; command?: unknown };
  try {
    recorded = JSON.parse(await readFile(pidFile, 'utf8')) as typeof recorded;
  } catch {
    return;
  }
  const { pid, command } = recorded;
  // A group id cannot be reused while any process of the group lives, so a live group whose
  // leader (the shell) is gone is still ours; a live leader must still run our command.
  const leader = typeof pid === 'number' ? cmdline(pid) : '';
  if (typeof pid === 'number' && typeof command === 'string' && groupAlive(pid) && (leader === '' || leader.includes(command))) {
    await stopGroup(pid);
  }
  await rm(pidFile, { force: true });
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

function elapsed(since: number): string {
  const s = Math.round((performance.now() - since) / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
