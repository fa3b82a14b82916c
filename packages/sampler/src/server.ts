import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, mulberry32 } from '@irpo/contracts';
import { apiKeyCheck } from './api-keys.js';
import type { Completion, Engine, TextPiece } from './engine.js';
import { deriveSeed } from './generation/rng.js';
import { BadRequestError, chatMessages, completionPrompts, samplingFields, type Body } from './openai-request.js';
import type { ChatTemplate, Tokenizer } from './types.js';

export interface ServerOptions {
  /** The name clients pass as `model` (and /v1/models lists). */
  modelName: string;
  /** For token counts, per-token log-prob strings and token-id prompts. */
  tokenizer?: Pick<Tokenizer, 'encode' | 'decode'>;
  /** Renders chat messages to a prompt; without it /v1/chat/completions answers 400. */
  chatTemplate?: ChatTemplate;
  /** Largest request body accepted (default 4 MiB). */
  maxBodyBytes?: number;
  /**
   * Seeds the stream that requests without a `seed` draw theirs from (as vLLM's `--seed`): each
   * such request still gets fresh samples, and a restarted server replays the same sequence.
   * A request's own `seed` always wins, and seeds each of its prompts as they are: sample j draws
   * from `sampleSeed(seed, j)`, as the in-process engine draws for a prompt of that `promptSeed`.
   * Default: random seeds.
   */
  seed?: number;
  /**
   * When non-empty, every route but `GET /health` needs `Authorization: Bearer <one of these>`
   * and answers 401 without it (as vLLM's and llama-server's `--api-key`). Never logged.
   * Default: none, and listen() warns when it binds more than loopback.
   */
  apiKeys?: readonly string[];
}

export interface OpenAIServer {
  readonly server: Server;
  /**
   * Listens on `host` (default 127.0.0.1: loopback only) and `port` (default 0: any free port).
   * Bound to more than loopback without API keys, it logs a warning: anyone who can reach the
   * address can use the model.
   */
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
}

const log = createLogger('serve');

/**
 * An engine behind the OpenAI-compatible API: `/v1/models`, `/v1/completions` and
 * `/v1/chat/completions`, streamed (SSE) when asked, and `GET /health` (200 once listening).
 * Streams send each choice's text once it is complete. A bad request gets 400 with
 * `{error: {message, type, param, code}}`, a request without a valid key (with `apiKeys`) 401;
 * nothing a client sends brings the server down.
 */
