import { setLogSink } from '@irpo/contracts';
import { initBackend } from '@irpo/core';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Completion, Engine } from './engine.js';
import { FakeCharTokenizer, FakeLM } from './testing/fakes.js';
import { HttpEngine } from './http-engine.js';
import { LocalEngine } from './local-engine.js';
import { createServer, isLoopbackAddress, type OpenAIServer } from './server.js';
import type { ChatMessage } from './types.js';

const tok = new FakeCharTokenizer();
let model: FakeLM;
let local: LocalEngine;
let srv: OpenAIServer;
let url: string;
const template = (ms: ChatMessage[], o: { addGenerationPrompt: boolean }) =>
  ms.map((m) => `${m.role[0].toUpperCase()}: ${m.content}\n`).join('') + (o.addGenerationPrompt ? 'A:' : '');

beforeAll(async () => {
  await initBackend('cpu');
  model = new FakeLM(8);
  local = new LocalEngine(model, tok);
  srv = createServer(local, { modelName: 'fake-lm', tokenizer: tok, chatTemplate: template });
  url = (await srv.listen()).url;
});
afterAll(async () => {
  await srv.close();
  model.dispose();
});

const client = () => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'none', maxRetries: 0 });

async function post(path: string, body: string): Promise<{ status: number; json: { error?: { message: string; param: string | null } } }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, json: (await res.json()) as { error?: { message: string; param: string | null } } };
}

