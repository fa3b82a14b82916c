import type { CacheDims } from './decode-runner.js';

/** What a decoder worker starts from. */
export interface DecoderWorkerData {
  /** The decode graph (ModelProto bytes; a SharedArrayBuffer view when several workers load it). */
  graph: Uint8Array;
  threads: number;
  executionProviders: string[];
  dims: CacheDims;
}

/** A request to a decoder worker; `cache` names a batch's cache in that worker. */
export type DecoderRequest = { id: number; cache: number } & (
  | { op: 'prefill'; ids: Int32Array; mask: Int32Array; batch: number; length: number; maxNewTokens: number }
  | { op: 'decode'; tokens: Int32Array }
  | { op: 'select'; rows: number[] }
  | { op: 'dispose' }
);

/** The answer to request `id` (0: the worker's start); logits for prefill and decode. */
export interface DecoderReply {
  id: number;
  ready?: boolean;
  logits?: Float32Array;
  error?: string;
}
