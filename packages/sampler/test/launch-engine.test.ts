import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setLogSink } from '@irpo/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EngineUnreachableError, HttpEngine } from '../src/http-engine.js';
import { EngineLaunchError, fillTemplate, freePort, groupAlive, launchEngine, type LaunchedEngine } from '../src/launch-engine.js';

const fixture = fileURLToPath(new URL('./fixtures/fake-openai-server.mjs', import.meta.url));
const launchChild = fileURLToPath(new URL('./launch-child.ts', import.meta.url));
const loader = new URL('../../../tools/test-support/ts-loader.mjs', import.meta.url).href;
const node = process.execPath;
const serverCmd = (extra = '') => `${node} ${fixture} --port {port} --name {model} ${extra}`.trim();

let dir: string;
const started: LaunchedEngine[] = [];
let prevSink: ReturnType<typeof setLogSink>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irpo-launch-'));
  prevSink = setLogSink(() => {}); // retries and launches log warnings: keep the test output clean
});
afterEach(async () => {
  for (const e of started.splice(0)) await e.stop();
});
afterAll(async () => {
  setLogSink(prevSink);
  await rm(dir, { recursive: true, force: true });
});

async function launch(command: string, more: Partial<Parameters<typeof launchEngine>[0]> = {}): Promise<LaunchedEngine> {
  const engine = await launchEngine({ command, model: 'tiny', seed: 3, logFile: join(dir, 'engine.log'), startupTimeoutS: 60, ...more });
  started.push(engine);
  return engine;
}

/** True when the process no longer runs (a zombie left for an init that does not reap counts as gone). */
async function isGone(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat === '' || /^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
}

/**
 * True once the process is gone, polling for up to `withinMs`: a server learns of its launcher's
 * death asynchronously (a signal, a closed pipe) and takes a moment to exit on a loaded machine.
 */
async function goneSoon(pid: number, withinMs = 15_000): Promise<boolean> {
  for (const start = Date.now(); Date.now() - start < withinMs; await new Promise((r) => setTimeout(r, 50)))
    if (await isGone(pid)) return true;
  return isGone(pid);
}

describe('fillTemplate', () => {
  it('shell-quotes substituted values and leaves other braces alone', () => {
    expect(fillTemplate('serve {model} --port {port} --cfg {"a":1} {other}', { model: '/m/x y', port: '81' })).toBe(
      `serve '/m/x y' --port 81 --cfg {"a":1} {other}`,
    );
    expect(fillTemplate('{model}', { model: "it's" })).toBe(`'it'\\''s'`);
    expect(fillTemplate('{model}', { model: '/plain/path-1.2_b' })).toBe('/plain/path-1.2_b');
  });
});

