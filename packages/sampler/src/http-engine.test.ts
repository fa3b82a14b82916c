import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setLogSink } from '@irpo/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineTimeoutError, EngineUnreachableError, HttpEngine, HttpEngineError } from './http-engine.js';
import { freePort } from './launch-engine.js';

type Handler = (req: IncomingMessage, body: Record<string, unknown>, res: ServerResponse, call: number) => void;

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A real HTTP server on an ephemeral loopback port; `handler` sees each call's number. */
async function serve(handler: Handler): Promise<{ url: string; calls: () => number; seen: IncomingMessage[] }> {
  let calls = 0;
  const seen: IncomingMessage[] = [];
  const server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    seen.push(req);
    handler(req, JSON.parse(text || '{}'), res, calls++);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, calls: () => calls, seen };
}

const ok = (res: ServerResponse, body: Record<string, unknown>) => {
  const n = Number(body.n ?? 1);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      choices: Array.from({ length: n }, (_, i) => ({
        index: n - 1 - i,
        text: `${body.prompt}#${n - 1 - i}`,
        finish_reason: i === 0 ? 'length' : 'stop',
        stop_reason: i === 1 ? '\n' : null,
      })),
      usage: { completion_tokens: 4 * n },
    }),
  );
};

const quietly = async <T>(fn: () => Promise<T>): Promise<{ value: T; lines: string[] }> => {
  const lines: string[] = [];
  const prev = setLogSink((l) => lines.push(l));
  try {
    return { value: await fn(), lines };
  } finally {
    setLogSink(prev);
  }
};

