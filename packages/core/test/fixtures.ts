import { readFileSync } from 'node:fs';

export interface LogprobCase {
  name: string;
  logits: number[][][];
  targets: number[][];
  mask: number[][];
  weights: number[];
  logps: number[];
  grad: number[][][];
}

export interface PairCase {
  name: string;
  beta: number;
  alpha: number;
  labelSmoothing: number;
  chosenLogits: number[][][];
  rejectedLogits: number[][][];
  chosenTargets: number[][];
  rejectedTargets: number[][];
  chosenMask: number[][];
  rejectedMask: number[][];
  refChosen: number[];
  refRejected: number[];
  policyChosen: number[];
  policyRejected: number[];
  dpo: number[];
  ipo: number[];
  nllPerSequence: number[];
  nllTokenMean: number;
  metrics: Record<string, number>;
  grads: Record<'dpoNllPerSequence' | 'dpoNllTokenMean' | 'ipo', { loss: number; chosen: number[][][]; rejected: number[][][] }>;
}

/** Golden values from tools/fixtures/core_losses.py (PyTorch, float64). */
export const coreLosses = JSON.parse(readFileSync(new URL('./fixtures/core-losses.json', import.meta.url), 'utf8')) as {
  logprobs: LogprobCase[];
  pairs: PairCase[];
  versions: Record<string, string>;
};
