/**
 * @irpo/onnx: the Llama-family graph built in TypeScript from a checkpoint, run by ONNX Runtime
 * (onnxruntime-node) for every forward pass that does not train: scoring and KV-cache decoding.
 */
export { GraphBuilder, DType, OPSET } from './graph-builder.js';
export { buildLlamaGraph, type LlamaGraphKind, type LlamaGraphOptions } from './llama-graph.js';
export { OnnxLlama, type OnnxLlamaOptions, type PackedTokens, type WeightSource } from './onnx-llama.js';
export { CACHE_CHUNK, OnnxKvCache } from './onnx-kv-cache.js';
export { loadOrt, ortThreads, type Ort, type OrtStatus } from './runtime.js';
export { decoderFor, decoderLanes, OnnxDecoderPool, POOL_MAX_PARAMS, PooledKvCache, type OnnxDecoderPoolOptions } from './decoder-pool.js';
export { DecodeRunner, type CacheDims } from './decode-runner.js';