describe('launchEngine', () => {
  it('starts a server on a free port, waits until it answers, and stops it', async () => {
    const logFile = join(dir, 'ready.log');
    const engine = await launch(serverCmd(), { logFile, model: 'my model' });
    expect(engine.baseUrl).toBe(`http://127.0.0.1:${engine.port}/v1`);
    expect(engine.modelName).toBe('my model'); // {model} reached the server as one argument
    expect(engine.command).toContain(`--port ${engine.port} --name 'my model'`);
    const http = new HttpEngine({ baseUrl: engine.baseUrl, model: engine.modelName });
    const [[c]] = await http.generate({ prompts: ['hi'], maxNewTokens: 4, seed: 1 });
    expect(c.text).toMatch(/^hi\|\d+\|0$/);
    await engine.stop();
    expect(await engine.exited).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(groupAlive(engine.pid)).toBe(false);
    const text = await readFile(logFile, 'utf8');
    expect(text).toContain(`=== irpo `);
    expect(text).toContain(`listening on http://127.0.0.1:${engine.port}`);
    // a second launch appends to the same log
    const again = await launch(serverCmd(), { logFile });
    await again.stop();
    expect((await readFile(logFile, 'utf8')).match(/listening on/g)).toHaveLength(2);
  });

  it('a server that exits at once: EngineLaunchError with the command, the exit code and the log tail', async () => {
    const err = await launch(`${node} -e "console.error('cannot load weights'); process.exit(3)" {port}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineLaunchError);
    const e = err as EngineLaunchError;
    expect(e.exit).toEqual({ code: 3, signal: null });
    expect(e.message).toMatch(/exited with code 3 before it was ready/);
    expect(e.message).toContain(`${node} -e`);
    expect(e.message).toMatch(/process\.exit\(3\)" \d+`/); // the port substituted
    expect(e.logTail).toBe('cannot load weights');
    expect(e.message).toContain('cannot load weights');
  });

  it('keeps only the last 20 lines of a long log in the error', async () => {
    const err = (await launch(`${node} -e "for (let i = 1; i <= 50; i++) console.log('line ' + i); process.exit(1)" {port}`).catch(
      (e: unknown) => e,
    )) as EngineLaunchError;
    const lines = err.logTail.split('\n');
    expect(lines).toHaveLength(20);
    expect(lines[0]).toBe('line 31');
    expect(lines[19]).toBe('line 50');
  });

  it('a server that never gets ready: a timeout error, and the server is stopped', async () => {
    const err = (await launch(serverCmd('--never-ready'), { startupTimeoutS: 1, graceMs: 2000 }).catch(
      (e: unknown) => e,
    )) as EngineLaunchError;
    expect(err).toBeInstanceOf(EngineLaunchError);
    expect(err.message).toMatch(/not ready after 1 s \(GET http:\/\/127\.0\.0\.1:\d+\/v1\/models: 503\)/);
    expect(err.logTail).toMatch(/listening on/);
    expect(err.exit).toEqual({ code: null, signal: 'SIGTERM' }); // stopped by us
  });

  it('needs {port} in the command, and a seed when it has {seed}', async () => {
    await expect(launch('vllm serve {model}')).rejects.toThrow(/needs a \{port\} placeholder/);
    await expect(launch('x {port} {seed}', { seed: undefined })).rejects.toThrow(/has \{seed\} but no seed/);
  });

  it('stop() ends the whole process group: the server and its children', async () => {
    const pids = join(dir, 'pids.txt');
    const engine = await launch(serverCmd(`--grandchild ${pids}`));
    const [server, grandchild] = (await readFile(pids, 'utf8')).trim().split(' ').map(Number);
    expect(await isGone(grandchild)).toBe(false);
    await engine.stop();
    expect(await isGone(server)).toBe(true);
    expect(await isGone(grandchild)).toBe(true);
  });

  it('stop() SIGKILLs a server that ignores SIGTERM, after the grace period', async () => {
    const pids = join(dir, 'pids-term.txt');
    const logFile = join(dir, 'ignore-term.log');
    const engine = await launch(serverCmd(`--ignore-term --grandchild ${pids}`), { graceMs: 300, logFile });
    const [server, grandchild] = (await readFile(pids, 'utf8')).trim().split(' ').map(Number);
    await engine.stop();
    expect(await isGone(server)).toBe(true);
    expect(await isGone(grandchild)).toBe(true);
    expect(await readFile(logFile, 'utf8')).toContain('ignoring SIGTERM');
    expect(groupAlive(engine.pid)).toBe(false);
  });

  it('a server killed mid-run: HttpEngine raises EngineUnreachableError instead of retrying forever', async () => {
    const logFile = join(dir, 'killed.log');
    const engine = await launch(serverCmd('--slow-ms 60000'), { logFile });
    const http = new HttpEngine({ baseUrl: engine.baseUrl, model: engine.modelName, connectRetryMs: 10, retryBaseMs: 10 });
    const pending = http.generate({ prompts: ['a', 'b', 'c'], maxNewTokens: 4 }).catch((e: unknown) => e);
    // once the server holds a request, kill it hard, as a crash would
    while (!(await readFile(logFile, 'utf8')).includes('request ')) await new Promise((r) => setTimeout(r, 20));
    process.kill(-engine.pid, 'SIGKILL');
    const err = await pending;
    expect(err).toBeInstanceOf(EngineUnreachableError);
    expect((err as EngineUnreachableError).endpoints).toEqual([engine.baseUrl]);
    expect((err as Error).message).toMatch(/no endpoint reachable .* after 4 rounds: TypeError: (ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET)/);
    expect(await engine.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('two endpoints, one dead: every request is served by the live one, with the same seeds', async () => {
    const engine = await launch(serverCmd());
    const dead = `http://127.0.0.1:${await freePort()}/v1`;
    const req = { prompts: ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'], n: 2, maxNewTokens: 4, seed: 9 };
    const alone = await new HttpEngine({ baseUrl: engine.baseUrl, model: engine.modelName }).generate(req);
    const both = await new HttpEngine({ endpoints: [dead, engine.baseUrl], model: engine.modelName, connectRetryMs: 10 }).generate(req);
    expect(both).toEqual(alone);
    expect(both[3].map((c) => c.text.split('|')[0])).toEqual(['p3', 'p3']);
  });
});

describe('no server outlives the process that launched it', () => {
  /** Runs launch-child.ts; `after` is called once it printed `ready`. Resolves with its exit and the server's pids. */
  function runChild(how: string, after?: (pid: number) => void) {
    const pidFile = join(dir, `child-${how}.txt`);
    return new Promise<{ code: number | null; signal: string | null; pids: number[]; stderr: string }>((resolve, reject) => {
      const p = spawn(
        node,
        ['--conditions=@irpo/source', '--import', loader, launchChild, fixture, pidFile, join(dir, `child-${how}.log`), how],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, IRPO_LOG_LEVEL: 'warn' },
        },
      );
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && after?.(p.pid!));
      p.on('error', reject);
      p.on('exit', async (code, signal) => {
        const pids = (await readFile(pidFile, 'utf8')).trim().split(' ').map(Number);
        resolve({ code, signal, pids, stderr });
      });
    });
  }

  it('on an uncaught error (the exit hook; process.exit goes the same way)', async () => {
    const r = await runChild('throw');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('crash after launch');
    for (const pid of r.pids) expect(await goneSoon(pid)).toBe(true);
  });

  it('on SIGTERM, which the program does not handle', async () => {
    const r = await runChild('wait', (pid) => process.kill(pid, 'SIGTERM'));
    expect(r.signal).toBe('SIGTERM');
    for (const pid of r.pids) expect(await goneSoon(pid)).toBe(true);
  });
});
