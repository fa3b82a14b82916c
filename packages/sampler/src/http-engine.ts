import { setMaxListeners } from 'node:events';
import { createLogger, type FinishReason } from '@irpo/contracts';
import type { PromptFormat } from '@irpo/model';
import { apiKeyFromEnv } from './api-keys.js';
import type { Completion, Engine, EngineActivity, GenerateRequest } from './engine.js';
import { promptSeed } from './generation/rng.js';
import { Semaphore } from './semaphore.js';
import { validateRequest } from './validate-request.js';

export interface HttpEngineOptions {
  /** The API root, e.g. `http://127.0.0.1:8000/v1` (vLLM, SGLang, llama.cpp's server, Ollama). Same as `endpoints: [baseUrl]`. */
  baseUrl?: string;
  /**
   * Several API roots serving the same model (e.g. one server per GPU); give this or `baseUrl`.
   * Each request goes to the endpoint with the fewest requests in flight, and moves to another
   * one when its endpoint fails. Which endpoint serves a prompt does not change its seed.
   */
  endpoints?: string[];
  /** The served model's name (`model` in each request). */
  model: string;
  /**
   * `completions` (default): `/completions` with the prompt as is, or as `promptFormat` renders
   * it. `chat`: `/chat/completions` with the prompt as the single user message (the server
   * applies its chat template).
   */
  api?: 'completions' | 'chat';
  /**
   * With api `completions`: how each prompt is rendered before it is sent (@irpo/model
   * promptFormat of the served model's tokenizer), so a chat template applied here reaches a
   * plain completions endpoint. A chat format also sends `add_special_tokens: false` (vLLM's
   * extension, honoured by `irpo serve`): the rendered text carries BOS itself when the model
   * wants one. Not allowed with api `chat`, where the server renders.
   */
  promptFormat?: Pick<PromptFormat, 'kind' | 'render' | 'addSpecialTokens'>;
  /** Environment variable holding the API key (default OPENAI_API_KEY; of a comma-separated list, the first); never logged. */
  apiKeyEnv?: string;
  /**
   * Requests in flight at once, over all endpoints and all calls of this engine (default 8): one
   * request per prompt carries its n samples. Callers that want the servers busy keep at least
   * this many prompts coming (sampleDataset does: `parallelism`).
   */
  concurrency?: number;
  /** Retries on one endpoint after the first try on 429 and 5xx (default 6). */
  maxRetries?: number;
  /**
   * Per-request timeout (default 10 min: a long generation on a busy server). A request past it
   * is taken for a hung server: it moves to another endpoint, and where every endpoint has timed
   * out it fails with EngineTimeoutError (no retry on the same server: a launcher restarts it).
   */
  timeoutMs?: number;
  /** First backoff; doubles per retry, capped at 60 s, with jitter (default 1000 ms). */
  retryBaseMs?: number;
  /**
   * When every endpoint refuses or drops the connection, try them all again this many more
   * times (default 3) before EngineUnreachableError.
   */
  connectRetries?: number;
  /** Wait before the first such retry; doubles per retry (default 500 ms: 0.5 + 1 + 2 s in all). */
  connectRetryMs?: number;
  /** Counts tokens of each completion when the server does not say (it only gives totals). */
  countTokens?: (text: string) => number;
}

/** A request the server refused (4xx other than 429), or that failed after all retries. */
export class HttpEngineError extends Error {
  override readonly name: string = 'HttpEngineError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * A request got no answer within the timeout from any endpoint: the servers accept requests but
 * do not answer (hung). A loop that launched the server can restart it and resume.
 */
export class EngineTimeoutError extends HttpEngineError {
  override readonly name = 'EngineTimeoutError';
  constructor(
    message: string,
    /** The endpoints that timed out. */
    readonly endpoints: string[],
  ) {
    super(message);
  }
}

/**
 * Every endpoint refused or dropped the connection, again after `connectRetries` rounds: the
 * server is most likely gone (crashed, killed, not started). A loop that launched the server
 * can restart it and resume.
 */
export class EngineUnreachableError extends HttpEngineError {
  override readonly name = 'EngineUnreachableError';
  constructor(
    message: string,
    /** The endpoints tried. */
    readonly endpoints: string[],
  ) {
    super(message);
  }
}

interface CompletionChoice {
  index: number;
  text?: string;
  message?: { content?: string | null };
  finish_reason: string | null;
  stop_reason?: string | number | null;
  logprobs?: { tokens?: string[]; token_logprobs?: (number | null)[]; content?: { logprob: number }[] | null } | null;
}

interface Endpoint {
  /** The API root without a trailing slash. */
  root: string;
  inFlight: number;
  /** Failures in a row (refused, or gave up after retries), and until when (ms since epoch) to prefer other endpoints. */
  failures: number;
  downUntil: number;
}

/** What one endpoint made of a request: a JSON body, or why it gave up. */
type Outcome =
  { json: unknown } | { connect: true; why: string } | { timeout: true; why: string } | { connect: false; why: string; tries: number };

const log = createLogger('sampler');
const RETRY_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504]);
/** fetch failures that mean nobody is listening (any more): refused, reset, closed mid-response, no route. */
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/**
 * The OpenAI-compatible `/v1/completions` (or `/v1/chat/completions`) API as an Engine: one
 * request per prompt asks for its n samples, with a per-prompt seed derived from (seed, key), so a
 * server that honours seeds (vLLM, SGLang, `irpo serve`) gives the same samples again, whichever
 * endpoint serves the prompt.
 */
