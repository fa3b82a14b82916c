import { createLogger, type FinishReason } from '@irpo/contracts';
import type { Completion, Engine, GenerateRequest } from './engine.js';
import { deriveSeed } from './generation/rng.js';
import { mapLimit } from './map-limit.js';
import { validateRequest } from './validate-request.js';

export interface HttpEngineOptions {
  /** The API root, e.g. `http://127.0.0.1:8000/v1` (vLLM, SGLang, llama.cpp's server, Ollama). */
  baseUrl: string;
  /** The served model's name (`model` in each request). */
  model: string;
  /** Environment variable holding the API key (default OPENAI_API_KEY); the key is never logged. */
  apiKeyEnv?: string;
  /** Requests in flight at once (default 8): one request per prompt carries its n samples. */
  concurrency?: number;
  /** Retries after the first try on 429, 5xx, timeouts and dropped connections (default 6). */
  maxRetries?: number;
  /** Per-request timeout (default 10 min: long generations on a busy server). */
  timeoutMs?: number;
  /** First backoff; doubles per retry, capped at 60 s, with jitter (default 1000 ms). */
  retryBaseMs?: number;
  /** Counts tokens of each completion when the server does not say (it only gives totals). */
  countTokens?: (text: string) => number;
}

/** A request the server refused (4xx other than 429), or that failed after all retries. */
export class HttpEngineError extends Error {
  override readonly name = 'HttpEngineError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

interface CompletionChoice {
  index: number;
  text: string;
  finish_reason: string | null;
  stop_reason?: string | number | null;
  logprobs?: { tokens?: string[]; token_logprobs?: (number | null)[] } | null;
}

const log = createLogger('sampler');
const RETRY_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

/**
 * The OpenAI-compatible `/v1/completions` API as an Engine: one request per prompt asks for its
 * n samples, with a per-prompt seed derived from (seed, key), so a server that honours seeds
 * (vLLM, SGLang, `irpo serve`) gives the same samples again.
 */
export class HttpEngine implements Engine {
  private readonly url: string;
  private readonly concurrency: number;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly retryBaseMs: number;
  private readonly apiKeyEnv: string;

  constructor(private readonly options: HttpEngineOptions) {
    this.url = options.baseUrl.replace(/\/+$/, '') + '/completions';
    this.concurrency = options.concurrency ?? 8;
    this.maxRetries = options.maxRetries ?? 6;
    this.timeoutMs = options.timeoutMs ?? 600_000;
    this.retryBaseMs = options.retryBaseMs ?? 1000;
    this.apiKeyEnv = options.apiKeyEnv ?? 'OPENAI_API_KEY';
  }

  async generate(request: GenerateRequest): Promise<Completion[][]> {
    const req = validateRequest(request);
    return mapLimit(req.prompts, this.concurrency, async (prompt, i) => {
      const body: Record<string, unknown> = {
        model: this.options.model,
        prompt,
        n: req.n,
        temperature: req.temperature,
        top_p: req.topP,
        max_tokens: req.maxNewTokens,
        // 31 bits: some servers read the seed as a signed integer
        seed: deriveSeed(req.seed, req.keys?.[i] ?? prompt, 0) & 0x7fffffff,
      };
      if (req.topK > 0) body.top_k = req.topK; // vLLM/SGLang/llama.cpp extension
      if (req.stop.length > 0) body.stop = req.stop;
      if (req.logprobs) body.logprobs = 0; // the sampled token's log-prob only
      const json = (await this.post(body, req.signal)) as { choices?: CompletionChoice[]; usage?: { completion_tokens?: number } };
      const completions = this.toCompletions(json, req.n, req.logprobs);
      completions.forEach((c, sample) => c.text && req.onText?.({ prompt: i, sample, text: c.text }));
      return completions;
    });
  }

  private toCompletions(
    json: { choices?: CompletionChoice[]; usage?: { completion_tokens?: number } },
    n: number,
    logprobs: boolean,
  ): Completion[] {
    const choices = json.choices;
    if (!Array.isArray(choices) || choices.length !== n)
      throw new HttpEngineError(`POST ${this.url}: expected ${n} choices, got ${Array.isArray(choices) ? choices.length : 'none'}`);
    const sorted = [...choices].sort((a, b) => a.index - b.index);
    const usageShare = json.usage?.completion_tokens !== undefined ? Math.round(json.usage.completion_tokens / n) : 0;
    return sorted.map((c) => {
      const lp = c.logprobs?.token_logprobs;
      const tokens = c.logprobs?.tokens?.length ?? this.options.countTokens?.(c.text) ?? usageShare;
      const out: Completion = { text: c.text ?? '', tokens, finishReason: finishReason(c) };
      if (logprobs && lp) out.logprobs = lp.map((x) => x ?? 0);
      return out;
    });
  }

  private async post(body: unknown, signal?: AbortSignal): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const key = process.env[this.apiKeyEnv];
    if (key) headers.authorization = `Bearer ${key}`;
    for (let attempt = 0; ; attempt++) {
      let retryAfterMs: number | undefined;
      let why: string;
      try {
        const timeout = AbortSignal.timeout(this.timeoutMs);
        const res = await fetch(this.url, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        const text = await res.text();
        if (res.ok) {
          try {
            return JSON.parse(text);
          } catch {
            throw new HttpEngineError(`POST ${this.url}: ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`, res.status);
          }
        }
        const message = serverMessage(text);
        if (!RETRY_STATUS.has(res.status)) {
          throw new HttpEngineError(`POST ${this.url}: ${res.status} ${res.statusText}: ${message}`, res.status);
        }
        why = `${res.status} ${message}`;
        const ra = Number(res.headers.get('retry-after'));
        if (Number.isFinite(ra) && ra >= 0) retryAfterMs = ra * 1000;
      } catch (err) {
        if (err instanceof HttpEngineError) throw err;
        if (signal?.aborted) throw signal.reason ?? err;
        // fetch failed: refused, reset, closed mid-response, or our timeout
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        why = `${(err as Error).name}: ${cause?.code ?? cause?.message ?? (err as Error).message}`;
      }
      if (attempt >= this.maxRetries) throw new HttpEngineError(`POST ${this.url}: gave up after ${attempt + 1} tries: ${why}`);
      const backoff = Math.min(60_000, this.retryBaseMs * 2 ** attempt) * (0.5 + Math.random() / 2);
      const wait = Math.max(backoff, Math.min(retryAfterMs ?? 0, 60_000));
      log.warn(`${why}; retry ${attempt + 1}/${this.maxRetries} in ${Math.round(wait)} ms`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** The server's own error text: OpenAI's `{error: {message}}`, `{message}`, `{detail}` or the body. */
function serverMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: string } | string; message?: string; detail?: unknown };
    if (typeof j.error === 'object' && j.error?.message) return j.error.message;
    if (typeof j.error === 'string') return j.error;
    if (j.message) return j.message;
    if (j.detail) return typeof j.detail === 'string' ? j.detail : JSON.stringify(j.detail);
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 500) || '(empty body)';
}

/** vLLM says why it stopped in stop_reason: a stop string, or null/a token id for EOS. */
function finishReason(c: CompletionChoice): FinishReason {
  if (c.finish_reason === 'length') return 'length';
  if (c.stop_reason === null || typeof c.stop_reason === 'number') return 'eos';
  return 'stop';
}
