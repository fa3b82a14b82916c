import { initBackend } from '@irpo/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchingEngine } from './batching-engine.js';
import type { Completion, Engine, GenerateRequest } from './engine.js';
import { promptSeed } from './generation/rng.js';
import { HttpEngine } from './http-engine.js';
import { LocalEngine } from './local-engine.js';
import { createServer } from './server.js';
import { FakeCharTokenizer, FakeLM } from './testing/fakes.js';

const tok = new FakeCharTokenizer();
let model: FakeLM;
beforeAll(async () => {
  await initBackend('cpu');
  model = new FakeLM(5);
});
afterAll(() => model.dispose());

/** Requests as a server would see them: each with its own seed, some sharing a prompt. */
const requests: GenerateRequest[] = [
  { prompts: ['Q: 1+2=?\nA:'], seed: 1 },
  { prompts: ['Q: 1+2=?\nA:'], seed: 2 },
  { prompts: ['ab', 'Q: 31=?\nA:'], seed: 3 },
  { prompts: ['c'], seed: 4, keys: ['problem-7'] },
  { prompts: ['Q: 1+2=?\nA:', 'ab'], seed: 1, seeds: [5, 6] },
].map((r) => ({ ...r, n: 3, temperature: 1, topP: 0.9, maxNewTokens: 16, stop: ['.'], logprobs: true }));

/** The seed an engine draws prompt i's samples from (GenerateRequest's rule). */
const seedOf = (req: GenerateRequest, i: number) => req.seeds?.[i] ?? promptSeed(req.seed ?? 0, req.keys?.[i] ?? req.prompts[i]);

/** An engine that records its calls and holds each one until released. */
class GatedEngine implements Engine {
  calls: GenerateRequest[] = [];
  private gates: (() => void)[] = [];
  async generate(req: GenerateRequest): Promise<Completion[][]> {
    this.calls.push(req);
    await new Promise<void>((resolve) => this.gates.push(resolve));
    return req.prompts.map((p, i) => [{ text: `${p}/${seedOf(req, i)}`, tokens: 1, finishReason: 'length' as const }]);
  }
  /** Lets the oldest held call finish. */
  release(): void {
    this.gates.shift()!();
  }
  get held(): number {
    return this.gates.length;
  }
}

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 1));
};

