import { z } from 'zod';
import { LoraConfigSchema } from './model-spec.js';
import { RewardConfigSchema, StopConfigSchema } from './protocol-config.js';

/**
 * Settings of one Iterative RPO iteration. Defaults are the paper's GSM8K settings scaled to
 * what a laptop CPU runs; each field says why it exists.
 */
export const IterationConfigSchema = z
  .object({
    /** Samples drawn per training prompt (paper: N = 30 on GSM8K). */
    n: z.number().int().positive().default(30),
    /** Most pairs kept per prompt (paper: K = 10). */
    k: z.number().int().positive().default(10),
    /** Sampling temperature (paper, GSM8K: 0.8 for iterations 1–2, 1.3 for iterations 3–4). */
    temperature: z.number().nonnegative().default(0.8),
    /** Top-p nucleus sampling; 1 disables it. */
    topP: z.number().gt(0).max(1).default(1),
    /** Longest completion sampled, in tokens. */
    maxNewTokens: z.number().int().positive().default(512),
    /** Passes over the pairs (paper: trains to convergence of the dev accuracy, ~5000 steps). */
    epochs: z.number().positive().default(1),
    /** Upper bound on optimiser steps this iteration; null means epochs decide. */
    maxSteps: z.number().int().positive().nullable().default(null),
    /**
     * Drop samples cut off by `maxNewTokens` (finishReason 'length') from pairing entirely.
     * A truncated sample is never a winner (its NLL would teach stopping mid-answer); with
     * false it may still be a loser.
     */
    dropTruncated: z.boolean().default(true),
  })
  .strict();
export type IterationConfig = z.output<typeof IterationConfigSchema>;

/** The same fields, all optional and without defaults: what an override may change. */
export const IterationOverrideSchema = z
  .object({
    n: z.number().int().positive(),
    k: z.number().int().positive(),
    temperature: z.number().nonnegative(),
    topP: z.number().gt(0).max(1),
    maxNewTokens: z.number().int().positive(),
    epochs: z.number().positive(),
    maxSteps: z.number().int().positive().nullable(),
    dropTruncated: z.boolean(),
  })
  .partial()
  .strict();
export type IterationOverride = z.output<typeof IterationOverrideSchema>;

/** The optimisation and loss settings of the preference step. */
export const TrainingConfigSchema = z
  .object({
    /** Loss: the paper's DPO+NLL, plain DPO (the ablation that fails), or IPO. */
    loss: z.enum(['dpo-nll', 'dpo', 'ipo']).default('dpo-nll'),
    /** DPO temperature on the log-ratio margin (paper: 0.1). */
    beta: z.number().positive().default(0.1),
    /** Weight of the winner's length-normalised NLL (paper: 1; 0 is plain DPO). */
    alpha: z.number().nonnegative().default(1),
    /** Label smoothing for conservative DPO; 0 is the paper's loss. */
    labelSmoothing: z.number().min(0).max(0.5).default(0),
    /** How the NLL term is normalised: per sequence (paper) or per token of the batch (TRL). */
    nllNormalization: z.enum(['per-sequence', 'token-mean']).default('per-sequence'),
    /** Peak learning rate (paper: 1e-6 for 70B; tiny models need far larger). */
    lr: z.number().positive().default(1e-6),
    schedule: z.enum(['constant', 'cosine', 'linear']).default('constant'),
    /** Linear warm-up steps before the schedule. */
    warmupSteps: z.number().int().nonnegative().default(0),
    /** Pairs per optimiser step, before accumulation (paper: 16). */
    batchSize: z.number().int().positive().default(16),
    /** Micro-batches accumulated per optimiser step, to trade memory for time. */
    gradAccum: z.number().int().positive().default(1),
    /** Decoupled weight decay (AdamW); never applied to norms and biases. */
    weightDecay: z.number().nonnegative().default(0),
    /** Global gradient-norm clip; 0 disables it. */
    maxGradNorm: z.number().nonnegative().default(1),
    adamBeta1: z.number().min(0).lt(1).default(0.9),
    adamBeta2: z.number().min(0).lt(1).default(0.999),
    adamEps: z.number().positive().default(1e-8),
    /** Steps between checkpoints written for crash recovery. */
    checkpointEvery: z.number().int().positive().default(50),
    /**
     * With a dev split (task.devLimit): score greedy dev accuracy every S steps and after the last,
     * and keep the best as M(t), earliest on ties (paper: checkpoints chosen on held-out problems).
     * null: scored once, after the last step.
     */
    evalEvery: z.number().int().positive().nullable().default(null),
    /**
     * Recompute each block's activations in the backward pass instead of keeping them (HF's
     * gradient checkpointing): far less memory per token (what lets a 135M model train on the
     * wasm heap) for about a third more compute.
     */
    gradientCheckpointing: z.boolean().default(false),
    /**
     * Train a LoRA adapter on the frozen model instead of every weight (null: full fine-tuning).
     * Each iteration saves the adapter in PEFT's layout (iter-t/adapter/) and the merged model
     * (iter-t/model/). LoRA typically wants ~10x the full fine-tuning learning rate.
     */
    lora: LoraConfigSchema.nullable().default(null),
    /**
     * Stored dtype of each M(t). auto: M0's (its config.json torch_dtype, else its weights'), so a
     * server runs M(t) at the precision it ran M0 (vLLM's --dtype auto reads torch_dtype); the
     * trained float32 weights are rounded to it, and the next iteration starts from what was saved.
     */
    saveDtype: z.enum(['auto', 'float32', 'bfloat16', 'float16']).default('auto'),
    /**
     * Hand each iteration's reference and train stages to another trainer (TRL, OpenRLHF,
     * `irpo train`, any command): a template run by /bin/sh with {model} (M(t-1), also the
     * reference), {pairs}, {pairs_dir}, {out}, {config}, {iter}, {seed}, {beta}, {alpha}, {lr},
     * {epochs} and {batch_size} substituted, shell-quoted. Absent: irpo trains in process.
     */
    launch: z.string().min(1).optional(),
    /**
     * With `launch`: how {pairs} is written for the trainer. conversational: message lists
     * (TRL and OpenRLHF apply the chat template); standard: the prompt rendered as irpo renders it
     * and completions ending with EOS as irpo trains them; tokens: prompt_ids/chosen_ids/
     * rejected_ids as irpo tokenises them. Absent: conversational when prompt.format resolves
     * to chat, else standard.
     */
    pairsFormat: z.enum(['conversational', 'standard', 'tokens']).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.pairsFormat !== undefined && t.launch === undefined)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['pairsFormat'],
        message: 'training.pairsFormat only applies with training.launch',
      });
  });
