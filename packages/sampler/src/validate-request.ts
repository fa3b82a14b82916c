import type { GenerateRequest } from './engine.js';

export type ValidRequest = Required<Omit<GenerateRequest, 'keys' | 'seeds' | 'signal' | 'topK' | 'onText' | 'addSpecialTokens'>> &
  Pick<GenerateRequest, 'keys' | 'seeds' | 'signal' | 'onText' | 'addSpecialTokens'> & { topK: number };

/** Fills defaults and rejects values no engine can honour, with the field named. */
export function validateRequest(r: GenerateRequest): ValidRequest {
  const n = r.n ?? 1;
  const temperature = r.temperature ?? 1;
  const topP = r.topP ?? 1;
  const topK = r.topK ?? 0;
  const fail = (field: string, problem: string): never => {
    throw new RangeError(`generate: ${field}: ${problem}`);
  };
  if (!Array.isArray(r.prompts)) fail('prompts', 'must be an array of strings');
  if (!Number.isInteger(n) || n < 1) fail('n', `must be an integer ≥ 1, got ${n}`);
  if (!(temperature >= 0) || !Number.isFinite(temperature)) fail('temperature', `must be ≥ 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) fail('topP', `must be in (0, 1], got ${topP}`);
  if (!Number.isInteger(topK) || topK < 0) fail('topK', `must be an integer ≥ 0, got ${topK}`);
  if (!Number.isInteger(r.maxNewTokens) || r.maxNewTokens < 1) fail('maxNewTokens', `must be an integer ≥ 1, got ${r.maxNewTokens}`);
  if (r.keys && r.keys.length !== r.prompts.length) fail('keys', `needs one key per prompt (${r.prompts.length}), got ${r.keys.length}`);
  if (r.addSpecialTokens !== undefined && typeof r.addSpecialTokens !== 'boolean')
    fail('addSpecialTokens', `must be a boolean, got ${String(r.addSpecialTokens)}`);
  if (r.seeds) {
    if (r.seeds.length !== r.prompts.length) fail('seeds', `needs one seed per prompt (${r.prompts.length}), got ${r.seeds.length}`);
    const bad = r.seeds.findIndex((s) => !Number.isInteger(s));
    if (bad >= 0) fail(`seeds[${bad}]`, `must be an integer, got ${r.seeds[bad]}`);
  }
  return {
    prompts: r.prompts,
    n,
    temperature,
    topP,
    topK,
    maxNewTokens: r.maxNewTokens,
    stop: r.stop ?? [],
    seed: r.seed ?? 0,
    logprobs: r.logprobs ?? false,
    addSpecialTokens: r.addSpecialTokens,
    keys: r.keys,
    seeds: r.seeds,
    signal: r.signal,
    onText: r.onText,
  };
}