export class HttpEngine implements Engine {
  private readonly endpoints: Endpoint[];
  private readonly path: string;
  private readonly api: 'completions' | 'chat';
  private readonly concurrency: number;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly retryBaseMs: number;
  private readonly connectRetries: number;
  private readonly connectRetryMs: number;
  private readonly apiKeyEnv: string;
  private readonly slots: Semaphore;
  private lastAnswerAt: number | undefined;
  private turn = 0;
  readonly parallelism: number;

  constructor(private readonly options: HttpEngineOptions) {
    const roots = options.endpoints ?? (options.baseUrl !== undefined ? [options.baseUrl] : []);
    if (options.endpoints && options.baseUrl !== undefined) throw new TypeError('HttpEngine: give baseUrl or endpoints, not both');
    if (roots.length === 0) throw new TypeError('HttpEngine: needs baseUrl or a non-empty endpoints list');
    this.endpoints = roots.map((r) => ({ root: r.replace(/\/+$/, ''), inFlight: 0, failures: 0, downUntil: 0 }));
    this.api = options.api ?? 'completions';
    if (this.api !== 'completions' && this.api !== 'chat')
      throw new TypeError(`HttpEngine: api must be 'completions' or 'chat', got ${String(this.api)}`);
    this.path = this.api === 'chat' ? '/chat/completions' : '/completions';
    if (this.api === 'chat' && options.promptFormat?.kind === 'chat')
      throw new TypeError('HttpEngine: api chat renders prompts on the server; a chat promptFormat needs api completions');
    this.concurrency = options.concurrency ?? 8;
    this.slots = new Semaphore(this.concurrency);
    this.parallelism = this.concurrency;
    this.maxRetries = options.maxRetries ?? 6;
    this.timeoutMs = options.timeoutMs ?? 600_000;
    this.retryBaseMs = options.retryBaseMs ?? 1000;
    this.connectRetries = options.connectRetries ?? 3;
    this.connectRetryMs = options.connectRetryMs ?? 500;
    this.apiKeyEnv = options.apiKeyEnv ?? 'OPENAI_API_KEY';
  }

  activity(): EngineActivity {
    return { inFlight: this.endpoints.reduce((a, e) => a + e.inFlight, 0), lastAnswerAt: this.lastAnswerAt };
  }

