import type { GenerateRequest } from './engine.js';
import type { ChatMessage } from './types.js';

/** A request the client got wrong: the server answers 400 with this message and the field. */
export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
  constructor(
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

export type Body = Record<string, unknown>;

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);

function num(body: Body, field: string, dflt: number, ok: (x: number) => boolean, range: string): number {
  const x = body[field];
  if (x === undefined || x === null) return dflt;
  if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x))
    throw new BadRequestError(`${field} must be ${range}, got ${JSON.stringify(x)}`, field);
  return x;
}

function stopList(body: Body): string[] {
  const s = body.stop;
  if (s === undefined || s === null) return [];
  if (typeof s === 'string') return [s];
  if (Array.isArray(s) && s.every((x) => typeof x === 'string')) return s as string[];
  throw new BadRequestError('stop must be a string or an array of strings', 'stop');
}

/**
 * The sampling fields shared by /v1/completions and /v1/chat/completions. A request without a
 * seed gets `fallbackSeed()` (default: a random one, as OpenAI does: fresh samples).
 */
export function samplingFields(
  body: Body,
  maxTokensField: string[],
  fallbackSeed: () => number = () => Math.floor(Math.random() * 2 ** 31),
): Omit<GenerateRequest, 'prompts'> & { stream: boolean } {
  let maxNewTokens = 16; // OpenAI's default for completions
  for (const f of maxTokensField) maxNewTokens = num(body, f, maxNewTokens, (x) => isInt(x) && x >= 1, 'an integer ≥ 1');
  const topK = num(body, 'top_k', 0, (x) => isInt(x) && x >= -1, 'an integer ≥ -1 (-1 or 0: off)');
  const seed = body.seed === undefined || body.seed === null ? undefined : num(body, 'seed', 0, isInt, 'an integer');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean')
    throw new BadRequestError('stream must be a boolean', 'stream');
  return {
    n: num(body, 'n', 1, (x) => isInt(x) && x >= 1 && x <= 256, 'an integer in [1, 256]'),
    temperature: num(body, 'temperature', 1, (x) => x >= 0 && x <= 10, 'a number in [0, 10]'),
    topP: num(body, 'top_p', 1, (x) => x > 0 && x <= 1, 'a number in (0, 1]'),
    topK: topK > 0 ? topK : 0,
    maxNewTokens,
    stop: stopList(body),
    seed: seed ?? fallbackSeed(),
    stream: body.stream === true,
  };
}

/** `prompt` of /v1/completions: a string or a list of strings (token-id prompts need a tokenizer). */
export function completionPrompts(body: Body, decode?: (ids: number[]) => string): string[] {
  const p = body.prompt;
  if (typeof p === 'string') return [p];
  const isIds = (x: unknown): x is number[] => Array.isArray(x) && x.length > 0 && x.every(isInt);
  if (Array.isArray(p) && p.length > 0) {
    if (p.every((x) => typeof x === 'string')) return p as string[];
    if (isIds(p)) return [idsToText(p, decode)];
    if (p.every(isIds)) return p.map((ids) => idsToText(ids, decode));
  }
  throw new BadRequestError('prompt must be a string, a non-empty array of strings, or token ids', 'prompt');
}

function idsToText(ids: number[], decode?: (ids: number[]) => string): string {
  if (!decode) throw new BadRequestError('token-id prompts need a server started with a tokenizer', 'prompt');
  return decode(ids);
}

/** `messages` of /v1/chat/completions; content parts of type text are joined. */
export function chatMessages(body: Body): ChatMessage[] {
  const m = body.messages;
  if (!Array.isArray(m) || m.length === 0) throw new BadRequestError('messages must be a non-empty array', 'messages');
  return m.map((msg, i) => {
    const field = `messages[${i}]`;
    if (typeof msg !== 'object' || msg === null) throw new BadRequestError(`${field} must be an object`, field);
    const { role, content } = msg as { role?: unknown; content?: unknown };
    if (typeof role !== 'string') throw new BadRequestError(`${field}.role must be a string`, `${field}.role`);
    if (typeof content === 'string') return { role, content };
    if (Array.isArray(content)) {
      const parts = content.map((c, j) => {
        const part = c as { type?: unknown; text?: unknown };
        if (part?.type !== 'text' || typeof part.text !== 'string')
          throw new BadRequestError(`${field}.content[${j}]: only text parts are supported`, `${field}.content`);
        return part.text;
      });
      return { role, content: parts.join('') };
    }
    throw new BadRequestError(`${field}.content must be a string or text parts`, `${field}.content`);
  });
}
