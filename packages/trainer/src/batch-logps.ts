import { selectedLogProbs, sequenceLogProbs, tf } from '@irpo/core';
import type { PackedBatch } from './tokenize.js';
import type { TrainableLM } from './types.js';

/**
 * Summed response log-probs of each row of a packed batch [B] under `model` (differentiable).
 * With a model that can compute logits at chosen positions (LlamaModel.forwardAt) only the
 * response positions go through the head and the softmax; otherwise all of them do.
 */
export function batchLogProbs(model: TrainableLM, b: PackedBatch): tf.Tensor1D {
  return tf.tidy(() => {
    const ids = tf.tensor2d(b.inputIds, [b.batch, b.length], 'int32');
    const attn = tf.tensor2d(b.attentionMask, [b.batch, b.length]);
    if (model.forwardAt) {
      const positions: number[] = [];
      for (let i = 0; i < b.lossMask.length; i++) if (b.lossMask[i]) positions.push(i);
      const logits = model.forwardAt(ids, attn, tf.tensor1d(positions, 'int32')); // [N, V]
      const targets = tf.tensor1d(
        positions.map((i) => b.targets[i]!),
        'int32',
      );
      const rows = tf.tensor1d(
        positions.map((i) => Math.floor(i / b.length)),
        'int32',
      );
      return selectedLogProbs(logits, targets, rows, b.batch);
    }
    const targets = tf.tensor2d(b.targets, [b.batch, b.length], 'int32');
    const mask = tf.tensor2d(b.lossMask, [b.batch, b.length]);
    return sequenceLogProbs(model.forward(ids, attn), targets, mask);
  });
}
