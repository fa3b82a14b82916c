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

/** The linear layers of a Llama-family block a LoRA adapter may target (PEFT's module names). */
export const LORA_TARGET_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTargetModule = (typeof LORA_TARGET_MODULES)[number];

/**
 * A LoRA adapter (Hu et al. 2021, as PEFT implements it): each targeted linear W [out, in]
 * computes W x + (alpha / r) · B (A dropout(x)) with A [r, in] and B [out, r]. Field names
 * map to PEFT's adapter_config.json as r → r, alpha → lora_alpha, dropout → lora_dropout,
 * targetModules → target_modules.
 */
export const LoraConfigSchema = z
  .object({
    /** Rank of the update. */
    r: z.number().int().positive().default(16),
    /** The update is scaled by alpha / r. */
    alpha: z.number().positive().default(32),
    /** Dropout on the adapter's input while training, in [0, 1). */
    dropout: z.number().min(0).lt(1).default(0),
    targetModules: z
      .array(z.enum(LORA_TARGET_MODULES))
      .min(1)
      .refine((m) => new Set(m).size === m.length, { message: 'target modules must not repeat' })
      .default([...LORA_TARGET_MODULES]),
  })
  .strict();
export type LoraConfig = z.output<typeof LoraConfigSchema>;
export type LoraConfigInput = z.input<typeof LoraConfigSchema>;
