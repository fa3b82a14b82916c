import { existsSync } from 'node:fs';
import { JsonlAppender, readJsonlAll, RefLogpsSchema, type PreferencePair, type RefLogps } from '@irpo/contracts';
import { padIdOf, type PromptFormat } from '@irpo/model';
import { batchLogProbs } from './batch-logps.js';
import { encodeSequence, packBatch, type EncodedSequence, type PackedBatch } from './tokenize.js';
import type { Tokenizer, TrainableLM } from './types.js';

export interface RefLogpsOptions {
  /** ref-logps.jsonl; appended as batches finish, so a crash loses at most one batch. */
  out: string;
  batchSize: number;
  onProgress?: (done: number, total: number) => void;
  /** How prompts are rendered and encoded (default plain): training must use the same. */
  promptFormat?: PromptFormat;
  /**
   * Scores a packed batch (summed response log-probs per row) instead of `model`: another runtime
   * holding the same weights (e.g. ONNX Runtime). Default: the model's own forward.
   */
  scoreBatch?: (batch: PackedBatch) => Promise<number[]>;
}

/** Summed response log-probs of each sequence under `model`, no gradient. */
export function scoreSequences(model: TrainableLM, sequences: readonly EncodedSequence[], padId: number): number[] {
  const logps = batchLogProbs(model, packBatch(sequences, padId));
  const out = Array.from(logps.dataSync());
  logps.dispose();
  return out;
}

/**
 * The reference model's log-probs of every pair, computed once per iteration with M(t-1) before
 * training starts, so training never holds a second model. Resumable: pairs already in `out`
 * are kept.
 */
export async function computeRefLogps(
  model: TrainableLM,
  tokenizer: Tokenizer,
  pairs: readonly PreferencePair[],
  o: RefLogpsOptions,
): Promise<Map<string, RefLogps>> {
  const have = new Map<string, RefLogps>();
  if (existsSync(o.out)) {
    for (const r of await readJsonlAll(o.out, RefLogpsSchema, { tolerateTruncatedTail: true })) have.set(r.pairId, r);
  }
  const todo = pairs.filter((p) => !have.has(p.id));
  const pad = padIdOf(tokenizer);
  const appender = await JsonlAppender.open(o.out);
  try {
    for (let i = 0; i < todo.length; i += o.batchSize) {
      const batch = todo.slice(i, i + o.batchSize);
      const chosen = batch.map((p) => encodeSequence(tokenizer, p.prompt, p.chosen, p.chosenEnded ?? true, o.promptFormat));
      const rejected = batch.map((p) => encodeSequence(tokenizer, p.prompt, p.rejected, p.rejectedEnded ?? true, o.promptFormat));
      const sequences = [...chosen, ...rejected];
      const scores = o.scoreBatch ? await o.scoreBatch(packBatch(sequences, pad)) : scoreSequences(model, sequences, pad);
      const rows: RefLogps[] = batch.map((p, j) => ({
        v: 1,
        pairId: p.id,
        chosen: scores[j]!,
        rejected: scores[batch.length + j]!,
        chosenTokens: chosen[j]!.responseIds.length,
        rejectedTokens: rejected[j]!.responseIds.length,
      }));
      await appender.appendMany(rows);
      for (const r of rows) have.set(r.pairId, r);
      o.onProgress?.(pairs.length - todo.length + i + batch.length, pairs.length);
    }
  } finally {
    await appender.close();
  }
  return have;
}
