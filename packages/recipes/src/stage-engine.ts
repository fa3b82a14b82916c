import { resolve } from 'node:path';
import { InputError, runProcess, tailOf, type RunConfig } from '@irpo/contracts';
import {
  apiKeyFromEnv,
  EngineTimeoutError,
  resolveApiKeyEnv,
  EngineUnreachableError,
  fillTemplate,
  HttpEngine,
  launchEngine,
  LocalEngine,
  type Engine,
} from '@irpo/sampler';
import { inferenceDecoder } from './inference-runtime.js';
import { httpPromptPlan, runPromptFormat, runPromptFormatOf } from './prompt-format.js';
import type { StageContext } from './stages.js';

/** Which stage asks for an engine: its seed seeds a launched server's --seed. */
export type EngineUse = 'sample' | 'eval';

/** The folder a run's M0 lives in: the config's model, or iter-0/model. */
export const m0Dir = (ctx: Pick<StageContext, 'run' | 'config'>) => ctx.config.model ?? ctx.run.path(0, 'model');

/**
 * Refuses, before any work, a run whose static endpoints cannot serve M(t): every iteration
 * evaluates M(t), and with engine.endpoints only engine.reload can put it on the servers.
 */
export function assertEndpointsCanServe(config: RunConfig): void {
  const e = config.engine;
  if (e.kind !== 'http' || e.endpoints === undefined || e.reload !== undefined || config.iterations < 1) return;
  throw new InputError(
    'run config',
    undefined,
    'engine.reload',
    `engine.endpoints serve M0 only, but iteration 1 evaluates M1 (and later iterations sample from M(t-1)): ` +
      `set engine.reload to a command template, run once per endpoint with {model} and {endpoint} substituted, that makes ` +
      `that server serve {model} (e.g. restart vLLM on it; see examples/vllm-reload.sh), or use engine.launch so irpo starts a server per stage`,
  );
}

/** Static endpoints (engine.endpoints) serve M0 until engine.reload has run; the plan for `modelDir`. */
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
    commands: endpoints.map((endpoint) => fillTemplate(reload, { model: modelDir, endpoint })),
  };
}

/** One entry of GET /v1/models: vLLM gives the served name as `id` and the folder it loaded as `root`. */
interface ListedModel {
  id: string;
  root?: string;
}

/** What an API root lists under /models, or why not (not answering, not 200). */
async function listModels(root: string, apiKeyEnv: string): Promise<ListedModel[] | string> {
  const key = apiKeyFromEnv(apiKeyEnv);
  const url = root.replace(/\/+$/, '') + '/models';
  try {
    const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {}, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return `${url} answered ${res.status}`;
    const data = ((await res.json()) as { data?: { id?: unknown; root?: unknown }[] }).data ?? [];
    return data
      .filter((m) => typeof m.id === 'string')
      .map((m) => ({ id: m.id as string, ...(typeof m.root === 'string' ? { root: m.root } : {}) }));
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return `${url}: ${cause?.code ?? (err as Error).message}`;
  }
}

/** Whether a listing names `dir` (by root, or by an id that is that folder's path). */
const lists = (models: ListedModel[], dir: string) =>
  models.some((m) => (m.root !== undefined && resolve(m.root) === dir) || resolve(m.id) === dir);

/** Whether a listing says which folder it serves at all (vLLM's root, or a path as the id). */
const namesFolders = (models: ListedModel[]) => models.some((m) => m.root !== undefined || m.id.startsWith('/'));

/**
 * Makes static endpoints serve `modelDir`: each endpoint whose /v1/models does not already list it
 * (or, when its listing names no folder, that the run's state does not record as served) gets
 * engine.reload, run with a timeout, its output appended to iter-t/engine.log; then irpo waits
 * until every endpoint lists the new model (within startupTimeoutS) and records it in state.json,
 * so a resumed process knows what the servers hold. Returns the model name to send.
 */
async function serveOnEndpoints(ctx: StageContext, t: number, modelDir: string): Promise<string> {
  const e = ctx.config.engine;
  const endpoints = e.endpoints!;
  const wanted = resolve(modelDir);
  const recorded = resolve(ctx.run.served ?? m0Dir(ctx));
  const keyEnv = resolveApiKeyEnv(e.apiKeyEnv);
  const stale: string[] = [];
  let first: ListedModel[] | string | undefined; // endpoints[0]'s listing, reused for the model name unless it is reloaded
  for (const endpoint of endpoints) {
    const listing = await listModels(endpoint, keyEnv);
    first ??= listing;
    const serves = typeof listing !== 'string' && namesFolders(listing) ? lists(listing, wanted) : recorded === wanted;
    if (!serves) stale.push(endpoint);
  }
  if (stale.length > 0) {
    if (e.reload === undefined) {
      staticEndpointPlan(ctx.config, m0Dir(ctx), t, modelDir); // says what to do when modelDir is not M0
      throw new InputError(
        'run config',
        undefined,
        'engine.endpoints',
        `${stale.join(', ')} should serve M0 (${modelDir}) but GET /v1/models lists another folder, and engine.reload is not set to change that`,
      );
    }
    ctx.slot.dispose(); // servers on this machine may need the memory
    const logFile = ctx.run.path(t, 'engine.log');
    for (const endpoint of stale) {
      const command = fillTemplate(e.reload!, { model: modelDir, endpoint });
      ctx.progress.info(`engine.reload (${endpoint} → ${modelDir}): ${command}; output in ${logFile}`);
      const r = await runProcess({
        command,
        logFile,
        timeoutS: e.reloadTimeoutS,
        onHeartbeat: (s) => ctx.progress.info(`engine.reload still running after ${s} s (engine.reloadTimeoutS: ${e.reloadTimeoutS})`),
      });
      if (r.timedOut || r.code !== 0) {
        const how = r.timedOut
          ? `did not finish within ${e.reloadTimeoutS} s (engine.reloadTimeoutS) and was stopped`
          : r.signal
            ? `was killed by ${r.signal}`
            : `exited with code ${r.code}`;
        throw new Error(`engine.reload \`${command}\` ${how}; see ${logFile}${r.tail ? `\n--- last lines ---\n${r.tail}` : ''}`);
      }
    }
    for (const endpoint of stale) await waitUntilListed(ctx, endpoint, wanted);
    await ctx.run.recordServed?.(modelDir);
  }
  if (e.model) return e.model;
  const listing = stale.includes(endpoints[0]!) ? await listModels(endpoints[0]!, keyEnv) : first!;
  if (typeof listing === 'string' || listing.length === 0)
    throw new Error(
      `${typeof listing === 'string' ? listing : `${endpoints[0]}/models lists no model`}: set engine.model to the served model's name`,
    );
  return (listing.find((m) => (m.root !== undefined && resolve(m.root) === wanted) || resolve(m.id) === wanted) ?? listing[0]!).id;
}