export function createServer(engine: Engine, options: ServerOptions): OpenAIServer {
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const created = Math.floor(Date.now() / 1000);
  const seedStream = options.seed === undefined ? undefined : mulberry32(deriveSeed(options.seed, 'irpo serve', 0));
  const fallbackSeed = seedStream ? () => Math.floor(seedStream() * 2 ** 31) : undefined;
  const keys = options.apiKeys ?? [];
  const refusal = keys.length > 0 ? apiKeyCheck(keys) : undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '');
    // open, for load balancers and launchers that cannot hold the key
    if (req.method === 'GET' && path === '/health') return sendJson(res, 200, { status: 'ok' });
    const refused = refusal?.(req.headers);
    if (refused) {
      // OpenAI-shaped, but echoing no part of the key sent (OpenAI shows a masked one)
      res.setHeader('www-authenticate', 'Bearer');
      const message =
        refused === 'missing'
          ? 'missing API key: send it as `Authorization: Bearer <key>`'
          : 'invalid API key: send one of the keys the server was started with';
      return sendError(res, 401, message, 'invalid_request_error', undefined, 'invalid_api_key');
    }
    if (req.method === 'GET' && path === '/v1/models') {
      return sendJson(res, 200, { object: 'list', data: [{ id: options.modelName, object: 'model', created, owned_by: 'irpo' }] });
    }
    if (path === '/v1/completions' || path === '/v1/chat/completions') {
      if (req.method !== 'POST') return sendError(res, 405, `${req.method} not allowed on ${path}: use POST`);
      const body = await readBody(req, maxBody);
      const abort = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) abort.abort(new Error('client went away'));
      });
      return path === '/v1/completions' ? completions(body, res, abort.signal) : chat(body, res, abort.signal);
    }
    return sendError(res, 404, `no route ${req.method} ${path}`, 'not_found_error');
  };

  const checkModel = (body: Body) => {
    if (body.model !== undefined && typeof body.model !== 'string') throw new BadRequestError('model must be a string', 'model');
  };

  const completions = async (body: Body, res: ServerResponse, signal: AbortSignal) => {
    checkModel(body);
    if (body.echo === true) throw new BadRequestError('echo is not supported', 'echo');
    if (body.best_of !== undefined && body.best_of !== null && body.best_of !== body.n && body.best_of !== 1)
      throw new BadRequestError('best_of is not supported', 'best_of');
    const prompts = completionPrompts(body, options.tokenizer ? (ids) => options.tokenizer!.decode(ids) : undefined);
    // vLLM's extension: false for a prompt already rendered by a chat template (it carries BOS itself)
    if (body.add_special_tokens !== undefined && body.add_special_tokens !== null && typeof body.add_special_tokens !== 'boolean')
      throw new BadRequestError('add_special_tokens must be a boolean', 'add_special_tokens');
    const addSpecialTokens = typeof body.add_special_tokens === 'boolean' ? body.add_special_tokens : true;
    const { stream, ...fields } = samplingFields(body, ['max_tokens'], fallbackSeed);
    const logprobs = body.logprobs !== undefined && body.logprobs !== null && body.logprobs !== false;
    const id = `cmpl-${randomUUID()}`;
    const now = Math.floor(Date.now() / 1000);
    const model = options.modelName;
    const sse = lazySse(res);
    const onText = stream
      ? (piece: TextPiece) =>
          sse.send({
            id,
            object: 'text_completion',
            created: now,
            model,
            choices: [{ index: piece.prompt * fields.n! + piece.sample, text: piece.text, logprobs: null, finish_reason: null }],
          })
      : undefined;
    const results = await engine.generate({
      ...fields,
      seeds: prompts.map(() => fields.seed!),
      prompts,
      logprobs,
      addSpecialTokens,
      signal,
      onText,
    });
    const choices = results.flatMap((cs, p) =>
      cs.map((c, j) => ({
        index: p * fields.n! + j,
        text: c.text,
        logprobs: logprobs ? logprobsOf(c) : null,
        finish_reason: openaiFinish(c),
        stop_reason: c.finishReason === 'stop' ? (fields.stop!.length === 1 ? fields.stop![0] : 'stop') : null,
      })),
    );
    if (stream) {
      for (const ch of choices) {
        sse.send({
          id,
          object: 'text_completion',
          created: now,
          model,
          choices: [{ index: ch.index, text: '', logprobs: ch.logprobs, finish_reason: ch.finish_reason, stop_reason: ch.stop_reason }],
        });
      }
      return sse.end();
    }
    sendJson(res, 200, {
      id,
      object: 'text_completion',
      created: now,
      model,
      choices,
      usage: usage(prompts, results, fields.n!, addSpecialTokens),
    });
  };

  const chat = async (body: Body, res: ServerResponse, signal: AbortSignal) => {
    checkModel(body);
    const messages = chatMessages(body);
    if (!options.chatTemplate) throw new BadRequestError('this model has no chat template: use /v1/completions', 'messages');
    const prompt = options.chatTemplate(messages, { addGenerationPrompt: true });
    const { stream, ...fields } = samplingFields(body, ['max_tokens', 'max_completion_tokens'], fallbackSeed);
    const id = `chatcmpl-${randomUUID()}`;
    const now = Math.floor(Date.now() / 1000);
    const model = options.modelName;
    const sse = lazySse(res);
    const opened = new Set<number>();
    const chunk = (index: number, delta: Record<string, string>, finish: string | null = null) => {
      if (!opened.has(index)) {
        opened.add(index);
        sse.send({
          id,
          object: 'chat.completion.chunk',
          created: now,
          model,
          choices: [{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
        });
      }
      sse.send({
        id,
        object: 'chat.completion.chunk',
        created: now,
        model,
        choices: [{ index, delta, logprobs: null, finish_reason: finish }],
      });
    };
    const onText = stream ? (piece: TextPiece) => chunk(piece.sample, { content: piece.text }) : undefined;
    // The rendered conversation carries BOS itself when the template writes it (as vLLM and
    // transformers' apply_chat_template encode it): the same ids as the in-process chat format.
    const [cs] = await engine.generate({ ...fields, seeds: [fields.seed!], prompts: [prompt], addSpecialTokens: false, signal, onText });
    if (stream) {
      cs.forEach((c, index) => chunk(index, {}, openaiFinish(c)));
      return sse.end();
    }
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created: now,
      model,
      choices: cs.map((c, index) => ({
        index,
        message: { role: 'assistant', content: c.text },
        logprobs: null,
        finish_reason: openaiFinish(c),
      })),
      usage: usage([prompt], [cs], fields.n!, false),
    });
  };

  const logprobsOf = (c: Completion) => {
    const ids = c.tokenIds ?? [];
    return {
      tokens: ids.map((t) => (options.tokenizer ? options.tokenizer.decode([t]) : String(t))),
      token_logprobs: c.logprobs ?? [],
      top_logprobs: null,
      text_offset: [],
    };
  };

  const usage = (prompts: string[], results: Completion[][], n: number, addSpecialTokens: boolean) => {
    const tok = options.tokenizer;
    const promptTokens = tok ? prompts.reduce((a, p) => a + tok.encode(p, { addSpecialTokens }).length, 0) * n : 0;
    const completionTokens = results.flat().reduce((a, c) => a + c.tokens, 0);
    return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  };

  const server = createHttpServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof BadRequestError) return sendError(res, 400, err.message, 'invalid_request_error', err.param);
      if (err instanceof RangeError) return sendError(res, 400, err.message, 'invalid_request_error');
      if (res.writableEnded || res.destroyed) return;
      log.error(`${req.method} ${req.url}: ${(err as Error).message}`);
      if (res.headersSent) {
        res.end(`data: ${JSON.stringify({ error: { message: (err as Error).message, type: 'server_error' } })}\n\n`);
        return;
      }
      sendError(res, 500, (err as Error).message, 'server_error');
    });
  });

  return {
    server,
    listen: (port = 0, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address() as AddressInfo;
          const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          if (keys.length === 0 && !isLoopbackAddress(addr.address)) {
            log.warn(
              `listening on ${shown} (not loopback) with no API key: anyone who can reach it can use the model. ` +
                'Set an API key (irpo serve: the IRPO_API_KEY variable) or bind 127.0.0.1',
            );
          }
          resolve({ url: `http://${shown}:${addr.port}`, port: addr.port });
        });
      }),
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Whether a bound address only takes connections from this machine: 127.0.0.0/8 or ::1. */
export function isLoopbackAddress(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return /^127\.\d+\.\d+\.\d+$/.test(v4) || address === '::1' || address === '0:0:0:0:0:0:0:1';
}

function openaiFinish(c: Completion): 'stop' | 'length' {
  return c.finishReason === 'length' ? 'length' : 'stop';
}

async function readBody(req: IncomingMessage, max: number): Promise<Body> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new BadRequestError(`request body over ${max} bytes`);
    chunks.push(chunk);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new BadRequestError(`body is not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new BadRequestError('body must be a JSON object');
  return json as Body;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  type = 'invalid_request_error',
  param?: string,
  code?: string,
): void {
  if (res.headersSent) return void res.end();
  sendJson(res, status, { error: { message, type, param: param ?? null, code: code ?? null } });
}

/** An SSE response whose headers go out with the first event, so errors before it can still be a 400. */
function lazySse(res: ServerResponse): { send(value: unknown): void; end(): void } {
  const start = () => {
    if (!res.headersSent)
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  };
  return {
    send(value) {
      start();
      res.write(`data: ${JSON.stringify(value)}\n\n`);
    },
    end() {
      start();
      res.end('data: [DONE]\n\n');
    },
  };
}