describe('BatchingEngine', () => {
  it('merged concurrent requests get exactly the completions each gets alone', async () => {
    const local = new LocalEngine(model, tok, { maxBatchSize: 64 });
    const alone: Completion[][][] = [];
    for (const r of requests) alone.push(await local.generate(r));
    const batching = new BatchingEngine(local, { maxRows: 64 });
    const together = await Promise.all(requests.map((r) => batching.generate(r)));
    expect(batching.stats).toEqual({ requests: 5, calls: 1 }); // all arrived within the window: one call
    expect(together).toEqual(alone); // texts, token ids, log-probs, finish reasons
    // the samples differ between seeds (the comparison above is not vacuous)
    expect(alone[0][0].map((c) => c.text)).not.toEqual(alone[1][0].map((c) => c.text));
    expect(alone[4][0]).not.toEqual(alone[0][0]);
  });

  it('merges what waits while the engine is busy when the settings match, up to maxRows', async () => {
    const inner = new GatedEngine();
    const batching = new BatchingEngine(inner, { maxRows: 4, windowMs: 0 });
    const base = { n: 1, maxNewTokens: 8, temperature: 1 };
    const first = batching.generate({ ...base, prompts: ['a'], seed: 1 });
    await until(() => inner.held === 1);
    const rest = [
      batching.generate({ ...base, prompts: ['b'], seed: 2 }),
      batching.generate({ ...base, prompts: ['c'], seed: 3, temperature: 0.5 }), // other settings
      batching.generate({ ...base, prompts: ['d', 'e'], seed: 4 }),
      batching.generate({ ...base, prompts: ['f', 'g'], seed: 5 }), // over maxRows with b, d, e
      batching.generate({ ...base, prompts: ['h'], seed: 6 }),
    ];
    inner.release();
    for (let k = 0; k < 3; k++) {
      await until(() => inner.held === 1);
      inner.release();
    }
    const out = await Promise.all([first, ...rest]);
    expect(inner.calls.map((c) => c.prompts)).toEqual([['a'], ['b', 'd', 'e', 'h'], ['c'], ['f', 'g']]);
    // each merged prompt carries the seed its own request would have drawn from
    const ps = (seed: number, key: string) => promptSeed(seed, key);
    expect(inner.calls[1].seeds).toEqual([ps(2, 'b'), ps(4, 'd'), ps(4, 'e'), ps(6, 'h')]);
    expect(new Set(inner.calls[1].seeds).size).toBe(4);
    const texts = out.map((r) => r.map((cs) => cs[0].text));
    const t = (prompt: string, seed: number) => `${prompt}/${ps(seed, prompt)}`;
    expect(texts).toEqual([[t('a', 1)], [t('b', 2)], [t('c', 3)], [t('d', 4), t('e', 4)], [t('f', 5), t('g', 5)], [t('h', 6)]]);
    expect(batching.stats).toEqual({ requests: 6, calls: 4 });
  });

  it('a merged call that fails is retried request by request: only the bad request fails', async () => {
    const local = new LocalEngine(model, tok);
    const batching = new BatchingEngine(local);
    const good = { ...requests[0], logprobs: false };
    const tooLong = { ...good, prompts: ['a'.repeat(250)], maxNewTokens: 16 }; // over the model's 256 positions
    const [ok, bad] = await Promise.allSettled([batching.generate(good), batching.generate(tooLong)]);
    expect(bad.status).toBe('rejected');
    expect(((bad as PromiseRejectedResult).reason as Error).message).toMatch(/prompts\[0\]: 250 prompt tokens \+ maxNewTokens 16 exceed/);
    expect((ok as PromiseFulfilledResult<Completion[][]>).value).toEqual(await local.generate(good));
    expect(batching.stats.calls).toBe(3); // merged, then each alone
  });

  it('an aborted request gets its abort reason; the others in its call are unaffected', async () => {
    const inner = new GatedEngine();
    const batching = new BatchingEngine(inner, { windowMs: 0 });
    const base = { n: 1, maxNewTokens: 8 };
    const first = batching.generate({ ...base, prompts: ['a'] });
    await until(() => inner.held === 1);
    const before = new AbortController();
    const during = new AbortController();
    const dropped = batching.generate({ ...base, prompts: ['x'], signal: before.signal }).catch((e: Error) => e.message);
    const cut = batching.generate({ ...base, prompts: ['y'], signal: during.signal }).catch((e: Error) => e.message);
    const kept = batching.generate({ ...base, prompts: ['z'], seed: 9, signal: new AbortController().signal });
    before.abort(new Error('client went away early'));
    inner.release();
    await until(() => inner.held === 1);
    during.abort(new Error('client went away'));
    expect(inner.calls[1].signal!.aborted).toBe(false); // z still wants its result
    inner.release();
    expect(await dropped).toBe('client went away early');
    expect(await cut).toBe('client went away');
    expect((await kept)[0][0].text).toBe(`z/${promptSeed(9, 'z')}`);
    await first;
    expect(inner.calls.map((c) => c.prompts)).toEqual([['a'], ['y', 'z']]);
  });

  it('streams each merged request its own pieces, by its own prompt indices', async () => {
    const local = new LocalEngine(model, tok);
    const batching = new BatchingEngine(local);
    const pieces: string[][][] = [
      [[], [], []],
      [[], [], []],
      [[], [], []],
    ];
    const reqs = requests.slice(2, 4).map((r, k) => ({
      ...r,
      onText: (p: { prompt: number; sample: number; text: string }) => pieces[k][p.prompt].push(`${p.sample}:${p.text}`),
    }));
    const out = await Promise.all(reqs.map((r) => batching.generate(r)));
    expect(batching.stats.calls).toBe(1);
    out.forEach((cs, k) =>
      cs.forEach((samples, p) =>
        samples.forEach((c, j) => {
          const joined = pieces[k][p].filter((s) => s.startsWith(`${j}:`)).map((s) => s.slice(2));
          expect(joined.join('')).toBe(c.text);
        }),
      ),
    );
    expect(pieces[1][1]).toEqual([]); // request 1 has one prompt: nothing streamed under index 1
  });
});

describe('createServer with a BatchingEngine', () => {
  it('concurrent HTTP requests give the same texts as one at a time', async () => {
    const batching = new BatchingEngine(new LocalEngine(model, tok, { maxBatchSize: 32 }), { maxRows: 32 });
    const srv = createServer(batching, { modelName: 'fake', tokenizer: tok });
    const { url } = await srv.listen();
    try {
      const req = {
        prompts: Array.from({ length: 12 }, (_, i) => `Q: ${i * 7}=?\nA:`),
        n: 2,
        temperature: 1,
        maxNewTokens: 12,
        seed: 17,
      };
      const sequential = await new HttpEngine({ baseUrl: `${url}/v1`, model: 'fake', concurrency: 1 }).generate(req);
      const callsBefore = batching.stats.calls;
      const concurrent = await new HttpEngine({ baseUrl: `${url}/v1`, model: 'fake', concurrency: 8 }).generate(req);
      expect(concurrent.map((cs) => cs.map((c) => c.text))).toEqual(sequential.map((cs) => cs.map((c) => c.text)));
      expect(concurrent).toEqual(sequential);
      expect(batching.stats.requests).toBe(24);
      expect(callsBefore).toBe(12);
    } finally {
      await srv.close();
    }
  });
});
