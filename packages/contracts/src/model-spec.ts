import { z } from 'zod';

/**
 * The architecture of a Llama-family decoder, independent of any checkpoint format. The model
 * package maps Hugging Face `config.json` to and from this.
 */
export const ModelSpecSchema = z
  .object({
    /** Hugging Face architecture name this spec round-trips to. */
    architecture: z.enum(['LlamaForCausalLM', 'Qwen2ForCausalLM', 'MistralForCausalLM']).default('LlamaForCausalLM'),
    vocabSize: z.number().int().positive(),
    hiddenSize: z.number().int().positive(),
    intermediateSize: z.number().int().positive(),
    numLayers: z.number().int().positive(),
    numHeads: z.number().int().positive(),
    /** Key/value heads; fewer than numHeads is grouped-query attention. */
    numKvHeads: z.number().int().positive(),
    /** Per-head size; hiddenSize / numHeads unless the checkpoint says otherwise. */
    headDim: z.number().int().positive().optional(),
    maxPositions: z.number().int().positive(),
    ropeTheta: z.number().positive().default(10000),
    /** Llama 3 style rope scaling, when present. */
    ropeScaling: z
      .object({
        ropeType: z.literal('llama3'),
        factor: z.number().positive(),
        lowFreqFactor: z.number().positive(),
        highFreqFactor: z.number().positive(),
        originalMaxPositions: z.number().int().positive(),
      })
      .nullable()
      .default(null),
    rmsNormEps: z.number().positive().default(1e-5),
    tieWordEmbeddings: z.boolean().default(false),
    /** Biases on the q, k and v projections (Qwen2). */
    attentionBias: z.boolean().default(false),
    bosTokenId: z.number().int().nonnegative().nullable().default(null),
    eosTokenId: z
      .union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())])
      .nullable()
      .default(null),
    padTokenId: z.number().int().nonnegative().nullable().default(null),
  })
  .refine((s) => s.numHeads % s.numKvHeads === 0, {
    message: 'numHeads must be a multiple of numKvHeads',
    path: ['numKvHeads'],
  });
export type ModelSpec = z.output<typeof ModelSpecSchema>;
