import { describe, expect, it } from 'vitest';
import { apiKeyCheck, apiKeyFromEnv, parseApiKeys, resolveApiKeyEnv } from './api-keys.js';

describe('parseApiKeys', () => {
  it('reads a comma-separated list, dropping spaces and empty entries', () => {
    expect(parseApiKeys('sk-one')).toEqual(['sk-one']);
    expect(parseApiKeys(' sk-one , sk-two,,sk-3 ')).toEqual(['sk-one', 'sk-two', 'sk-3']);
  });

  it('an unset or empty variable holds no key; one of only commas is a mistake, named without a value', () => {
    expect(parseApiKeys(undefined)).toEqual([]);
    expect(parseApiKeys('')).toEqual([]);
    expect(() => parseApiKeys(' , ,', 'IRPO_API_KEY')).toThrow('IRPO_API_KEY is set but holds no key');
  });
});

describe('apiKeyCheck', () => {
  const check = apiKeyCheck(['sk-alpha-123', 'sk-beta']);
  const auth = (authorization?: string) => check(authorization === undefined ? {} : { authorization });

  it('passes either key, with the Bearer scheme in any case (RFC 7235)', () => {
    expect(auth('Bearer sk-alpha-123')).toBeUndefined();
    expect(auth('Bearer sk-beta')).toBeUndefined();
    expect(auth('bearer sk-beta')).toBeUndefined();
    expect(auth('BEARER  sk-beta ')).toBeUndefined();
  });

  it('a request without a bearer token is missing its key', () => {
    expect(auth()).toBe('missing');
    expect(auth('')).toBe('missing');
    expect(auth('Bearer ')).toBe('missing');
    expect(auth('sk-beta')).toBe('missing'); // no scheme
    expect(auth('Basic c2stYmV0YQ==')).toBe('missing');
  });

  it('refuses near misses of every length: a prefix, an extension, another case, the list itself', () => {
    for (const wrong of ['sk-alpha-12', 'sk-alpha-1234', 'SK-BETA', 'sk-bet', 'sk-alpha-123,sk-beta', 'x'])
      expect(auth(`Bearer ${wrong}`)).toBe('invalid');
  });
});

describe('apiKeyFromEnv', () => {
  it("a client sends a list's first key (a server given the same variable accepts it); nothing when unset or empty", () => {
    const name = 'IRPO_API_KEYS_TEST_VAR';
    try {
      process.env[name] = ' sk-one , sk-two';
      expect(apiKeyFromEnv(name)).toBe('sk-one');
      expect(apiKeyCheck(parseApiKeys(process.env[name]))({ authorization: `Bearer ${apiKeyFromEnv(name)}` })).toBeUndefined();
      process.env[name] = 'sk-solo';
      expect(apiKeyFromEnv(name)).toBe('sk-solo');
      process.env[name] = '';
      expect(apiKeyFromEnv(name)).toBeUndefined();
      delete process.env[name];
      expect(apiKeyFromEnv(name)).toBeUndefined();
    } finally {
      delete process.env[name];
    }
  });
});

describe('resolveApiKeyEnv', () => {
  it('names the given variable; unnamed, OPENAI_API_KEY when set, else IRPO_API_KEY', () => {
    const saved = process.env.OPENAI_API_KEY;
    try {
      expect(resolveApiKeyEnv('MY_KEY')).toBe('MY_KEY');
      process.env.OPENAI_API_KEY = 'sk-x';
      expect(resolveApiKeyEnv(undefined)).toBe('OPENAI_API_KEY');
      delete process.env.OPENAI_API_KEY;
      expect(resolveApiKeyEnv(undefined)).toBe('IRPO_API_KEY');
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });
});
