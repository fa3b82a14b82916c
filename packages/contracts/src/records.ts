import { z } from 'zod';

/**
 * Records persisted by the pipeline. Every record carries `v`, its schema version, so a reader
 * can tell an old file from a new one; files from other tools without `v` read as version 1.
 */
const version = z.literal(1).default(1);

/** One task item: what the sampler prompts with and the checker judges against. */
export const ProblemSchema = z.object({
  v: version,
  /** Stable id within the task and split (e.g. `gsm8k/test/17`); keys samples and pairs. */
  id: z.string().min(1),
  /** The question as the dataset states it, without any prompt template. */
  question: z.string(),
  /** Gold final answer, as the task's checker reads it (`"72"`, `"\\frac{1}{2}"`, `"B"`). */
  answer: z.string(),
  /** Gold chain-of-thought solution when the dataset has one (GSM8K, MATH, arith). */
  solution: z.string().optional(),
  /** Multiple-choice options (ARC); labels as in the source data. */
  choices: z.array(z.object({ label: z.string(), text: z.string() })).optional(),
  /** Free-form metadata kept for breakdowns (MATH subject and level, ARC key scheme). */
  meta: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type Problem = z.output<typeof ProblemSchema>;

export const FinishReasonSchema = z.enum(['stop', 'length', 'eos']);
export type FinishReason = z.infer<typeof FinishReasonSchema>;

/** One sampled chain of thought, scored (a line of samples.jsonl). */
export const SampleSchema = z.object({
  v: version,
  problemId: z.string().min(1),
  /** 0-based index among the N samples drawn for this problem; (problemId, index) is unique. */
  index: z.number().int().nonnegative(),
  /** The rendered prompt the completion continues; stored so pairs need no task to rebuild it. */
  prompt: z.string(),
  completion: z.string(),
  /** Extracted final answer; null when the completion states none (it then counts as wrong). */
  answer: z.string().nullable(),
  correct: z.boolean(),
  /**
   * The reward training used when it is not `correct` itself (reward.flipProbability > 0: the
   * flipped or kept value); absent means the reward is `correct`.
   */
  reward: z.boolean().optional(),
  /** Completion length in tokens of the sampling model. */
  tokens: z.number().int().nonnegative(),
  finishReason: FinishReasonSchema,
  temperature: z.number().nonnegative().optional(),
  seed: z.number().int().optional(),
});
export type Sample = z.output<typeof SampleSchema>;

/**
 * A preference pair (a line of pairs.jsonl). `prompt`, `chosen`, `rejected` are the keys TRL's
 * DPOTrainer reads, so the file trains there unchanged.
 */
export const PreferencePairSchema = z.object({
  v: version,
  id: z.string().min(1),
  problemId: z.string().min(1),
  prompt: z.string(),
  chosen: z.string(),
  rejected: z.string(),
  /** Where the winner came from: a correct sample, or the dataset's gold solution. */
  chosenSource: z.enum(['sample', 'gold']).default('sample'),
  chosenIndex: z.number().int().nonnegative().nullable().optional(),
  rejectedIndex: z.number().int().nonnegative().optional(),
  /**
   * Whether each side really ended (EOS or a stop string) rather than being cut off by
   * `maxNewTokens`; only an ended response gets EOS appended when trained. Absent (older
   * pairs.jsonl, TRL exports) reads as true. Winners always end, so `chosenEnded` is false only
   * in files written by other tools.
   */
  chosenEnded: z.boolean().optional(),
  rejectedEnded: z.boolean().optional(),
});
export type PreferencePair = z.output<typeof PreferencePairSchema>;

/** Reference-model log-probs of one pair, summed over response tokens (ref-logps.jsonl). */
export const RefLogpsSchema = z.object({
  v: version,
  pairId: z.string().min(1),
  chosen: z.number().finite(),
  rejected: z.number().finite(),
  chosenTokens: z.number().int().positive(),
  rejectedTokens: z.number().int().positive(),
});
export type RefLogps = z.output<typeof RefLogpsSchema>;

const finite = z.number().finite();

/** Per optimiser step metrics (train-log.jsonl), under TRL's names where TRL has one. */
export const TrainStepMetricsSchema = z.object({
  v: version,
  step: z.number().int().nonnegative(),
  epoch: z.number().nonnegative(),
  loss: finite,
  dpo: finite,
  nll: finite,
  'rewards/chosen': finite,
  'rewards/rejected': finite,
  'rewards/margins': finite,
  'rewards/accuracies': z.number().min(0).max(1),
  'logps/chosen': finite,
  'logps/rejected': finite,
  grad_norm: finite,
  lr: z.number().nonnegative(),
  tokens_per_s: z.number().nonnegative(),
});
export type TrainStepMetrics = z.output<typeof TrainStepMetricsSchema>;

/**
 * A train-log.jsonl line as reports read it. irpo's own trainer writes every metric; a trainer
 * irpo launched (training.launch) logs only some (TRL has no `dpo`/`nll` split without
 * `loss_type sft`, OpenRLHF no grad_norm), and a metric it did not log stays absent, never 0.
 */
export const TrainLogRecordSchema = TrainStepMetricsSchema.partial().required({ step: true });
export type TrainLogRecord = z.output<typeof TrainLogRecordSchema>;

/** An accuracy with its count and a 95% confidence interval (Wilson). */
export const AccuracySchema = z.object({
  accuracy: z.number().min(0).max(1),
  correct: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  ci95: z.tuple([z.number(), z.number()]),
});
export type Accuracy = z.output<typeof AccuracySchema>;

/** Evaluation of one model on one split (eval.json). */
export const EvalReportSchema = z.object({
  v: version,
  task: z.string(),
  split: z.string(),
  /** Model directory, endpoint or name. */
  model: z.string(),
  problems: z.number().int().nonnegative(),
  greedy: AccuracySchema,
  /** Majority vote over k samples per problem, keyed by k (`"32"`). */
  maj: z.record(z.string(), AccuracySchema).default({}),
  /** Unbiased pass@k, keyed by k. */
  pass: z.record(z.string(), z.number().min(0).max(1)).default({}),
  /** Accuracy per group (MATH subject/level, ARC key), keyed by `dimension=value`. */
  breakdown: z.record(z.string(), AccuracySchema).default({}),
  createdAt: z.string(),
});
export type EvalReport = z.output<typeof EvalReportSchema>;
