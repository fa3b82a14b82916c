import type { Argv, CommandModule } from 'yargs';
import type { EngineConfig } from '@irpo/contracts';
import { initBackend, tf, type BackendName } from '@irpo/core';
import { loadRunConfig } from '../config-file.js';
import { createOutput } from '../output.js';
import { VERSION } from '../version.js';

interface EnvArgs {
  config?: string;
  set?: string[];
  json: boolean;
  backend?: BackendName;
}

/** What `irpo run` with this engine config would sample and evaluate with. */
export interface EngineReport {
  kind: EngineConfig['kind'];
  /** One line: what runs where. */
  summary: string;
  launch?: string;
  endpoints?: { url: string; status: string }[];
  reload?: string;
  /** The API set in engine.api, or auto: chat when the run's prompt format resolves to chat. */
  api: NonNullable<EngineConfig['api']> | 'auto';
  batchSize: number;
  concurrency: number;
  startupTimeoutS?: number;
  /** Whether the API key variable is set (its value is never printed). */
  apiKey?: string;
}

/** Asks a static endpoint which model it serves; never throws, never waits more than `ms`. */
async function probe(url: string, apiKeyEnv: string, ms = 2000): Promise<string> {
  const key = (await import('@irpo/sampler')).apiKeyFromEnv(apiKeyEnv);
  try {
    const res = await fetch(url.replace(/\/+$/, '') + '/models', {
      headers: key ? { authorization: `Bearer ${key}` } : {},
      signal: AbortSignal.timeout(ms),
    });
    if (!res.ok) return `answers ${res.status} on /models`;
    const id = ((await res.json()) as { data?: { id?: string }[] }).data?.[0]?.id;
    return id ? `up, serves ${id}` : 'up, lists no model';
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    return `unreachable (${err.cause?.code ?? err.cause?.message ?? err.message})`;
  }
}

export async function describeEngine(e: EngineConfig): Promise<EngineReport> {
  const common = { api: e.api ?? ('auto' as const), batchSize: e.batchSize, concurrency: e.concurrency };
  if (e.kind === 'local') return { kind: 'local', summary: `in process, ${e.batchSize} sequences decoded together`, ...common };
  const keyEnv = (await import('@irpo/sampler')).resolveApiKeyEnv(e.apiKeyEnv);
  const apiKey = `${keyEnv} ${process.env[keyEnv] ? 'set' : 'not set'}`;
  if (e.launch !== undefined) {
    return {
      kind: 'http',
      summary: `a server started per sampling and eval stage (ready within ${e.startupTimeoutS} s), stopped after it; its log in iter-t/engine.log`,
      launch: e.launch,
      startupTimeoutS: e.startupTimeoutS,
      ...common,
      apiKey,
    };
  }
  const endpoints = await Promise.all((e.endpoints ?? []).map(async (url) => ({ url, status: await probe(url, keyEnv) })));
  return {
    kind: 'http',
    summary:
      e.reload !== undefined
        ? `running servers; reloaded with engine.reload before they must serve M(t-1)`
        : `running servers serving M0, and no engine.reload to make them serve M(t): a run is refused at start`,
    endpoints,
    reload: e.reload,
    ...common,
    apiKey,
  };
}

function engineLines(r: EngineReport): string[] {
  const lines = [`${r.kind}: ${r.summary}`];
  if (r.launch) lines.push(`launch: ${r.launch}`);
  for (const ep of r.endpoints ?? []) lines.push(`endpoint: ${ep.url}: ${ep.status}`);
  if (r.reload) lines.push(`reload: ${r.reload}`);
  if (r.kind === 'http')
    lines.push(
      `api ${r.api === 'auto' ? 'auto (chat when prompt.format resolves to chat)' : r.api}, ${r.concurrency} requests in flight, ${r.apiKey}`,
    );
  return lines;
}

/** engine.runtime resolved as a run would resolve it, with the reason; never throws. */
async function describeRuntime(setting: EngineConfig['runtime']): Promise<string> {
  const { chooseRuntime } = await import('@irpo/recipes');
  try {
    const c = await chooseRuntime(setting);
    return `${c.runtime === 'onnx' ? 'ONNX Runtime' : 'TensorFlow.js'} (${c.reason})`;
  } catch (e) {
    return `unavailable: ${(e as Error).message}`;
  }
}

/** `irpo env`: what a bug report needs: versions, platform, the backend choice and why, the engine a run would use. */
export const envCommand: CommandModule<object, EnvArgs> = {
  command: 'env [config]',
  describe:
    'Print versions, platform, the TensorFlow.js backend chosen (and why), the engine a run config would use and what runs inference (ONNX Runtime or TensorFlow.js, and why)',
  builder: (y) =>
    y
      .positional('config', { type: 'string', describe: 'Run config whose engine settings to show (default: the defaults)' })
      .option('set', { type: 'string', array: true, describe: 'Override a config field: --set engine.kind=http (repeatable)' })
      .example('irpo env examples/gsm8k-vllm.yaml', 'Also show the server command that run would launch') as unknown as Argv<EnvArgs>,
  handler: async (args) => {
    const config = await loadRunConfig(args.config, args.set ?? []);
    const choice = await initBackend(args.backend);
    const info = {
      irpo: VERSION,
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
      cpus: (await import('node:os')).cpus().length,
      tfjs: tf.version_core,
      backend: choice.name,
      provider: choice.provider,
      kernels: choice.kernels,
      reasons: choice.reasons,
      engine: await describeEngine(config.engine),
      inference: await describeRuntime(config.engine.runtime),
    };
    createOutput(args.json).result(info, (v) =>
      Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => {
          const lines = k === 'engine' ? engineLines(x as EngineReport) : Array.isArray(x) ? x.map(String) : [String(x)];
          return `${k.padEnd(10)} ${lines.join('\n' + ' '.repeat(11))}`;
        })
        .join('\n'),
    );
  },
};
