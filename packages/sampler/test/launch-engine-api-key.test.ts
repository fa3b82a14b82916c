import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setLogSink } from '@irpo/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpEngine } from '../src/http-engine.js';
import { EngineLaunchError, launchEngine } from '../src/launch-engine.js';

// The fixture server with --key-env NAME answers 401 unless sent `Bearer $NAME`.
const fixture = fileURLToPath(new URL('./fixtures/fake-openai-server.mjs', import.meta.url));
const serverCmd = `${process.execPath} ${fixture} --port {port} --name {model} --key-env IRPO_LAUNCH_TEST_KEY`;
const KEY = 'sk-launch-test-3c7d0b';
const OTHER = 'sk-launch-test-other-91e2';

let dir: string;
let prevSink: ReturnType<typeof setLogSink>;
const logged: string[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irpo-launch-key-'));
  prevSink = setLogSink((line) => logged.push(line));
  process.env.IRPO_LAUNCH_TEST_KEY = KEY;
});
afterAll(async () => {
  delete process.env.IRPO_LAUNCH_TEST_KEY;
  setLogSink(prevSink);
  await rm(dir, { recursive: true, force: true });
});

describe('launchEngine with an API key', () => {
  it('the server inherits the variable apiKeyEnv names, and the readiness polls and the HTTP engine send its key', async () => {
    const logFile = join(dir, 'ok.log');
    const engine = await launchEngine({ command: serverCmd, model: 'm', logFile, apiKeyEnv: 'IRPO_LAUNCH_TEST_KEY', startupTimeoutS: 60 });
    try {
      expect(engine.modelName).toBe('m');
      const http = new HttpEngine({ baseUrl: engine.baseUrl, model: engine.modelName, apiKeyEnv: 'IRPO_LAUNCH_TEST_KEY' });
      const [[c]] = await http.generate({ prompts: ['hi'], maxNewTokens: 4, seed: 1 });
      expect(c.text).toMatch(/^hi\|\d+\|0$/);
    } finally {
      await engine.stop();
    }
    expect(await readFile(logFile, 'utf8')).not.toContain(KEY);
    expect(logged.join('\n')).not.toContain(KEY);
  });

  const refused = async (name: string, apiKeyEnv: string | undefined, env?: Record<string, string>) => {
    const err = await launchEngine({
      command: serverCmd,
      model: 'm',
      logFile: join(dir, `${name}.log`),
      apiKeyEnv,
      env,
      startupTimeoutS: 60,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineLaunchError);
    const e = err as EngineLaunchError;
    expect(e.message).toMatch(/answered 401 to GET http:\/\/127\.0\.0\.1:\d+\/v1\/models/);
    expect(e.exit).toEqual({ code: null, signal: 'SIGTERM' }); // irpo stopped it: no wait for the timeout
    for (const k of [KEY, OTHER]) expect(e.message).not.toContain(k);
    return e;
  };

  it('a 401 ends the wait at once with what to do, naming the variable and never the key', async () => {
    // no variable given: nothing sent
    expect((await refused('none', undefined)).message).toContain('none was sent: pass apiKeyEnv');
    // the client's variable unset
    expect((await refused('unset', 'IRPO_LAUNCH_TEST_UNSET')).message).toContain(
      'IRPO_LAUNCH_TEST_UNSET, the variable the client reads its key from',
    );
    // the server started with another key than the client sends
    process.env.IRPO_LAUNCH_TEST_OTHER = OTHER;
    try {
      const e = await refused('other', 'IRPO_LAUNCH_TEST_OTHER');
      expect(e.message).toContain('refused the key in IRPO_LAUNCH_TEST_OTHER');
    } finally {
      delete process.env.IRPO_LAUNCH_TEST_OTHER;
    }
    expect(logged.join('\n')).not.toContain(OTHER);
  });
});
