import { ModelSpecSchema } from '@irpo/contracts';
import { expectedWeightShapes } from '@irpo/model';
import { describe, expect, it } from 'vitest';
import { buildLlamaGraph } from './llama-graph.js';

const spec = (numLayers: number) =>
  ModelSpecSchema.parse({
    vocabSize: 64,
    hiddenSize: 32,
    intermediateSize: 48,
    numLayers,
    numHeads: 4,
    numKvHeads: 2,
    maxPositions: 64,
    tieWordEmbeddings: false,
  });

/** Nodes of a decode graph: zero weights of the right sizes (only the structure is counted). */
function nodes(numLayers: number, fused: boolean): number {
  const s = spec(numLayers);
  const shapes = expectedWeightShapes(s);
  const g = buildLlamaGraph(s, (name) => new Float32Array(shapes.get(name)!.reduce((a, b) => a * b, 1)), 'decode', { fused });
  return [...g.opCounts().values()].reduce((a, b) => a + b, 0);
}

describe('decode graph size', () => {
  it('has 72 nodes a layer with standard ops and 46 with the fused kernels (the figures the docs quote)', () => {
    expect(nodes(3, false) - nodes(2, false)).toBe(72);
    expect(nodes(3, true) - nodes(2, true)).toBe(46);
  });

  it('uses the contrib kernels only when fused', () => {
    const shapes = expectedWeightShapes(spec(1));
    const w = (name: string) => new Float32Array(shapes.get(name)!.reduce((a, b) => a * b, 1));
    const fused = buildLlamaGraph(spec(1), w, 'decode').opCounts();
    const plain = buildLlamaGraph(spec(1), w, 'decode', { fused: false }).opCounts();
    // Per layer: two RoPE applications and two residual norms; plus the first layer's input norm.
    expect([
      fused.get('RotaryEmbedding'),
      fused.get('SkipSimplifiedLayerNormalization'),
      fused.get('SimplifiedLayerNormalization'),
    ]).toEqual([2, 2, 1]);
    expect([
      plain.get('RotaryEmbedding'),
      plain.get('SkipSimplifiedLayerNormalization'),
      plain.get('SimplifiedLayerNormalization'),
    ]).toEqual([undefined, undefined, undefined]);
  });
});
