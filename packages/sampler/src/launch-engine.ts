import { createServer } from 'node:net';
import { createLogger, fillTemplate, ProcessStartError, startProcessGroup, type ProcessExit, type ProcessGroup } from '@irpo/contracts';
import { apiKeyFromEnv } from './api-keys.js';

// The process-group helpers live in @irpo/contracts (training.launch and engine.reload use them
// too); re-exported here so this package's API is unchanged.
export { fillTemplate, groupAlive, shellQuote } from '@irpo/contracts';

export interface LaunchEngineOptions {
  /**
   * Shell command template of an OpenAI-compatible server, run by `/bin/sh -c` (so it may set
   * variables, `cd`, chain commands). Placeholders: `{model}` (the model folder), `{port}` (a free
   * loopback port irpo picked: required) and `{seed}`. Values are shell-quoted when substituted:
   * write the placeholders bare, not inside quotes. E.g.
   * `vllm serve {model} --port {port} --seed {seed} --served-model-name m` or
   * `npx irpo serve {model} --port {port} --seed {seed}`.
   */
  command: string;
  /** The model folder (Hugging Face layout) for `{model}`. */
  model: string;
  /** For `{seed}` (required when the template has it). */
  seed?: number;
  /** The server's stdout and stderr are appended here, after a header line per launch. */
  logFile: string;
  /** How long to wait for `GET /v1/models` to answer 200 (default 600 s: vLLM loads and compiles). */
  startupTimeoutS?: number;
  /** stop(): how long after SIGTERM before SIGKILL (default 10 000 ms). */
  graceMs?: number;
  /**
   * The environment variable with the API key the client sends (HttpEngine's apiKeyEnv): the
   * readiness polls send it as `Authorization: Bearer`, and the server inherits it with the rest
   * of the environment, so a server that reads its key from it (`irpo serve --api-key-env`,
   * vLLM's VLLM_API_KEY) expects the key the client sends. A 401/403 ends the wait at once.
   */
  apiKeyEnv?: string;
  /** Added to this process's environment for the server (a value of undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /** Working directory of the command (default this process's). */
  cwd?: string;
  /** Gives up waiting for the server (and stops it) when aborted. */
  signal?: AbortSignal;
}

export type EngineExit = ProcessExit;

/** A running server started by launchEngine. */
export interface LaunchedEngine {
  /** The API root, `http://127.0.0.1:<port>/v1`: pass it to HttpEngine as `baseUrl`. */
  baseUrl: string;
  port: number;
  /** The first model id `/v1/models` lists: pass it to HttpEngine as `model`. */
  modelName: string;
  /** The shell's pid, which is also the id of the server's process group. */
  pid: number;
  /** The command as run, placeholders substituted. */
  command: string;
  logFile: string;
  /** SIGTERM to the whole process group, SIGKILL after graceMs; resolves once all of it is gone. Idempotent. */
  stop(): Promise<void>;
  /**
   * Settles when the shell (the group leader) exits, stopped or not; never rejects. The shell
   * passes on the exit code of a server that exits by itself; on stop() the shell itself usually
   * dies of the SIGTERM (dash does not exec the command), whatever the server then does.
   */
  exited: Promise<EngineExit>;
}

/** The server did not come up: exited early, never answered, or the launch was aborted. */
export class EngineLaunchError extends Error {
  override readonly name = 'EngineLaunchError';
  constructor(
    message: string,
    /** The command as run. */
    readonly command: string,
    /** Exit code / signal when the server exited before it was ready; both null when it timed out. */
    readonly exit: EngineExit | null,
    /** The last lines the server wrote in this launch. */
    readonly logTail: string,
  ) {
    super(message);
  }
}

const log = createLogger('engine');

/**
 * Starts an OpenAI-compatible server on a free loopback port, in its own process group, and
 * waits until `GET /v1/models` answers. The server runs until stop(); if this process exits
 * first (normally, on an uncaught error, or on SIGINT/SIGTERM/SIGHUP when nothing else handles
 * them), the whole group is SIGKILLed.
 */
