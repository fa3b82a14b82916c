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