describe('HttpEngine', () => {
  it('sends the OpenAI fields and maps choices in index order', async () => {
    const bodies: Record<string, unknown>[] = [];
    const { url } = await serve((_req, body, res) => (bodies.push(body), ok(res, body)));
    const engine = new HttpEngine({ baseUrl: url, model: 'm', retryBaseMs: 1 });
    const out = await engine.generate({
      prompts: ['p0', 'p1'],
      n: 3,
      temperature: 0.7,
      topP: 0.9,
      topK: 5,
      maxNewTokens: 9,
      stop: ['\n'],
      seed: 4,
      keys: ['a', 'b'],
    });
    expect(out.map((cs) => cs.map((c) => c.text))).toEqual([
      ['p0#0', 'p0#1', 'p0#2'],
      ['p1#0', 'p1#1', 'p1#2'],
    ]);
    // index 2 came first with 'length'; index 1 stopped on a string; index 0 on EOS (stop_reason null)
    expect(out[0].map((c) => c.finishReason)).toEqual(['eos', 'stop', 'length']);
    expect(out[0][0].tokens).toBe(4); // usage 12 over 3 choices
    const b = bodies.find((x) => x.prompt === 'p0')!;
    expect(b).toMatchObject({ model: 'm', n: 3, temperature: 0.7, top_p: 0.9, top_k: 5, max_tokens: 9, stop: ['\n'] });
    expect(typeof b.seed).toBe('number');
    expect(bodies.find((x) => x.prompt === 'p1')!.seed).not.toBe(b.seed);
  });

  it('retries a 429 and then succeeds', async () => {
    const srv = await serve((_req, body, res, call) => {
      if (call === 0) {
        res.writeHead(429, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: 'slow down' } }));
      }
      ok(res, body);
    });
    const engine = new HttpEngine({ baseUrl: srv.url, model: 'm', retryBaseMs: 1 });
    const { value, lines } = await quietly(() => engine.generate({ prompts: ['x'], maxNewTokens: 4 }));
    expect(value[0][0].text).toBe('x#0');
    expect(srv.calls()).toBe(2);
    expect(lines.join('\n')).toMatch(/429 slow down; retry 1/);
  });

  it('retries when the server drops the connection and on 503', async () => {
    const srv = await serve((req, body, res, call) => {
      if (call === 0) return req.socket.destroy();
      if (call === 1) return res.writeHead(503).end('busy');
      ok(res, body);
    });
    const engine = new HttpEngine({ baseUrl: srv.url, model: 'm', retryBaseMs: 1 });
    const { value } = await quietly(() => engine.generate({ prompts: ['y'], maxNewTokens: 4 }));
    expect(value[0][0].text).toBe('y#0');
    expect(srv.calls()).toBe(3);
  });

  it('a timed-out request moves to another endpoint; where all time out, EngineTimeoutError (no retry on a hung server)', async () => {
    const hung = await serve(() => undefined); // accepts, never answers
    const live = await serve((_req, body, res) => ok(res, body));
    const engine = new HttpEngine({ endpoints: [hung.url, live.url], model: 'm', retryBaseMs: 1, timeoutMs: 300 });
    const { value, lines } = await quietly(() => engine.generate({ prompts: ['z', 'y'], maxNewTokens: 4 }));
    expect(value.map((c) => c[0].text)).toEqual(['z#0', 'y#0']);
    expect(hung.calls() + live.calls()).toBeGreaterThanOrEqual(3); // at least one went to the hung one first
    expect(lines.join('\n')).toMatch(/no answer within 0.3 s; trying another endpoint/);

    const alone = new HttpEngine({ baseUrl: hung.url, model: 'm', retryBaseMs: 1, timeoutMs: 300 });
    const before = hung.calls();
    const { value: err } = await quietly(() => alone.generate({ prompts: ['a'], maxNewTokens: 2 }).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(EngineTimeoutError);
    expect((err as Error).message).toMatch(/no answer within 0.3 s \(engine\.requestTimeoutS\)/);
    expect(hung.calls() - before).toBe(1);
  });

  it('bounds requests in flight across concurrent calls, and reports them', async () => {
    const pending: (() => void)[] = [];
    const srv = await serve((_req, body, res) => pending.push(() => ok(res, body)));
    const engine = new HttpEngine({ baseUrl: srv.url, model: 'm', concurrency: 3 });
    expect(engine.parallelism).toBe(3);
    const calls = ['a', 'b', 'c', 'd', 'e'].map((p) => engine.generate({ prompts: [p], maxNewTokens: 2 }));
    while (srv.calls() < 3) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(srv.calls()).toBe(3); // two calls wait for a slot
    expect(engine.activity()).toEqual({ inFlight: 3, lastAnswerAt: undefined });
    while (pending.length > 0 || srv.calls() < 5) {
      pending.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    expect((await Promise.all(calls)).map((c) => c[0][0].text)).toEqual(['a#0', 'b#0', 'c#0', 'd#0', 'e#0']);
    expect(engine.activity().inFlight).toBe(0);
    expect(engine.activity().lastAnswerAt).toBeGreaterThan(0);
  });

  it('fails at once on a 400 with the server message, and never logs the API key', async () => {
    process.env.IRPO_TEST_KEY = 'sk-secret-123';
    const srv = await serve((_req, _body, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'max_tokens is too large: 99999 > 2048', type: 'invalid_request_error' } }));
    });
    const engine = new HttpEngine({ baseUrl: srv.url, model: 'm', apiKeyEnv: 'IRPO_TEST_KEY', retryBaseMs: 1 });
    const { value: err, lines } = await quietly(() => engine.generate({ prompts: ['a'], maxNewTokens: 99999 }).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(HttpEngineError);
    expect((err as Error).message).toMatch(/400 Bad Request: max_tokens is too large: 99999 > 2048/);
    expect((err as Error).message).not.toContain('sk-secret');
    expect(lines.join('\n')).not.toContain('sk-secret');
    expect(srv.calls()).toBe(1);
    expect(srv.seen[0].headers.authorization).toBe('Bearer sk-secret-123');
    delete process.env.IRPO_TEST_KEY;
  });

  it('gives up after maxRetries with the last reason', async () => {
    const srv = await serve((_req, _body, res) => res.writeHead(500).end('{"message":"boom"}'));
    const engine = new HttpEngine({ baseUrl: srv.url, model: 'm', retryBaseMs: 1, maxRetries: 2 });
    const { value: err } = await quietly(() => engine.generate({ prompts: ['a'], maxNewTokens: 2 }).catch((e: unknown) => e));
    expect((err as Error).message).toMatch(/gave up after 3 tries: 500 boom/);
    expect(srv.calls()).toBe(3);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const pending: (() => void)[] = [];
    const srv = await serve((_req, body, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      pending.push(() => (inFlight--, ok(res, body)));
      // answer in batches once `concurrency` requests are waiting, or all remaining ones are
      if (pending.length === 2 || srv.calls() === 5) for (const f of pending.splice(0)) f();
    });
    const engine = new HttpEngine({ baseUrl: srv.url, model: 'm', concurrency: 2 });
    const out = await engine.generate({ prompts: ['a', 'b', 'c', 'd', 'e'], maxNewTokens: 2 });
    expect(out.map((c) => c[0].text)).toEqual(['a#0', 'b#0', 'c#0', 'd#0', 'e#0']);
    expect(peak).toBe(2);
  });

  it('one call of many prompts: answers in prompt order, `concurrency` in flight, and no listener warning from its waiting prompts', async () => {
    let inFlight = 0;
    let peak = 0;
    const pending: (() => void)[] = [];
    const srv = await serve((_req, body, res) => {
      peak = Math.max(peak, ++inFlight);
      pending.push(() => (inFlight--, ok(res, body)));
      // answer once `concurrency` requests wait, or all remaining ones do
      if (pending.length === 3 || srv.calls() === 40) for (const f of pending.splice(0)) f();
    });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const engine = new HttpEngine({ baseUrl: srv.url, model: 'm', concurrency: 3 });
      const prompts = Array.from({ length: 40 }, (_, i) => `p${i}`);
      const out = await engine.generate({ prompts, maxNewTokens: 2 });
      await new Promise((r) => setImmediate(r)); // warnings are emitted on a later tick
      expect(out.map((c) => c[0].text)).toEqual(prompts.map((p) => `${p}#0`));
      expect(peak).toBe(3);
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('sends per-prompt seeds as they are; a base seed is mixed with each prompt key', async () => {
    const bodies: Record<string, unknown>[] = [];
    const { url } = await serve((_req, body, res) => (bodies.push(body), ok(res, body)));
    const engine = new HttpEngine({ baseUrl: url, model: 'm', concurrency: 1 });
    await engine.generate({ prompts: ['a', 'b'], maxNewTokens: 2, seed: 1, seeds: [5, 6] });
    await engine.generate({ prompts: ['a', 'b'], maxNewTokens: 2, seed: 5 });
    await engine.generate({ prompts: ['a', 'b'], maxNewTokens: 2, seed: 5, keys: ['p-1', 'p-1'] });
    expect(bodies.slice(0, 2).map((b) => b.seed)).toEqual([5, 6]);
    expect(bodies[2].seed).not.toBe(bodies[3].seed); // one base seed, two prompts: two seeds
    expect(bodies[4].seed).toBe(bodies[5].seed); // the key, not the text, picks the seed
    expect(bodies.every((b) => Number.isInteger(b.seed) && (b.seed as number) >= 0 && (b.seed as number) < 2 ** 31)).toBe(true);
    await expect(engine.generate({ prompts: ['a'], maxNewTokens: 2, seeds: [1, 2] })).rejects.toThrow(/seeds: needs one seed per prompt/);
  });
});