export async function launchEngine(options: LaunchEngineOptions): Promise<LaunchedEngine> {
  const timeoutS = options.startupTimeoutS ?? 600;
  const graceMs = options.graceMs ?? 10_000;
  if (!options.command.includes('{port}')) throw new TypeError(`launchEngine: the command needs a {port} placeholder: ${options.command}`);
  if (options.command.includes('{seed}') && options.seed === undefined)
    throw new TypeError(`launchEngine: the command has {seed} but no seed was given: ${options.command}`);
  const port = await freePort();
  const command = fillTemplate(options.command, { model: options.model, port: String(port), seed: String(options.seed ?? '') });

  let group: ProcessGroup;
  try {
    group = await startProcessGroup({ command, logFile: options.logFile, env: options.env, cwd: options.cwd, graceMs });
  } catch (err) {
    if (err instanceof ProcessStartError) throw new EngineLaunchError(err.message, command, null, '');
    throw err;
  }
  const { pid, stop, exited } = group;

  const fail = async (message: string): Promise<never> => {
    await stop();
    const tail = group.logTail();
    const shown = tail ? `\n--- last lines of ${options.logFile} ---\n${tail}` : `\n(${options.logFile} is empty)`;
    throw new EngineLaunchError(`${message}${shown}`, command, group.exit() ?? null, tail);
  };

  const baseUrl = `http://127.0.0.1:${port}/v1`;
  const deadline = Date.now() + timeoutS * 1000;
  let lastAnswer = 'no answer yet';
  const key = options.apiKeyEnv ? apiKeyFromEnv(options.apiKeyEnv) : undefined;
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  let refused: number | undefined; // a 401/403 will not change while we wait
  for (let poll = 0; ; poll++) {
    if (options.signal?.aborted) {
      await stop();
      throw options.signal.reason ?? new Error('aborted');
    }
    const done = group.exit();
    if (done) {
      const how = done.signal ? `was killed by ${done.signal}` : `exited with code ${done.code}`;
      return fail(`engine \`${command}\` ${how} before it was ready`);
    }
    if (Date.now() >= deadline) return fail(`engine \`${command}\` not ready after ${timeoutS} s (GET ${baseUrl}/models: ${lastAnswer})`);
    try {
      const res = await fetch(`${baseUrl}/models`, {
        headers,
        signal: AbortSignal.timeout(Math.max(100, Math.min(5000, deadline - Date.now()))),
      });
      const text = await res.text();
      if (res.status === 401 || res.status === 403) refused = res.status;
      if (res.ok) {
        const id = modelId(text);
        if (id !== undefined) {
          log.info(`engine ready at ${baseUrl} serving ${id} (pid ${pid}, log ${options.logFile})`);
          return { baseUrl, port, modelName: id, pid, command, logFile: options.logFile, stop, exited };
        }
        lastAnswer = `200 without a model id: ${text.slice(0, 200)}`;
      } else lastAnswer = `${res.status}`;
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      lastAnswer = cause?.code ?? (err as Error).name;
    }
    if (refused !== undefined)
      return fail(`engine \`${command}\` answered ${refused} to GET ${baseUrl}/models: ${keyHint(options.apiKeyEnv, key)}`);
    // Poll fast at first (a small server is up in a second), then once a second.
    const wait = Math.min(1000, 50 * 1.5 ** poll, Math.max(0, deadline - Date.now()));
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, wait))]);
  }
}

/** A free TCP port on loopback: bind port 0, read it, close (the server binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** What to do about a 401/403 (naming the variable, never the key). */
function keyHint(apiKeyEnv: string | undefined, key: string | undefined): string {
  const where = 'engine.apiKeyEnv in a run config';
  const irpoServe = ' (irpo serve reads IRPO_API_KEY, or the variable its --api-key-env names)';
  if (apiKeyEnv === undefined)
    return `it wants an API key and none was sent: pass apiKeyEnv (${where}), the variable that holds the server's key${irpoServe}`;
  if (!key)
    return `it wants an API key and ${apiKeyEnv}, the variable the client reads its key from (${where}), is not set: set it, or name the variable that holds the server's key there${irpoServe}`;
  return `it refused the key in ${apiKeyEnv} (${where}): start the server with that key${irpoServe}`;
}

function modelId(text: string): string | undefined {
  try {
    const id = (JSON.parse(text) as { data?: { id?: unknown }[] }).data?.[0]?.id;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}