/** Polls GET /v1/models until it lists `wanted` (or, when it names no folder, answers at all). */
async function waitUntilListed(ctx: StageContext, endpoint: string, wanted: string): Promise<void> {
  const e = ctx.config.engine;
  const t0 = Date.now();
  let lastSaid = t0;
  let last = 'no answer yet';
  for (let poll = 0; ; poll++) {
    const listing = await listModels(endpoint, resolveApiKeyEnv(e.apiKeyEnv));
    if (typeof listing !== 'string') {
      if (lists(listing, wanted)) return;
      if (listing.length > 0 && !namesFolders(listing)) {
        ctx.progress.info(
          `${endpoint}/models lists ${listing.map((m) => m.id).join(', ')} with no folder (no root): taking the reload's word that it serves ${wanted}`,
        );
        return;
      }
      last = `lists ${listing.map((m) => m.root ?? m.id).join(', ') || 'nothing'}`;
    } else last = listing;
    const waited = (Date.now() - t0) / 1000;
    if (waited >= e.startupTimeoutS)
      throw new Error(
        `after engine.reload, ${endpoint} did not list ${wanted} within ${e.startupTimeoutS} s (engine.startupTimeoutS): ${last}. ` +
          'A reload command must make that server serve the folder {model}, and its GET /v1/models must list it (vLLM lists it as root).',
      );
    if (Date.now() - lastSaid >= 30_000) {
      lastSaid = Date.now();
      ctx.progress.info(`waiting for ${endpoint} to serve ${wanted} (${Math.round(waited)} s; ${last})`);
    }
    await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 1.5 ** poll)));
  }
}

/**
 * Runs `fn` with an engine serving the model in `modelDir`, per config.engine. Prompts go through
 * the run's prompt format (runPromptFormat): rendered in process, or sent as httpPromptPlan says.
 * - kind local: a LocalEngine over the model slot (loaded once, kept for the next stage), on ONNX
 *   Runtime (decoder threads: inferenceDecoder) or TensorFlow.js per engine.runtime;
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
      new LocalEngine(await inferenceDecoder(ctx), m.tokenizer, {
        maxBatchSize: e.batchSize,
        promptFormat: runPromptFormat(ctx.config, m.tokenizer),
      }),
    );
  }
  const http = {
    ...httpPromptPlan(ctx.config, await runPromptFormatOf(ctx.config, modelDir)),
    apiKeyEnv: resolveApiKeyEnv(e.apiKeyEnv),
    concurrency: e.concurrency,
    timeoutMs: e.requestTimeoutS * 1000,
  };
  if (e.endpoints !== undefined) {
    const model = await serveOnEndpoints(ctx, t, modelDir);
    return fn(new HttpEngine({ ...http, endpoints: e.endpoints, model }));
  }
  const command = e.launch;
  if (command === undefined)
    throw new InputError('run config', undefined, 'engine.launch', 'engine.kind http needs engine.launch or engine.endpoints');
  ctx.slot.dispose(); // the server loads the model itself: do not hold it twice
  const logFile = ctx.run.path(t, 'engine.log');
  for (let attempt = 1; ; attempt++) {
    const server = await launchEngine({
      command,
      model: modelDir,
      seed: ctx.seed(t, use),
      logFile,
      startupTimeoutS: e.startupTimeoutS,
      apiKeyEnv: resolveApiKeyEnv(e.apiKeyEnv),
    });
    try {
      return await fn(new HttpEngine({ ...http, baseUrl: server.baseUrl, model: server.modelName }));
    } catch (err) {
      if (!(err instanceof EngineUnreachableError || err instanceof EngineTimeoutError)) throw err;
      const what = err instanceof EngineTimeoutError ? 'hung (requests time out)' : 'unreachable';
      if (attempt >= 2) {
        await server.stop();
        const tail = tailOf(logFile, 0, 30);
        throw new Error(
          `the engine server is ${what} again after a restart (${err.message}); see ${logFile}. ` +
            `What was sampled so far is kept: rerun the same command to resume.${tail ? `\n--- last lines of ${logFile} ---\n${tail}` : ''}`,
        );
      }
      ctx.progress.info(`engine server ${what} (${err.message}); see ${logFile}. Restarting it and resuming`);
    } finally {
      await server.stop();
    }
  }
}
