import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { InputError, type RunConfig } from '@irpo/contracts';
import { EngineUnreachableError, fillTemplate, HttpEngine, launchEngine, LocalEngine, shellQuote, type Engine } from '@irpo/sampler';
import { inferenceModel } from './inference-runtime.js';
import { httpPromptPlan, runPromptFormat, runPromptFormatOf } from './prompt-format.js';
import type { StageContext } from './stages.js';

/** Which stage asks for an engine: its seed seeds a launched server's --seed. */
export type EngineUse = 'sample' | 'eval';

/** The folder a run's M0 lives in: the config's model, or iter-0/model. */
export const m0Dir = (ctx: Pick<StageContext, 'run' | 'config'>) => ctx.config.model ?? ctx.run.path(0, 'model');

/** The model folders static endpoints serve now (after a reload), per run context. */
const served = new WeakMap<object, string>();

/**
 * Static endpoints (engine.endpoints) serve whatever they were started with, which irpo takes to
 * be M0. Serving any other model needs engine.reload; this says what to do, or throws InputError
 * on engine.reload when it is not set.
 */
export function staticEndpointPlan(
  config: RunConfig,
  m0: string,
  t: number,
  modelDir: string,
  servedNow?: string,
): { reload: false } | { reload: true; commands: string[] } {
  const wanted = resolve(modelDir);
  if (wanted === resolve(servedNow ?? m0)) return { reload: false };
  const reload = config.engine.reload;
  if (reload === undefined) {
    throw new InputError(
      'run config',
      undefined,
      'engine.reload',
      `iteration ${t} needs ${modelDir} served, but engine.endpoints serve M0 (${m0}) and nothing tells irpo how to change that: ` +
        `make the servers serve ${modelDir} (for sampling at iteration t, M(t-1) = iter-(t-1)/model), e.g. set ` +
        `engine.reload to a command template run once per endpoint with {model} and {endpoint} substituted ` +
        `(like "curl -fsS -X POST {endpoint}/load -d model={model}"), or use engine.launch so irpo starts a server per stage`,
    );
  }
  const endpoints = config.engine.endpoints ?? [];
  return {
    reload: true,
    commands: endpoints.map((endpoint) => fillTemplate(reload, { model: shellQuote(modelDir), endpoint: shellQuote(endpoint) })),
  };
}

/** The first model id an OpenAI-compatible API root lists under /models. */
async function firstModelId(root: string, apiKeyEnv: string): Promise<string> {
  const key = process.env[apiKeyEnv];
  const url = root.replace(/\/+$/, '') + '/models';
  const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  if (!res.ok) throw new Error(`${url} answered ${res.status}: set engine.model to the served model's name`);
  const id = ((await res.json()) as { data?: { id?: string }[] }).data?.[0]?.id;
  if (!id) throw new Error(`${url} lists no model: set engine.model to the served model's name`);
  return id;
}

/**
 * Runs `fn` with an engine serving the model in `modelDir`, per config.engine. Prompts go through
 * the run's prompt format (runPromptFormat): rendered in process, or sent as httpPromptPlan says.
 * - kind local: a LocalEngine over the model slot (loaded once, kept for the next stage), on ONNX
 *   Runtime or TensorFlow.js per engine.runtime (inferenceModel);
 * - kind http with launch: frees the in-process model, starts the server (its output appended to
 *   iter-t/engine.log), runs `fn`, stops the server. When the server dies mid-way
 *   (EngineUnreachableError) it is started once more and `fn` runs again: the stages resume from
 *   what is on disk. A second death stops the run;
 * - kind http with endpoints: the running servers, after engine.reload when they must serve
 *   another model than M0 (see staticEndpointPlan).
 */
export async function withEngine<T>(
  ctx: StageContext,
  t: number,
  modelDir: string,
  use: EngineUse,
  fn: (engine: Engine) => Promise<T>,
): Promise<T> {
  const e = ctx.config.engine;
  if (e.kind === 'local') {
    const m = await ctx.slot.ensure(modelDir);
    return fn(
      new LocalEngine(await inferenceModel(ctx), m.tokenizer, {
        maxBatchSize: e.batchSize,
        promptFormat: runPromptFormat(ctx.config, m.tokenizer),
      }),
    );
  }
  const http = {
    ...httpPromptPlan(ctx.config, await runPromptFormatOf(ctx.config, modelDir)),
    apiKeyEnv: e.apiKeyEnv,
    concurrency: e.concurrency,
  };
  if (e.endpoints !== undefined) {
    const plan = staticEndpointPlan(ctx.config, m0Dir(ctx), t, modelDir, served.get(ctx));
    if (plan.reload) {
      ctx.slot.dispose();
      for (const command of plan.commands) {
        ctx.progress.info(`engine.reload: ${command}`);
        const r = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8' });
        if (r.status !== 0) {
          throw new Error(
            `engine.reload failed (${r.status === null ? `signal ${r.signal}` : `exit ${r.status}`}): ${command}\n${(r.stderr || r.stdout || '').trim().slice(-2000)}`,
          );
        }
      }
      served.set(ctx, modelDir);
    }
    const model = e.model ?? (await firstModelId(e.endpoints[0]!, e.apiKeyEnv));
    return fn(new HttpEngine({ ...http, endpoints: e.endpoints, model }));
  }
  const command = e.launch;
  if (command === undefined)
    throw new InputError('run config', undefined, 'engine.launch', 'engine.kind http needs engine.launch or engine.endpoints');
  ctx.slot.dispose(); // the server loads the model itself: do not hold it twice
  const logFile = ctx.run.path(t, 'engine.log');
  for (let attempt = 1; ; attempt++) {
    const server = await launchEngine({ command, model: modelDir, seed: ctx.seed(t, use), logFile, startupTimeoutS: e.startupTimeoutS });
    try {
      return await fn(new HttpEngine({ ...http, baseUrl: server.baseUrl, model: server.modelName }));
    } catch (err) {
      if (!(err instanceof EngineUnreachableError)) throw err;
      if (attempt >= 2) {
        throw new Error(
          `the engine server stopped answering again after a restart (${err.message}); see ${logFile}. ` +
            'What was sampled so far is kept: rerun the same command to resume.',
        );
      }
      ctx.progress.info(`engine server unreachable (${err.message}); see ${logFile}. Starting it again and resuming`);
    } finally {
      await server.stop();
    }
  }
}
