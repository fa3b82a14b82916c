import { z } from 'zod';

const finite = z.number().finite();

/** Per optimiser step metrics of supervised fine-tuning (sft-log.jsonl). */
export const SftStepMetricsSchema = z.object({
  v: z.literal(1).default(1),
  step: z.number().int().nonnegative(),
  epoch: z.number().nonnegative(),
  loss: finite,
  /** Mean per-token negative log-likelihood of the targets. */
  nll: finite,
  grad_norm: finite,
  lr: z.number().nonnegative(),
  tokens_per_s: z.number().nonnegative(),
});
export type SftStepMetrics = z.output<typeof SftStepMetricsSchema>;

/**
 * One supervised training example (a line of sft-examples.jsonl): the rendered prompt and the
 * completion trained on, e.g. a gold chain of thought or a correct sample (STaR).
 */
export const SftExampleSchema = z.object({
  v: z.literal(1).default(1),
  /** The training problem it came from. */
  problemId: z.string().min(1),
  prompt: z.string(),
  completion: z.string(),
  /** False for a completion cut off by the token limit: no EOS is trained after it. */
  ended: z.boolean().default(true),
});
export type SftExampleRecord = z.output<typeof SftExampleSchema>;
