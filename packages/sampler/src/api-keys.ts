import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The keys an environment variable holds: comma-separated, surrounding spaces dropped (so one
 * variable can hold a key per client, and a key is revoked by removing it). An unset or empty
 * variable holds none; one set to only commas and spaces throws, since that is a mistake that
 * would otherwise leave the server open.
 */
export function parseApiKeys(value: string | undefined, name = 'the API key variable'): string[] {
  if (value === undefined || value === '') return [];
  const keys = value
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  if (keys.length === 0) throw new RangeError(`${name} is set but holds no key (a comma-separated list of keys is expected)`);
  return keys;
}

/**
 * The key a client sends from the variable `name`: its first comma-separated entry, so a client
 * and an `irpo serve` that holds several keys can read one variable (a bearer token has no
 * commas, RFC 6750). Undefined when unset or empty.
 */
export function apiKeyFromEnv(name: string): string | undefined {
  const first = process.env[name]?.split(',')[0]?.trim();
  return first ? first : undefined;
}

/**
 * The variable a client reads its key from: `name` when given; else OPENAI_API_KEY when it is set
 * (the OpenAI clients' variable, what vLLM users export), else IRPO_API_KEY (what `irpo serve`
 * reads), so a run that launches a keyed `irpo serve` works with only IRPO_API_KEY set.
 */
export function resolveApiKeyEnv(name: string | undefined): string {
  if (name !== undefined) return name;
  return process.env.OPENAI_API_KEY ? 'OPENAI_API_KEY' : 'IRPO_API_KEY';
}

/** Why a request was refused: no bearer token, or one that matches none of the keys. */
export type ApiKeyRefusal = 'missing' | 'invalid';

/**
 * Checks `Authorization: Bearer <key>` against `keys`. Keys and the sent token are compared as
 * SHA-256 digests with timingSafeEqual, so the time taken says nothing about how much of a key
 * was right nor (every key is compared) which key came close, and nothing about its length.
 * Returns undefined when the request may pass.
 */
export function apiKeyCheck(keys: readonly string[]): (headers: IncomingHttpHeaders) => ApiKeyRefusal | undefined {
  const digests = keys.map(digest);
  return (headers) => {
    const m = /^bearer[ \t]+(.*)$/i.exec(headers.authorization ?? ''); // the scheme is case-insensitive (RFC 7235)
    const token = m?.[1].trim();
    if (!token) return 'missing';
    const sent = digest(token);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, sent) || ok; // no short cut: compare them all
    return ok ? undefined : 'invalid';
  };
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