export type TrainingConfig = z.output<typeof TrainingConfigSchema>;

export const TaskConfigSchema = z
  .object({
    /** Built-in task name: arith (synthetic, no download), gsm8k, math, arc. */
    name: z.enum(['arith', 'gsm8k', 'math', 'arc']).default('arith'),
    /** Data file or folder for tasks that read one (gsm8k, math, arc). */
    path: z.string().optional(),
    /** Use only the first N training prompts; null for all. */
    trainLimit: z.number().int().positive().nullable().default(null),
    /** Evaluate on the first N test problems; null for all. */
    testLimit: z.number().int().positive().nullable().default(null),
    /**
     * Dev split of N problems for checkpoint selection and the stop rule; null: none (each
     * iteration keeps its last step). Never sampled, paired or trained on.
     */
    devLimit: z.number().int().positive().nullable().default(null),
    /**
     * Where the dev problems come from. train: N held out of the training split, chosen by the
     * seed (paper: 1k GSM8K training problems); dev: the first N of the task's own validation split
     * (ARC-Challenge and arith have one).
     */
    devFrom: z.enum(['train', 'dev']).default('train'),
    /**
     * Add the dataset's gold solution to every prompt's winners as one more correct answer
     * (paper, GSM8K): it comes first among the winners, before the correct samples in sample
     * order, so each prompt with a wrong sample gets a gold pair; the K pairs are then drawn
     * from winners × losers as without it.
     */
    goldAsWinner: z.boolean().default(false),
    /** Prompt template file; the task's paper template when absent. */
    template: z.string().optional(),
    /** Difficulty knobs of the built-in arith task (see @irpo/data ArithOptions). */
    arith: z
      .object({
        seed: z.number().int(),
        minSteps: z.number().int().positive(),
        maxSteps: z.number().int().positive(),
        maxStart: z.number().int().positive(),
        maxOperand: z.number().int().positive(),
        maxValue: z.number().int().positive(),
        maxFactor: z.number().int().min(2),
        operations: z.array(z.enum(['add', 'sub', 'mul', 'div'])).min(1),
        size: z
          .object({ train: z.number().int().positive(), test: z.number().int().positive(), dev: z.number().int().positive() })
          .partial(),
      })
      .partial()
      .strict()
      .optional(),
  })
  .strict();
export type TaskConfig = z.output<typeof TaskConfigSchema>;