  async generate(request: GenerateRequest): Promise<Completion[][]> {
    const req = validateRequest(request);
    // The first failure stops the requests still in flight: the call fails anyway.
    const failed = new AbortController();
    const signal = req.signal ? AbortSignal.any([req.signal, failed.signal]) : failed.signal;
    // Each request in flight and each loop waiting for a slot listens to it: up to 2 × concurrency.
    setMaxListeners(2 * this.concurrency + 10, signal);
    const one = async (prompt: string, i: number): Promise<Completion[]> => {
      const body: Record<string, unknown> = { model: this.options.model };
      const format = this.options.promptFormat;
      if (this.api === 'chat') body.messages = [{ role: 'user', content: prompt }];
      else body.prompt = format ? format.render(prompt) : prompt;
      if (this.api === 'completions' && format?.kind === 'chat') body.add_special_tokens = format.addSpecialTokens;
      Object.assign(body, {
        n: req.n,
        temperature: req.temperature,
        top_p: req.topP,
        max_tokens: req.maxNewTokens,
        // the prompt's seed: irpo serve draws sample j from sampleSeed(seed, j), as in process
        seed: req.seeds?.[i] ?? promptSeed(req.seed, req.keys?.[i] ?? prompt),
      });
      if (req.topK > 0) body.top_k = req.topK; // vLLM/SGLang/llama.cpp extension
      if (req.stop.length > 0) body.stop = req.stop;
      if (req.logprobs) body.logprobs = this.api === 'chat' ? true : 0; // the sampled token's log-prob only
      const json = (await this.post(body, signal)) as { choices?: CompletionChoice[]; usage?: { completion_tokens?: number } };
      const completions = this.toCompletions(json, req.n, req.logprobs);
      completions.forEach((c, sample) => c.text && req.onText?.({ prompt: i, sample, text: c.text }));
      return completions;
    };
    // At most `concurrency` loops take the prompts in order (a slot each, shared with other calls):
    // a call of many prompts does not queue one waiter (and abort listener) per prompt.
    const out: Completion[][] = new Array(req.prompts.length);
    let next = 0;
    const loop = async (): Promise<void> => {
      while (next < req.prompts.length) {
        if (signal.aborted) throw signal.reason ?? new Error('aborted');
        const i = next++;
        out[i] = await this.slots.use(() => one(req.prompts[i]!, i), signal);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.concurrency, req.prompts.length) }, () =>
        loop().catch((err: unknown) => {
          if (!failed.signal.aborted) failed.abort(err);
          throw err;
        }),
      ),
    );
    return out;
  }

  private toCompletions(
    json: { choices?: CompletionChoice[]; usage?: { completion_tokens?: number } },
    n: number,
    logprobs: boolean,
  ): Completion[] {
    const choices = json.choices;
    if (!Array.isArray(choices) || choices.length !== n)
      throw new HttpEngineError(`POST ${this.path}: expected ${n} choices, got ${Array.isArray(choices) ? choices.length : 'none'}`);
    const sorted = [...choices].sort((a, b) => a.index - b.index);
    const usageShare = json.usage?.completion_tokens !== undefined ? Math.round(json.usage.completion_tokens / n) : 0;
    return sorted.map((c) => {
      const text = (this.api === 'chat' ? c.message?.content : c.text) ?? '';
      const lp = this.api === 'chat' ? c.logprobs?.content?.map((x) => x.logprob) : c.logprobs?.token_logprobs;
      const tokens =
        (this.api === 'chat' ? c.logprobs?.content?.length : c.logprobs?.tokens?.length) ?? this.options.countTokens?.(text) ?? usageShare;
      const out: Completion = { text, tokens, finishReason: finishReason(c) };
      if (logprobs && lp) out.logprobs = lp.map((x) => x ?? 0);
      return out;
    });
  }

  /**
   * The least busy endpoint not in `skip`, preferring those not marked down by a recent
   * failure; ties go round in turn.
   */
  private pick(skip: Set<Endpoint>): Endpoint | undefined {
    const now = Date.now();
    const open = this.endpoints.filter((e) => !skip.has(e));
    if (open.length === 0) return undefined;
    const up = open.filter((e) => e.downUntil <= now);
    if (up.length === 0) return open.reduce((a, b) => (b.downUntil < a.downUntil ? b : a));
    const least = Math.min(...up.map((e) => e.inFlight));
    const tied = up.filter((e) => e.inFlight === least);
    return tied[this.turn++ % tied.length];
  }

  /**
   * Sends `body` to an endpoint; moves on to another one when it refuses the connection or
   * gives up after its retries. Every endpoint refusing, `connectRetries` more times with a
   * backoff: EngineUnreachableError.
   */
  private async post(body: unknown, signal: AbortSignal): Promise<unknown> {
    const refused = new Set<Endpoint>(); // refused or dropped the connection in this round
    const exhausted = new Map<Endpoint, string>(); // gave up after its retries (5xx)
    const timedOut = new Map<Endpoint, string>(); // no answer within the timeout
    let round = 0;
    let lastRefusal = '';
    for (;;) {
      const endpoint = this.pick(new Set([...refused, ...exhausted.keys(), ...timedOut.keys()]));
      if (!endpoint) {
        if (refused.size > 0 && round < this.connectRetries) {
          const wait = this.connectRetryMs * 2 ** round;
          log.warn(`no endpoint answers (${lastRefusal}); trying again in ${wait} ms (${round + 1}/${this.connectRetries})`);
          await sleep(wait, signal);
          round++;
          refused.clear();
          continue;
        }
        if (exhausted.size === 0 && timedOut.size > 0 && refused.size === 0) {
          throw new EngineTimeoutError(
            `POST ${this.path}: no answer within ${this.timeoutMs / 1000} s (engine.requestTimeoutS) from ${[...timedOut.keys()].map((e) => e.root).join(', ')}: the server accepts requests but does not answer`,
            [...timedOut.keys()].map((e) => e.root),
          );
        }
        if (exhausted.size === 0 && timedOut.size === 0) {
          const where = this.endpoints.map((e) => e.root).join(', ');
          throw new EngineUnreachableError(
            `POST ${this.path}: no endpoint reachable (${where}) after ${round + 1} rounds: ${lastRefusal}`,
            this.endpoints.map((e) => e.root),
          );
        }
        const reasons = [...exhausted.values(), ...timedOut.values()];
        if (refused.size > 0) reasons.push(`${[...refused].map((e) => e.root).join(', ')}: ${lastRefusal}`);
        throw new HttpEngineError(`POST ${reasons.join('; ')}`);
      }
      const outcome = await this.tryEndpoint(endpoint, body, signal);
      if ('json' in outcome) return outcome.json;
      const url = endpoint.root + this.path;
      // Other requests prefer other endpoints for a while (longer after each failure in a row).
      endpoint.failures++;
      endpoint.downUntil = Date.now() + Math.min(30_000, this.connectRetryMs * 2 ** (endpoint.failures - 1));
      if ('timeout' in outcome) {
        timedOut.set(endpoint, `${url}: ${outcome.why}`);
        if (this.endpoints.length > timedOut.size) log.warn(`${url}: ${outcome.why}; trying another endpoint`);
      } else if (outcome.connect) {
        refused.add(endpoint);
        lastRefusal = outcome.why;
        if (this.endpoints.length > 1) log.warn(`${url}: ${outcome.why}; trying another endpoint`);
      } else {
        exhausted.set(endpoint, `${url}: gave up after ${outcome.tries} tries: ${outcome.why}`);
      }
    }
  }

  /** One endpoint's tries: retries 429 and 5xx here; a connection failure or a timeout returns at once. */
  private async tryEndpoint(endpoint: Endpoint, body: unknown, signal: AbortSignal): Promise<Outcome> {
    const url = endpoint.root + this.path;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const key = apiKeyFromEnv(this.apiKeyEnv);
    if (key) headers.authorization = `Bearer ${key}`;
    for (let attempt = 0; ; attempt++) {
      let retryAfterMs: number | undefined;
      let why: string;
      endpoint.inFlight++;
      const timeout = AbortSignal.timeout(this.timeoutMs);
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
          signal: AbortSignal.any([signal, timeout]),
        });
        const text = await res.text();
        this.lastAnswerAt = Date.now();
        if (res.ok) {
          endpoint.failures = 0;
          endpoint.downUntil = 0;
          try {
            return { json: JSON.parse(text) };
          } catch {
            throw new HttpEngineError(`POST ${url}: ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`, res.status);
          }
        }
        const message = serverMessage(text);
        if (!RETRY_STATUS.has(res.status)) {
          throw new HttpEngineError(`POST ${url}: ${res.status} ${res.statusText}: ${message}`, res.status);
        }
        why = `${res.status} ${message}`;
        const ra = Number(res.headers.get('retry-after'));
        if (Number.isFinite(ra) && ra >= 0) retryAfterMs = ra * 1000;
      } catch (err) {
        if (err instanceof HttpEngineError) throw err;
        if (signal.aborted) throw signal.reason ?? err;
        if (timeout.aborted) return { timeout: true, why: `no answer within ${this.timeoutMs / 1000} s` };
        // fetch failed: refused, reset, closed mid-response
        const code = errorCode(err);
        why = `${(err as Error).name}: ${code ?? (err as { cause?: Error }).cause?.message ?? (err as Error).message}`;
        if (code && CONNECT_CODES.has(code)) return { connect: true, why };
      } finally {
        endpoint.inFlight--;
      }
      if (attempt >= this.maxRetries) return { connect: false, why, tries: attempt + 1 };
      const backoff = Math.min(60_000, this.retryBaseMs * 2 ** attempt) * (0.5 + Math.random() / 2);
      const wait = Math.max(backoff, Math.min(retryAfterMs ?? 0, 60_000));
      log.warn(`${url}: ${why}; retry ${attempt + 1}/${this.maxRetries} in ${Math.round(wait)} ms`);
      await sleep(wait, signal);
    }
  }
}

/** The system error code under a failed fetch (undici wraps it in `cause`, sometimes in an AggregateError). */
function errorCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: string; errors?: { code?: string }[] } }).cause;
  return cause?.code ?? cause?.errors?.find((e) => e.code)?.code;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
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
