import { encodePrompt, PLAIN_PROMPT, type PromptFormat } from '@irpo/model';
import type { Tokenizer } from './types.js';

/** A prompt and one response as token ids; the response ends with EOS when it really ended. */
export interface EncodedSequence {
  promptIds: number[];
  responseIds: number[];
}

/**
 * Encodes prompt and response separately and concatenates them, as generation sees them: the
 * response continues the prompt's ids. The prompt goes through `format` (default plain: as
 * written, with the tokenizer's BOS); under a chat format it is the rendered template, whose
 * tokens all count as prompt, so no loss and no log-prob is ever taken on them. With `appendEos`
 * (the default) the response gets the tokenizer's first EOS appended so training teaches the
 * model where to stop; pass false for a response cut off by the token limit, which must not
 * teach stopping there.
 */
export function encodeSequence(
  tokenizer: Tokenizer,
  prompt: string,
  response: string,
  appendEos = true,
  format: PromptFormat = PLAIN_PROMPT,
): EncodedSequence {
  const promptIds = encodePrompt(tokenizer, format, prompt);
  const responseIds = tokenizer.encode(response, { addSpecialTokens: false });
  const eos = tokenizer.eosTokenIds[0];
  if (appendEos && eos !== undefined) responseIds.push(eos);
  return { promptIds, responseIds };
}

/** Tokens the model reads for a sequence (prompt + response, minus the last target). */
export function sequenceLength(s: EncodedSequence): number {
  return s.promptIds.length + s.responseIds.length;
}

/**
 * Right-padded arrays for a batch of sequences, shifted for next-token prediction: position t of
 * `inputIds` predicts `targets[t]`; `lossMask` is 1 exactly where the target is a response token
 * (never a prompt token, never padding).
 */
export interface PackedBatch {
  batch: number;
  length: number;
  inputIds: Int32Array; // [batch, length]
  attentionMask: Float32Array; // [batch, length]
  targets: Int32Array; // [batch, length]
  lossMask: Float32Array; // [batch, length]
  responseLengths: number[]; // response tokens per row (EOS included when appended)
}

export function packBatch(sequences: readonly EncodedSequence[], padId: number): PackedBatch {
  const batch = sequences.length;
  const length = Math.max(1, ...sequences.map((s) => sequenceLength(s) - 1));
  const inputIds = new Int32Array(batch * length).fill(padId);
  const attentionMask = new Float32Array(batch * length);
  const targets = new Int32Array(batch * length).fill(padId);
  const lossMask = new Float32Array(batch * length);
  const responseLengths: number[] = [];
  sequences.forEach((s, b) => {
    const ids = [...s.promptIds, ...s.responseIds];
    const n = ids.length - 1;
    for (let t = 0; t < n; t++) {
      inputIds[b * length + t] = ids[t]!;
      attentionMask[b * length + t] = 1;
      targets[b * length + t] = ids[t + 1]!;
      // target index t+1 is a response token when t+1 >= promptIds.length
      if (t + 1 >= s.promptIds.length) lossMask[b * length + t] = 1;
    }
    responseLengths.push(s.responseIds.length);
  });
  return { batch, length, inputIds, attentionMask, targets, lossMask, responseLengths };
}
