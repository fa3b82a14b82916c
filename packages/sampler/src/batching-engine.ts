import type { Completion, Engine, GenerateRequest, TextPiece } from './engine.js';
import { validateRequest, type ValidRequest } from './validate-request.js';
import { promptSeed } from './generation/rng.js';

export interface BatchingEngineOptions {
  /**
   * Most rows (prompts × n) merged into one call (default 32, the local engine's default batch):
   * pass the engine's `maxBatchSize`. A request larger than this still runs, alone.
   */
  maxRows?: number;
  /**
   * When the engine is idle, how long the first request waits for others to arrive (default 5 ms).
   * While the engine is busy, whatever arrives waits anyway and joins the next call.
   */
  windowMs?: number;
}

/** Counters of a BatchingEngine: how many requests went into how many engine calls. */
export interface BatchingStats {
  requests: number;
  calls: number;
}

interface Pending {
  req: ValidRequest;
  rows: number;
  /** Requests with the same key may share one call: same n and sampling settings. */
  key: string;
  /** onText has been called for this request (it cannot be rerun alone after a failed merge). */
  streamed: boolean;
  resolve(value: Completion[][]): void;
  reject(reason: unknown): void;
}

/**
 * Runs one `generate` call at a time on `inner` (or as many as its `batchParallelism`: a local
 * engine over several decoders) and merges the requests that wait meanwhile into
 * one call when their settings match (n, temperature, topP, topK, maxNewTokens, stop, logprobs,
 * addSpecialTokens), up to
 * `maxRows` rows. Each prompt keeps its own seed (passed as `seeds`: promptSeed of its request's
 * seed and key), so with an engine whose samples depend only on that seed, merged requests get the
 * same completions as alone. Meant for a server in front of the local engine: concurrent HTTP
 * requests then decode together instead of taking turns.
 *
 * A merged call runs until every request in it is aborted; a request aborted earlier gets its
 * abort reason and its share of the work is dropped. When a merged call fails, each request that
 * has not streamed yet is retried alone, so one bad request does not fail the others.
 */
export class BatchingEngine implements Engine {
  readonly stats: BatchingStats = { requests: 0, calls: 0 };
  private readonly maxRows: number;
  private readonly windowMs: number;
  private readonly queue: Pending[] = [];
  /** Calls running on the inner engine now: up to its batchParallelism. */
  private active = 0;

  constructor(
    private readonly inner: Engine,
    options: BatchingEngineOptions = {},
  ) {
    this.maxRows = options.maxRows ?? 32;
    this.windowMs = options.windowMs ?? 5;
    if (!(this.maxRows >= 1)) throw new RangeError(`maxRows must be ≥ 1, got ${this.maxRows}`);
    if (!(this.windowMs >= 0)) throw new RangeError(`windowMs must be ≥ 0, got ${this.windowMs}`);
  }

  async generate(request: GenerateRequest): Promise<Completion[][]> {
    const req = validateRequest(request);
    if (req.signal?.aborted) throw req.signal.reason ?? new Error('aborted');
    this.stats.requests++;
    if (req.prompts.length === 0) return [];
    const key = JSON.stringify([
      req.n,
      req.temperature,
      req.topP,
      req.topK,
      req.maxNewTokens,
      req.stop,
      req.logprobs,
      req.addSpecialTokens,
    ]);
    return new Promise<Completion[][]>((resolve, reject) => {
      this.queue.push({ req, rows: req.prompts.length * req.n, key, streamed: false, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    const lanes = Math.max(1, this.inner.batchParallelism ?? 1);
    while (this.active < lanes && this.queue.length > 0) {
      this.active++;
      void this.drain().finally(() => {
        this.active--;
        this.kick();
      });
    }
  }

  private async drain(): Promise<void> {
    if (this.windowMs > 0) await new Promise((resolve) => setTimeout(resolve, this.windowMs));
    for (;;) {
      for (let i = this.queue.length - 1; i >= 0; i--) {
        const p = this.queue[i];
        if (p.req.signal?.aborted) {
          this.queue.splice(i, 1);
          p.reject(p.req.signal.reason ?? new Error('aborted'));
        }
      }
      if (this.queue.length === 0) return;
      const head = this.queue[0];
      const group = [head];
      let rows = head.rows;
      for (const p of this.queue.slice(1)) {
        if (p.key === head.key && rows + p.rows <= this.maxRows) {
          group.push(p);
          rows += p.rows;
        }
      }
      for (const p of group) this.queue.splice(this.queue.indexOf(p), 1);
      await (group.length === 1 ? this.runAlone(head) : this.runMerged(group));
    }
  }

  private async runAlone(p: Pending): Promise<void> {
    this.stats.calls++;
    try {
      p.resolve(await this.inner.generate(p.req));
    } catch (err) {
      p.reject(err);
    }
  }

  private async runMerged(group: Pending[]): Promise<void> {
    const prompts: string[] = [];
    const seeds: number[] = [];
    const owner: { p: Pending; offset: number }[] = [];
    for (const p of group) {
      const offset = prompts.length;
      p.req.prompts.forEach((prompt, i) => {
        prompts.push(prompt);
        seeds.push(p.req.seeds?.[i] ?? promptSeed(p.req.seed ?? 0, p.req.keys?.[i] ?? prompt));
        owner.push({ p, offset });
      });
    }
    const onText = group.some((p) => p.req.onText)
      ? (piece: TextPiece) => {
          const { p, offset } = owner[piece.prompt];
          p.streamed = true;
          p.req.onText?.({ ...piece, prompt: piece.prompt - offset });
        }
      : undefined;
    const { n, temperature, topP, topK, maxNewTokens, stop, logprobs, addSpecialTokens } = group[0].req;
    this.stats.calls++;
    let results: Completion[][];
    try {
      results = await this.inner.generate({
        prompts,
        seeds,
        n,
        temperature,
        topP,
        topK,
        maxNewTokens,
        stop,
        logprobs,
        addSpecialTokens,
        signal: allAborted(group.map((p) => p.req.signal)),
        onText,
      });
    } catch (err) {
      for (const p of group) {
        if (p.req.signal?.aborted) p.reject(p.req.signal.reason ?? err);
        else if (p.streamed) p.reject(err);
        else await this.runAlone(p);
      }
      return;
    }
    let at = 0;
    for (const p of group) {
      const mine = results.slice(at, at + p.req.prompts.length);
      at += p.req.prompts.length;
      if (p.req.signal?.aborted) p.reject(p.req.signal.reason ?? new Error('aborted'));
      else p.resolve(mine);
    }
  }
}

/** A signal that aborts once every one of `signals` has (never, if one of them is missing). */
function allAborted(signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  if (signals.some((s) => s === undefined)) return undefined;
  const all = signals as AbortSignal[];
  const controller = new AbortController();
  const check = () => {
    if (!controller.signal.aborted && all.every((s) => s.aborted)) controller.abort(new Error('every merged request was aborted'));
  };
  for (const s of all) s.addEventListener('abort', check, { once: true });
  check();
  return controller.signal;
}