describe('HttpEngine with the chat API', () => {
  it('sends the prompt as the single user message and reads message.content', async () => {
    const bodies: Record<string, unknown>[] = [];
    const paths: string[] = [];
    const { url } = await serve((req, body, res) => {
      bodies.push(body);
      paths.push(req.url!);
      const msgs = body.messages as { role: string; content: string }[];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          choices: [1, 0].map((index) => ({
            index,
            message: { role: 'assistant', content: `${msgs[0].content}@${index}` },
            logprobs: {
              content: [
                { token: 'x', logprob: -0.5 },
                { token: 'y', logprob: -index },
              ],
            },
            finish_reason: index === 0 ? 'stop' : 'length',
            stop_reason: null,
          })),
        }),
      );
    });
    const engine = new HttpEngine({ baseUrl: url, model: 'm', api: 'chat' });
    const out = await engine.generate({
      prompts: ['2+2?'],
      n: 2,
      temperature: 0.5,
      topP: 0.8,
      maxNewTokens: 7,
      stop: ['\n'],
      seed: 3,
      logprobs: true,
    });
    expect(paths).toEqual(['/v1/chat/completions']);
    expect(bodies[0]).toMatchObject({
      model: 'm',
      messages: [{ role: 'user', content: '2+2?' }],
      n: 2,
      temperature: 0.5,
      top_p: 0.8,
      max_tokens: 7,
      stop: ['\n'],
      logprobs: true,
    });
    expect(bodies[0].prompt).toBeUndefined();
    // the same seed as the completions API would send for this prompt
    const plain = await serve((_req, body, res) => (bodies.push(body), ok(res, body)));
    await new HttpEngine({ baseUrl: plain.url, model: 'm' }).generate({ prompts: ['2+2?'], maxNewTokens: 7, seed: 3 });
    expect(bodies[1].seed).toBe(bodies[0].seed);
    expect(out[0].map((c) => c.text)).toEqual(['2+2?@0', '2+2?@1']);
    expect(out[0].map((c) => c.finishReason)).toEqual(['eos', 'length']);
    expect(out[0][1].logprobs).toEqual([-0.5, -1]);
    expect(out[0][1].tokens).toBe(2);
  });
});