export const PromptConfigSchema = z
  .object({
    /**
     * How the task's prompt reaches the model. chat: rendered with the model's chat template
     * (tokenizer_config.json `chat_template` or chat_template.jinja) as the single user turn plus
     * the assistant's turn opener, in sampling, reference log-probs, training and eval alike;
     * plain: the prompt as written; auto: chat when the model has a template, else plain.
     */
    format: z.enum(['auto', 'chat', 'plain']).default('auto'),
  })
  .strict();
export type PromptConfig = z.output<typeof PromptConfigSchema>;

export const EvalConfigSchema = z
  .object({
    /** Samples per problem for majority vote; 0 evaluates greedy only (paper: maj@32). */
    majK: z.number().int().nonnegative().default(0),
    /** Temperature of the maj@k samples. */
    temperature: z.number().nonnegative().default(0.8),
    maxNewTokens: z.number().int().positive().default(512),
  })
  .strict();
export type EvalConfig = z.output<typeof EvalConfigSchema>;

export const EngineConfigSchema = z
  .object({
    /**
     * local: the model in process. http: OpenAI-compatible servers, either started by irpo per
     * stage (`launch`) or already running (`endpoints`); give exactly one of the two.
     */
    kind: z.enum(['local', 'http']).default('local'),
    /**
     * Command template of a server irpo starts for each sampling and eval stage and stops after
     * it, run by /bin/sh with {model} (the model folder), {port} (a free loopback port) and {seed}
     * substituted, e.g. `vllm serve {model} --port {port} --seed {seed} --served-model-name m`.
     * Its output goes to iter-t/engine.log.
     */
    launch: z.string().min(1).optional(),
    /** API roots of servers already running (e.g. http://127.0.0.1:8000/v1), all serving the same model. */
    endpoints: z.array(z.string().url()).min(1).optional(),
    /**
     * With `endpoints`: command template run by /bin/sh once per endpoint before iteration t >= 2
     * samples, with {model} (iter-(t-1)/model) and {endpoint} substituted, that makes that server
     * serve the new model. Without it, static endpoints only serve iteration 1.
     */
    reload: z.string().min(1).optional(),
    /**
     * How long a launched server may take to answer GET /v1/models (vLLM loads and compiles), and
     * how long after engine.reload the endpoints may take to list the new model there.
     */
    startupTimeoutS: z.number().positive().default(600),
    /** How long engine.reload's command may run before it is stopped and the run fails. */
    reloadTimeoutS: z.number().positive().default(900),
    /**
     * The longest one request may take: n samples of up to maxNewTokens each on a busy server
     * (vLLM: minutes for thousands of tokens). Past it the server is taken for hung: a launched
     * one is restarted once, then the run stops; a request moves to another static endpoint.
     */
    requestTimeoutS: z.number().positive().default(600),
    /**
     * completions: /v1/completions (with prompt.format resolving to chat, irpo renders the chat
     * template and sends the text); chat: /v1/chat/completions with the prompt as the single user
     * message (the server's chat template). When absent: chat when prompt.format resolves to chat,
     * else completions.
     */
    api: z.enum(['completions', 'chat']).optional(),
    /** Served model name sent to static endpoints; the first id /v1/models lists when absent. */
    model: z.string().min(1).optional(),
    /**
     * Name of the environment variable holding the API key (of a comma-separated list, the first
     * is sent); the key itself is never stored. A launched server inherits it: IRPO_API_KEY for a
     * keyed `irpo serve`. When absent: OPENAI_API_KEY (the OpenAI clients' variable) when it is
     * set, else IRPO_API_KEY (`irpo serve`'s), so a run against its own keyed server needs no setting.
     */
    apiKeyEnv: z.string().min(1).optional(),
    /**
     * What runs the forward passes that do not train (the local engine's sampling and eval, and
     * reference scoring, which is always in process): onnx is ONNX Runtime (onnxruntime-node, about
     * twice the TensorFlow.js wasm speed on a CPU), tfjs the TensorFlow.js model; auto takes ONNX
     * Runtime when it loads, else TensorFlow.js, and logs why. Training always runs on TensorFlow.js.
     */
    runtime: z.enum(['auto', 'onnx', 'tfjs']).default('auto'),
    /** Prompts decoded together by the local engine. */
    batchSize: z.number().int().positive().default(32),
    /**
     * Requests in flight at once, for kind http, over all endpoints: every sampling and eval stage
     * keeps this many going (one prompt with its n samples each). vLLM batches what is in flight:
     * raise it until the server's throughput stops growing (often 64-256 per GPU).
     */
    concurrency: z.number().int().positive().default(8),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.kind === 'http' && (e.launch === undefined) === (e.endpoints === undefined)) {
      const both = e.launch !== undefined;
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [both ? 'endpoints' : 'launch'],
        message: both
          ? 'engine.kind http takes engine.launch or engine.endpoints, not both'
          : 'engine.kind http needs engine.launch (a server command template) or engine.endpoints (running servers)',
      });
    }
    if (e.kind === 'local') {
      for (const f of ['launch', 'endpoints', 'reload', 'model'] as const) {
        if (e[f] !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [f], message: `engine.${f} needs engine.kind: http` });
      }
    }
    if (e.reload !== undefined && e.endpoints === undefined)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['reload'], message: 'engine.reload only applies to engine.endpoints' });
    if (e.model !== undefined && e.endpoints === undefined)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['model'],
        message: 'engine.model only applies to engine.endpoints (a launched server is asked its model name)',
      });
  });
