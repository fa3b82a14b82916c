import { spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, irpo } from './irpo-bin.js';
import { tinyRunConfig } from './tiny-model.js';

const arithBase = fileURLToPath(new URL('../../../packages/recipes/assets/arith-base', import.meta.url));
const KEY = 'sk-irpo-cli-test-8d41f3';
const SECOND = 'sk-irpo-cli-test-second-02aa';

/** `irpo ...args` with these variables added to (or, undefined, removed from) the environment. */
function irpoEnv(env: Record<string, string | undefined>, ...args: string[]) {
  const merged: Record<string, string | undefined> = { ...process.env, IRPO_LOG_LEVEL: 'warn', ...env };
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: merged as NodeJS.ProcessEnv });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irpo-cli-serve-key-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('irpo serve with an API key', () => {
  it('--help documents --api-key-env and says what binding past loopback does', () => {
    const r = irpo('serve', '--help');
    expect(r.code).toBe(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--api-key-env');
    expect(help).toContain('IRPO_API_KEY');
    expect(help).toContain('Authorization: Bearer <key>');
    expect(help).toMatch(/--host .*set an API key \(--api-key-env\), else irpo serve warns at start/);
  });

  it('takes no key on the command line, and refuses a variable of only commas (exit 2, the value never shown)', () => {
    const onLine = irpo('serve', arithBase, '--api-key', KEY);
    expect(onLine.code).toBe(2);
    expect(onLine.stderr).toContain('takes no key on the command line');
    expect(onLine.stderr + onLine.stdout).not.toContain(KEY);
    const empty = irpoEnv({ IRPO_SERVE_KEYS: ' , ' }, 'serve', arithBase, '--api-key-env', 'IRPO_SERVE_KEYS');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('IRPO_SERVE_KEYS is set but holds no key');
  });

  it('launched with IRPO_API_KEY (two keys): 401 without a key or with a wrong one, 200 with either; /health open; no key in its log', async () => {
    const { HttpEngine, launchEngine } = await import('@irpo/sampler');
    const logFile = join(dir, 'serve.log');
    const prev = process.env.IRPO_API_KEY;
    process.env.IRPO_API_KEY = `${KEY},${SECOND}`; // the server inherits it
    try {
      const engine = await launchEngine({
        command: `${process.execPath} ${bin} serve {model} --port {port} --log-level info`,
        model: arithBase,
        logFile,
        startupTimeoutS: 300,
        apiKeyEnv: 'IRPO_API_KEY',
      });
      try {
        const models = (key?: string) => fetch(`${engine.baseUrl}/models`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
        expect((await models()).status).toBe(401);
        expect((await models('sk-irpo-cli-test-wrong')).status).toBe(401);
        expect((await models(KEY)).status).toBe(200);
        expect((await models(SECOND)).status).toBe(200);
        expect((await fetch(engine.baseUrl.replace(/\/v1$/, '/health'))).status).toBe(200);
        // the readiness polls above sent IRPO_API_KEY's first key; the HTTP engine does the same,
        // and a client holding only the second key is served too
        const generate = (apiKeyEnv: string) =>
          new HttpEngine({ baseUrl: engine.baseUrl, model: engine.modelName, apiKeyEnv }).generate({
            prompts: ['1 + 2 = '],
            maxNewTokens: 4,
            temperature: 0,
          });
        const [[viaList]] = await generate('IRPO_API_KEY');
        process.env.IRPO_SERVE_TEST_SECOND = SECOND;
        const [[viaSecond]] = await generate('IRPO_SERVE_TEST_SECOND');
        expect(viaList.tokens).toBeGreaterThan(0);
        expect(viaSecond.text).toBe(viaList.text); // greedy: the same text
      } finally {
        delete process.env.IRPO_SERVE_TEST_SECOND;
        await engine.stop();
      }
    } finally {
      if (prev === undefined) delete process.env.IRPO_API_KEY;
      else process.env.IRPO_API_KEY = prev;
    }
    const log = await readFile(logFile, 'utf8');
    expect(log).toContain('API key required (2 keys in IRPO_API_KEY); GET /health is open');
    expect(log).not.toContain('not loopback');
    for (const k of [KEY, SECOND]) expect(log).not.toContain(k);
  }, 120_000);

  it('bound to 0.0.0.0 without a key, it warns at start', async () => {
    const { launchEngine } = await import('@irpo/sampler');
    const logFile = join(dir, 'open.log');
    const engine = await launchEngine({
      command: `${process.execPath} ${bin} serve {model} --port {port} --host 0.0.0.0 --log-level warn`,
      model: arithBase,
      logFile,
      startupTimeoutS: 300,
      env: { IRPO_API_KEY: undefined },
    });
    await engine.stop();
    expect(await readFile(logFile, 'utf8')).toContain(
      'warn: listening on 0.0.0.0 (not loopback) with no API key: anyone who can reach it can use the model',
    );
  }, 120_000);
});

describe('a run against its own irpo serve with a key', () => {
  const serve = `${process.execPath} ${bin} serve {model} --port {port} --seed {seed} --backend wasm --log-level info`;
  const runWith = async (name: string, engine: string, env: Record<string, string | undefined>) => {
    const root = join(dir, name);
    const cfg = await tinyRunConfig(root, 1);
    await appendFile(cfg, `\nengine: ${engine}\n`);
    const out = join(root, 'run');
    return { out, r: irpoEnv({ OPENAI_API_KEY: undefined, ...env }, 'run', cfg, '--out', out, '--json') };
  };

  it('engine.launch "irpo serve" with IRPO_API_KEY set completes an iteration (no apiKeyEnv: IRPO_API_KEY when OPENAI_API_KEY is unset)', async () => {
    const { out, r } = await runWith('keyed', `{ kind: http, launch: "${serve}" }`, { IRPO_API_KEY: KEY });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { evals: { greedy: { total: number } }[] };
    expect(result.evals).toHaveLength(2);
    expect(result.evals[1]!.greedy.total).toBe(4);
    // every stage's server wanted the key (sampling at iteration 1, evals of M0 and M1)
    for (const t of [0, 1]) {
      const log = await readFile(join(out, `iter-${t}`, 'engine.log'), 'utf8');
      expect(log).toContain('API key required (the key in IRPO_API_KEY)');
      expect(log).not.toContain(KEY);
    }
    expect(r.stdout + r.stderr).not.toContain(KEY);
  }, 300_000);

  it('with the client reading another variable, the first launch fails at once naming engine.apiKeyEnv, not the key', async () => {
    const { out, r } = await runWith('unkeyed', `{ kind: http, launch: "${serve}", apiKeyEnv: OPENAI_API_KEY }`, { IRPO_API_KEY: KEY });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('answered 401 to GET');
    expect(r.stderr).toContain('OPENAI_API_KEY, the variable the client reads its key from');
    expect(r.stderr).toContain('engine.apiKeyEnv');
    expect(r.stderr + r.stdout).not.toContain(KEY);
    expect(await readFile(join(out, 'iter-0', 'engine.log'), 'utf8')).not.toContain(KEY);
  }, 120_000);
});