describe('HttpEngine over several endpoints', () => {
  it('spreads requests by the fewest in flight', async () => {
    const held: (() => void)[] = [];
    const hold: Handler = (_req, body, res) => {
      held.push(() => ok(res, body));
      if (held.length === 4) for (const f of held.splice(0)) f(); // answer once all four arrived
    };
    const a = await serve(hold);
    const b = await serve(hold);
    const engine = new HttpEngine({ endpoints: [a.url, b.url], model: 'm', concurrency: 4 });
    const out = await engine.generate({ prompts: ['p', 'q', 'r', 's'], maxNewTokens: 2 });
    expect(out.map((c) => c[0].text)).toEqual(['p#0', 'q#0', 'r#0', 's#0']);
    expect([a.calls(), b.calls()]).toEqual([2, 2]);
  });

  it('moves a request to another endpoint when one gives up with 5xx, keeping its seed', async () => {
    const seeds: unknown[] = [];
    const broken = await serve((_req, body, res) => (seeds.push(body.seed), res.writeHead(500).end('{"message":"oom"}')));
    const good = await serve((_req, body, res) => (seeds.push(body.seed), ok(res, body)));
    const engine = new HttpEngine({
      endpoints: [broken.url, good.url],
      model: 'm',
      retryBaseMs: 1,
      maxRetries: 1,
      concurrency: 1,
      connectRetryMs: 60_000, // how long a failed endpoint is avoided (capped at 30 s)
    });
    const { value } = await quietly(() => engine.generate({ prompts: ['x', 'y'], maxNewTokens: 2, seed: 4 }));
    expect(value.map((c) => c[0].text)).toEqual(['x#0', 'y#0']);
    // x: two tries on the broken endpoint, then the good one; y: straight to the good one
    expect(broken.calls()).toBe(2);
    expect(good.calls()).toBe(2);
    expect(new Set(seeds.slice(0, 3)).size).toBe(1); // x's tries on both endpoints carried one seed
    expect(seeds[3]).not.toBe(seeds[0]);
  });

  it('EngineUnreachableError when every endpoint refuses, after a bounded number of rounds', async () => {
    const dead = [`http://127.0.0.1:${await freePort()}/v1`, `http://127.0.0.1:${await freePort()}/v1`];
    const engine = new HttpEngine({ endpoints: dead, model: 'm', connectRetries: 2, connectRetryMs: 1 });
    const { value: err, lines } = await quietly(() => engine.generate({ prompts: ['a', 'b'], maxNewTokens: 2 }).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(EngineUnreachableError);
    expect(err).toBeInstanceOf(HttpEngineError); // callers that catch HttpEngineError still do
    expect((err as EngineUnreachableError).endpoints).toEqual(dead);
    expect((err as Error).message).toMatch(/no endpoint reachable .* after 3 rounds: TypeError: ECONNREFUSED/);
    expect(lines.filter((l) => l.includes('no endpoint answers')).length).toBeGreaterThanOrEqual(2);
  });

  it('a live endpoint that fails is not "unreachable": HttpEngineError naming both', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/v1`;
    const broken = await serve((_req, _body, res) => res.writeHead(503).end('{"message":"down for maintenance"}'));
    const engine = new HttpEngine({
      endpoints: [dead, broken.url],
      model: 'm',
      retryBaseMs: 1,
      maxRetries: 1,
      connectRetries: 1,
      connectRetryMs: 1,
    });
    const { value: err } = await quietly(() => engine.generate({ prompts: ['a'], maxNewTokens: 2 }).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(HttpEngineError);
    expect(err).not.toBeInstanceOf(EngineUnreachableError);
    expect((err as Error).message).toContain(`${broken.url}/completions: gave up after 2 tries: 503 down for maintenance`);
    expect((err as Error).message).toContain(`${dead}: TypeError: ECONNREFUSED`);
  });

  it('takes baseUrl or endpoints, not both or neither', () => {
    expect(() => new HttpEngine({ model: 'm' })).toThrow(/needs baseUrl or a non-empty endpoints list/);
    expect(() => new HttpEngine({ model: 'm', endpoints: [] })).toThrow(/needs baseUrl/);
    expect(() => new HttpEngine({ model: 'm', baseUrl: 'http://a/v1', endpoints: ['http://b/v1'] })).toThrow(/not both/);
  });
});
