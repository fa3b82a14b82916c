import { existsSync } from 'node:fs';
import { readJsonlAll, SampleSchema, writeJsonAtomic, type EvalReport, type Problem } from '@irpo/contracts';
import type { Task } from '@irpo/data';
import { buildEvalReport, voteOptions } from '@irpo/evaluator';
import { sampleDataset, type Engine, type SampleDatasetOptions, type SampleProgress } from '@irpo/sampler';
import type { Progress } from './progress.js';

export interface EvaluateOptions {
  /** Name recorded in eval.json (model directory or endpoint). */
  modelName: string;
  split: string;
  maxNewTokens: number;
  /** maj@k samples per problem (0: greedy only) and their temperature. */
  majK: number;
  temperature: number;
  seed: number;
  /** Where greedy and voting samples go (resumable), and eval.json. */
  greedyFile: string;
  votesFile: string;
  out: string;
  batchSize?: number;
  progress?: Progress;
  label?: string;
  /** Extra progress callbacks for engines that say more (requests in flight, stalls): engineProgress. */
  engineProgress?: (extra: (p: SampleProgress) => string) => Pick<SampleDatasetOptions, 'onProgress' | 'onStall' | 'stallWarnS'>;
}

/**
 * Greedy accuracy (and maj@k when asked) of an engine's model on `problems`. Samples are written
 * as they come, so a crash mid-evaluation resumes; eval.json is written last, atomically.
 */
export async function evaluateModel(engine: Engine, task: Task, problems: Problem[], o: EvaluateOptions): Promise<EvalReport> {
  const label = o.label ?? 'eval';
  o.progress?.start(`${label} · greedy`, problems.length, 'problems');
  await sampleDataset(problems, task, engine, {
    n: 1,
    temperature: 0,
    maxNewTokens: o.maxNewTokens,
    seed: o.seed,
    out: o.greedyFile,
    batchSize: o.batchSize,
    onProgress: (p) => o.progress?.update(p.done, `${p.correct} correct`),
    ...o.engineProgress?.((p) => `${p.correct} correct`),
  });
  const greedy = await readJsonlAll(o.greedyFile, SampleSchema);
  o.progress?.done(`${greedy.filter((s) => s.correct).length}/${problems.length} correct`);
  let votes = undefined;
  if (o.majK > 0) {
    o.progress?.start(`${label} · maj@${o.majK}`, problems.length * o.majK, 'samples');
    await sampleDataset(problems, task, engine, {
      n: o.majK,
      temperature: o.temperature,
      maxNewTokens: o.maxNewTokens,
      seed: o.seed + 1,
      out: o.votesFile,
      batchSize: o.batchSize,
      onProgress: (p) => o.progress?.update(p.done),
      ...o.engineProgress?.(() => `${o.majK} per problem`),
    });
    votes = existsSync(o.votesFile) ? await readJsonlAll(o.votesFile, SampleSchema) : [];
    o.progress?.done(`${votes.length} samples`);
  }
  const report = buildEvalReport({
    task: task.name,
    split: o.split,
    model: o.modelName,
    problems,
    greedySamples: greedy,
    samples: votes,
    majK: o.majK > 0 ? o.majK : undefined,
    ...voteOptions(task),
  });
  await writeJsonAtomic(o.out, report);
  return report;
}
