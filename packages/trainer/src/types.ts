/**
 * The model surface the trainer needs, structurally (shared/API: @irpo/model implements it).
 * Declared here so the trainer depends on a contract, not on one model class.
 */
import type { tf } from '@irpo/core';
import type { ModelSpec } from '@irpo/contracts';

export interface Tokenizer {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: number[];
  readonly padTokenId: number | null;
}

export interface TrainableLM {
  readonly spec: ModelSpec;
  forward(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): tf.Tensor3D;
  readonly variables: Map<string, tf.Variable>;
}