describe('createServer (OpenAI-compatible)', () => {
  it('binds to loopback by default and lists the model', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const models = await client().models.list();
    expect(models.data.map((m) => m.id)).toEqual(['fake-lm']);
  });

  it('answers completions from the official openai client like the engine itself', async () => {
    const r = await client().completions.create({
      model: 'fake-lm',
      prompt: 'Q: 3=?\nA:',
      max_tokens: 10,
      temperature: 0,
      n: 2,
      logprobs: 0,
    });
    const [[direct]] = await local.generate({ prompts: ['Q: 3=?\nA:'], temperature: 0, maxNewTokens: 10, logprobs: true });
    expect(r.choices.map((c) => c.text)).toEqual([direct.text, direct.text]);
    expect(r.choices[0].finish_reason).toBe(direct.finishReason === 'length' ? 'length' : 'stop');
    expect(r.choices[0].logprobs!.tokens!.join('')).toBe(direct.text);
    expect(r.choices[0].logprobs!.token_logprobs).toEqual(direct.logprobs);
    expect(r.usage!.completion_tokens).toBe(2 * direct.tokens);
    expect(r.usage!.prompt_tokens).toBe(2 * 'Q: 3=?\nA:'.length);
  });

  it('streams completions and chat completions', async () => {
    const stream = await client().completions.create({ model: 'fake-lm', prompt: 'ab', max_tokens: 8, temperature: 0, stream: true });
    let text = '';
    let pieces = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0].text;
      if (chunk.choices[0].text) pieces++;
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    const [[direct]] = await local.generate({ prompts: ['ab'], temperature: 0, maxNewTokens: 8 });
    expect(text).toBe(direct.text);
    expect(pieces).toBe(direct.text.length); // one event per generated character: really streamed
    expect(finish).toBe(direct.finishReason === 'length' ? 'length' : 'stop');

    const messages = [{ role: 'user' as const, content: '2+2=?' }];
    const chat = await client().chat.completions.create({ model: 'fake-lm', messages, max_tokens: 8, temperature: 0 });
    const [[viaTemplate]] = await local.generate({ prompts: ['U: 2+2=?\nA:'], temperature: 0, maxNewTokens: 8 });
    expect(chat.choices[0].message.content).toBe(viaTemplate.text);
    const chatStream = await client().chat.completions.create({ model: 'fake-lm', messages, max_tokens: 8, temperature: 0, stream: true });
    let streamed = '';
    for await (const chunk of chatStream) streamed += chunk.choices[0]?.delta?.content ?? '';
    expect(streamed).toBe(viaTemplate.text);
  });

  it('answers bad requests with 400 and a JSON error, and keeps serving', async () => {
    const cases: [string, string, RegExp][] = [
      ['/v1/completions', '{not json', /not valid JSON/],
      ['/v1/completions', '[1,2]', /JSON object/],
      ['/v1/completions', JSON.stringify({ prompt: 5 }), /prompt must be/],
      ['/v1/completions', JSON.stringify({ prompt: 'a', max_tokens: -1 }), /max_tokens must be an integer ≥ 1/],
      ['/v1/completions', JSON.stringify({ prompt: 'a', temperature: 'hot' }), /temperature/],
      ['/v1/completions', JSON.stringify({ prompt: 'a', top_p: 0 }), /top_p/],
      ['/v1/completions', JSON.stringify({ prompt: 'a', stop: [1] }), /stop/],
      ['/v1/completions', JSON.stringify({ prompt: 'a', echo: true }), /echo/],
      ['/v1/chat/completions', JSON.stringify({ messages: [] }), /messages must be a non-empty array/],
      ['/v1/chat/completions', JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'image_url' }] }] }), /only text parts/],
    ];
    for (const [path, body, msg] of cases) {
      const r = await post(path, body);
      expect(r.status, body).toBe(400);
      expect(r.json.error!.message).toMatch(msg);
    }
    const notFound = await fetch(`${url}/v1/embeddings`, { method: 'POST', body: '{}' });
    expect(notFound.status).toBe(404);
    await expect(client().completions.create({ model: 'fake-lm', prompt: 'a', max_tokens: 0 })).rejects.toThrow(/400/);
    // still alive
    expect((await client().models.list()).data).toHaveLength(1);
  });

  it("HttpEngine against the server gives the local engine's samples (same seed)", async () => {
    const http = new HttpEngine({ baseUrl: `${url}/v1`, model: 'fake-lm', concurrency: 2, countTokens: (t) => tok.encode(t).length });
    const req = {
      prompts: ['ab', 'Q: 9=?\nA:', 'cd'],
      keys: ['k0', 'k1', 'k2'],
      n: 3,
      temperature: 1,
      topP: 0.9,
      maxNewTokens: 10,
      seed: 21,
    };
    const viaHttp = await http.generate(req);
    const again = await http.generate(req);
    expect(again).toEqual(viaHttp);
    // the HTTP engine sends one seed per prompt; the server draws its samples from that seed as
    // the local engine does: the same texts and endings as in process (token counts come from
    const inProcess = await local.generate(req);
    // countTokens here: re-encoding a text need not give the sampled ids back)
    const view = (r: Completion[][]) => r.map((cs) => cs.map((c) => [c.text, c.finishReason]));
    expect(view(viaHttp)).toEqual(view(inProcess));
    expect(new Set(viaHttp.flat().map((c) => c.text)).size).toBeGreaterThan(3); // sampled, not one text
    expect(viaHttp.flat().every((c) => c.tokens === tok.encode(c.text).length)).toBe(true);
    const other = await http.generate({ ...req, seed: 22 });
    expect(other.map((cs) => cs.map((c) => c.text))).not.toEqual(viaHttp.map((cs) => cs.map((c) => c.text)));
    expect(viaHttp[0].map((c) => c.finishReason).every((r) => ['eos', 'length', 'stop'].includes(r))).toBe(true);
  });

  it('with a server seed, requests without one draw seeds from a replayable stream; a request seed wins', async () => {
    const texts = async (base: string, body: Record<string, unknown>) => {
      const res = await fetch(`${base}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'ab', max_tokens: 12, n: 3, temperature: 1, ...body }),
      });
      return ((await res.json()) as { choices: { text: string }[] }).choices.map((c) => c.text);
    };
    const seeded = [createServer(local, { modelName: 'fake-lm', seed: 5 }), createServer(local, { modelName: 'fake-lm', seed: 5 })];
    const [a, b] = await Promise.all(seeded.map(async (s) => (await s.listen()).url));
    try {
      const first = [await texts(a, {}), await texts(a, {})];
      expect(first[1]).not.toEqual(first[0]); // fresh samples per request
      expect([await texts(b, {}), await texts(b, {})]).toEqual(first); // a restarted server replays them
      expect(await texts(a, { seed: 3 })).toEqual(await texts(url, { seed: 3 }));
    } finally {
      await Promise.all(seeded.map((s) => s.close()));
    }
  });
});

describe('createServer with API keys', () => {
  const keys = ['sk-irpo-test-5f1c9e', 'sk-irpo-test-second-key'];
  const wrong = 'sk-irpo-test-wrong-77a0';
  const secrets = [...keys, wrong];
  let keyed: OpenAIServer;
  let base: string;
  let lines: string[];
  let prevSink: ReturnType<typeof setLogSink>;
  beforeAll(async () => {
    lines = [];
    prevSink = setLogSink((line) => lines.push(line));
    keyed = createServer(local, { modelName: 'fake-lm', tokenizer: tok, chatTemplate: template, apiKeys: keys });
    base = (await keyed.listen()).url;
  });
  afterAll(async () => {
    setLogSink(prevSink);
    await keyed.close();
  });
  const keyedClient = (apiKey: string) => new OpenAI({ baseURL: `${base}/v1`, apiKey, maxRetries: 0 });
  const refusal = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    return err as InstanceType<typeof OpenAI.AuthenticationError>;
  };

  it('the official client: 401 without a key or with a wrong one, 200 with either key', async () => {
    const req = { model: 'fake-lm', prompt: 'ab', max_tokens: 6, temperature: 0 };
    for (const apiKey of ['', wrong]) {
      const err = await refusal(keyedClient(apiKey).completions.create(req));
      expect(err.status).toBe(401);
      expect(err.code).toBe('invalid_api_key');
      expect(err.type).toBe('invalid_request_error');
      expect(err.message).not.toContain(wrong); // the key sent is not echoed back
      await refusal(keyedClient(apiKey).chat.completions.create({ model: 'fake-lm', messages: [{ role: 'user', content: 'hi' }] }));
    }
    const [[direct]] = await local.generate({ prompts: ['ab'], temperature: 0, maxNewTokens: 6 });
    for (const apiKey of keys) {
      const r = await keyedClient(apiKey).completions.create(req);
      expect(r.choices[0].text).toBe(direct.text);
    }
    const chat = await keyedClient(keys[1]).chat.completions.create({ model: 'fake-lm', messages: [{ role: 'user', content: 'hi' }] });
    expect(chat.choices[0].message.role).toBe('assistant');
  });

  it('/v1/models the same; GET /health stays open; every other route wants the key first', async () => {
    expect((await refusal(keyedClient(wrong).models.list())).status).toBe(401);
    expect((await keyedClient(keys[0]).models.list()).data.map((m) => m.id)).toEqual(['fake-lm']);

    const bare = await fetch(`${base}/v1/models`);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toBe('Bearer');
    expect(await bare.json()).toEqual({
      error: {
        message: expect.stringContaining('missing API key') as unknown,
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    // an unknown route does not tell a keyless client what exists
    expect((await fetch(`${base}/v1/embeddings`, { method: 'POST', body: '{}' })).status).toBe(401);
    const known = await fetch(`${base}/v1/embeddings`, { method: 'POST', body: '{}', headers: { authorization: `Bearer ${keys[0]}` } });
    expect(known.status).toBe(404);
  });

  it('the HTTP engine sends the key from its apiKeyEnv variable', async () => {
    process.env.IRPO_TEST_SERVE_KEY = keys[1];
    try {
      const [[c]] = await new HttpEngine({ baseUrl: `${base}/v1`, model: 'fake-lm', apiKeyEnv: 'IRPO_TEST_SERVE_KEY' }).generate({
        prompts: ['ab'],
        temperature: 0,
        maxNewTokens: 6,
      });
      const [[direct]] = await local.generate({ prompts: ['ab'], temperature: 0, maxNewTokens: 6 });
      expect(c.text).toBe(direct.text);
      process.env.IRPO_TEST_SERVE_KEY = wrong;
      const err = (await new HttpEngine({ baseUrl: `${base}/v1`, model: 'fake-lm', apiKeyEnv: 'IRPO_TEST_SERVE_KEY', retryBaseMs: 1 })
        .generate({ prompts: ['ab'], maxNewTokens: 2 })
        .catch((e: unknown) => e)) as Error;
      expect(err.message).toContain('401');
      for (const k of secrets) expect(err.message).not.toContain(k);
    } finally {
      delete process.env.IRPO_TEST_SERVE_KEY;
    }
  });

  it('the keys appear in no log line and no error, a server error included', async () => {
    const failing: Engine = {
      generate: () => Promise.reject(new Error('the engine broke')),
    } as unknown as Engine;
    const broken = createServer(failing, { modelName: 'm', apiKeys: keys });
    const brokenUrl = (await broken.listen()).url;
    try {
      const err = (await new OpenAI({ baseURL: `${brokenUrl}/v1`, apiKey: keys[0], maxRetries: 0 }).completions
        .create({ model: 'm', prompt: 'ab', max_tokens: 2 })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err.status).toBe(500);
      expect(lines.some((l) => l.includes('the engine broke'))).toBe(true); // the error was logged
      const seen = [...lines, err.message, JSON.stringify(err.error)].join('\n');
      for (const k of secrets) expect(seen).not.toContain(k);
    } finally {
      await broken.close();
    }
  });

  it('bound past loopback without a key, listen() warns; with a key, or on loopback, it does not', async () => {
    const warnings = async (host: string, apiKeys?: string[]) => {
      const before = lines.length;
      const s = createServer(local, { modelName: 'fake-lm', apiKeys });
      await s.listen(0, host);
      await s.close();
      return lines.slice(before).filter((l) => l.includes('warn:'));
    };
    const open = await warnings('0.0.0.0');
    expect(open).toHaveLength(1);
    expect(open[0]).toContain('listening on 0.0.0.0 (not loopback) with no API key');
    expect(await warnings('0.0.0.0', keys)).toEqual([]);
    expect(await warnings('127.0.0.1')).toEqual([]);
    expect(await warnings('localhost')).toEqual([]);
  });

  it('isLoopbackAddress: 127.0.0.0/8 and ::1 (also IPv4-mapped); not wildcards or interface addresses', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a)).toBe(true);
    for (const a of ['0.0.0.0', '::', '192.168.1.20', '10.0.0.1', '::ffff:10.0.0.1', 'fe80::1', '1.127.0.0'])
      expect(isLoopbackAddress(a)).toBe(false);
  });
});