export type EngineConfig = z.output<typeof EngineConfigSchema>;

/** The training fields, all optional and without defaults: what one method of a comparison may change. */
const TrainingOverrideSchema = z
  .object(
    Object.fromEntries(
      Object.entries(TrainingConfigSchema.shape).map(([k, v]) => [k, (v instanceof z.ZodDefault ? v.unwrap() : v).optional()]),
    ),
  )
  .strict() as unknown as z.ZodType<Partial<TrainingConfig>>;

/** One method's settings in a comparison, over the run's own (e.g. SFT's learning rate and epochs). */
export const MethodSettingsSchema = z
  .object({
    /** Training fields over the run's (an SFT method's own learning rate, say). */
    training: TrainingOverrideSchema.optional(),
    /** Training length of each of the method's iterations. */
    iteration: IterationOverrideSchema.pick({ epochs: true, maxSteps: true }).optional(),
  })
  .strict();
export type MethodSettings = z.output<typeof MethodSettingsSchema>;

/**
 * Per-method settings of a comparison (`irpo run|demo --compare`), so that each method trains
 * with settings that suit it (the SFT baselines need not share DPO's learning rate). Sampling
 * settings stay the run's: every method learns from the same iteration-1 samples.
 */
export const CompareConfigSchema = z
  .object({
    irpo: MethodSettingsSchema,
    dpo: MethodSettingsSchema,
    'sft-gold': MethodSettingsSchema,
    star: MethodSettingsSchema,
    'sft-chosen': MethodSettingsSchema,
  })
  .partial()
  .strict();
export type CompareConfig = z.output<typeof CompareConfigSchema>;

/** A whole Iterative RPO run (run.json holds it resolved). */
export const RunConfigSchema = z
  .object({
    v: z.literal(1).default(1),
    name: z.string().min(1).default('irpo'),
    /** Seeds sampling, pair choice, shuffling and initialisation. */
    seed: z.number().int().default(0),
    /** Model folder in Hugging Face layout (M0); the built-in tiny model when absent. */
    model: z.string().optional(),
    /** TensorFlow.js backend; best available when absent. */
    backend: z.enum(['tensorflow', 'wasm', 'cpu']).optional(),
    task: TaskConfigSchema.default(TaskConfigSchema.parse({})),
    prompt: PromptConfigSchema.default(PromptConfigSchema.parse({})),
    /** Number of iterations T (paper: 4 on GSM8K). */
    iterations: z.number().int().positive().default(4),
    /** Defaults for every iteration. */
    iteration: IterationConfigSchema.default(IterationConfigSchema.parse({})),
    /** Per-iteration overrides, index 0 for iteration 1 (e.g. a higher temperature later). */
    overrides: z.array(IterationOverrideSchema).default([]),
    training: TrainingConfigSchema.default(TrainingConfigSchema.parse({})),
    eval: EvalConfigSchema.default(EvalConfigSchema.parse({})),
    engine: EngineConfigSchema.default(EngineConfigSchema.parse({})),
    stop: StopConfigSchema.default(StopConfigSchema.parse({})),
    reward: RewardConfigSchema.default(RewardConfigSchema.parse({})),
    /** With --compare: each method's own training settings over these (see CompareConfigSchema); {}: all share them. */
    compare: CompareConfigSchema.default({}),
  })
  .strict();
export type RunConfig = z.output<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;

/** The settings of iteration t (1-based): defaults with that iteration's overrides applied. */
export function iterationSettings(config: RunConfig, t: number): IterationConfig {
  const override = config.overrides[t - 1] ?? {};
  return IterationConfigSchema.parse({ ...config.iteration, ...stripUndefined(override) });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
