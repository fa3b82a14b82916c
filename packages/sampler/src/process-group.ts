import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { createLogger } from '@irpo/contracts';

/** How a process ended: its exit code, or the signal that killed it. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnLoggedOptions {
  /** stdout and stderr are appended here, after a header line with the command. */
  logFile: string;
  /** Added to this process's environment (a value of undefined removes a variable). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** stop(): how long after SIGTERM before SIGKILL (default 10 000 ms). */
  graceMs?: number;
}

/** A shell command running in its own process group, its output going to a log file. */
export interface LoggedProcess {
  /** The shell's pid, which is also the id of the process group. */
  pid: number;
  command: string;
  /** Settles when the shell exits; never rejects. */
  exited: Promise<ProcessExit>;
  /** SIGTERM to the whole group, SIGKILL after graceMs; resolves once all of it is gone. Idempotent. */
  stop(): Promise<void>;
  /** The last lines this run wrote to the log (not earlier runs'). */
  tail(lines?: number): string;
}

const log = createLogger('engine');

/**
 * Runs `command` with /bin/sh in its own process group (so stop() reaches every process it
 * started), appending its output to `logFile` after a `=== irpo <time>: <command>` header. If this
 * process exits first (normally, on an uncaught error, or on SIGINT/SIGTERM/SIGHUP when nothing
 * else handles them), the whole group is SIGKILLed: nothing outlives irpo.
 */
export function spawnLogged(command: string, options: SpawnLoggedOptions): LoggedProcess {
  const graceMs = options.graceMs ?? 10_000;
  mkdirSync(dirname(options.logFile), { recursive: true });
  let logStart = 0;
  try {
    logStart = statSync(options.logFile).size;
  } catch {
    // a new log
  }
  appendFileSync(options.logFile, `${logStart > 0 ? '\n' : ''}=== irpo ${new Date().toISOString()}: ${command}\n`);
  const fd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', command], {
      detached: true, // its own process group (and session): stop() signals all of it
      stdio: ['ignore', fd, fd],
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start \`${command}\` (/bin/sh failed to spawn)`);
  child.on('error', (err) => log.warn(`\`${command}\`: ${err.message}`));
  child.unref(); // this process may end without stop(): the exit hook then kills the group
  const exited = new Promise<ProcessExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      child.ref(); // keep the event loop alive until the exit is seen
      try {
        if (groupAlive(pid)) {
          signalGroup(pid, 'SIGTERM');
          if (!(await groupGone(pid, graceMs))) {
            log.warn(`\`${command}\` still running ${graceMs} ms after SIGTERM: SIGKILL`);
            signalGroup(pid, 'SIGKILL');
            await groupGone(pid, 5000);
          }
        }
        await exited;
      } finally {
        live.delete(pid);
        unhookIfIdle();
        child.unref();
      }
    })());
  live.add(pid);
  hookExit();
  return { pid, command, exited, stop, tail: (lines = TAIL_LINES) => logTail(options.logFile, logStart, lines) };
}

export interface RunLoggedOptions extends SpawnLoggedOptions {
  /** Stops the command (its whole group) after this long; the result says it timed out. */
  timeoutS?: number;
  /** Stops the command when aborted, then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called every `heartbeatS` seconds (default 30) while the command runs, for progress lines. */
  onHeartbeat?: (seconds: number) => void;
  heartbeatS?: number;
}

export interface RunLoggedResult extends ProcessExit {
  timedOut: boolean;
  seconds: number;
  /** The last lines of its output. */
  tail: string;
}

/** Runs `command` to its end (spawnLogged), with a timeout and heartbeats; its group never outlives the call. */
export async function runLogged(command: string, options: RunLoggedOptions): Promise<RunLoggedResult> {
  const t0 = Date.now();
  const proc = spawnLogged(command, options);
  let timedOut = false;
  const timers: NodeJS.Timeout[] = [];
  const onAbort = () => void proc.stop();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.timeoutS !== undefined) {
    timers.push(
      setTimeout(() => {
        timedOut = true;
        void proc.stop();
      }, options.timeoutS * 1000),
    );
  }
  if (options.onHeartbeat) {
    const every = (options.heartbeatS ?? 30) * 1000;
    timers.push(setInterval(() => options.onHeartbeat!(Math.round((Date.now() - t0) / 1000)), every));
  }
  try {
    const exit = await proc.exited;
    await proc.stop(); // whatever it left running in its group
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    return { ...exit, timedOut, seconds: (Date.now() - t0) / 1000, tail: proc.tail() };
  } finally {
    for (const t of timers) clearTimeout(t);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

const TAIL_LINES = 20;

/** The last `lines` lines of `file` from byte `from` on, without irpo's own header line. */
export function logTail(file: string, from = 0, lines = TAIL_LINES): string {
  try {
    const text = readFileSync(file).subarray(from).toString('utf8');
    const all = text.split('\n');
    if (all[0]?.startsWith('=== irpo ') || (all[0] === '' && all[1]?.startsWith('=== irpo '))) all.splice(0, all[0] === '' ? 2 : 1);
    while (all.length > 0 && all[all.length - 1].trim() === '') all.pop();
    return all.slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/**
 * Whether any process of the group still runs. A zombie (dead, not yet reaped: its parent died
 * and the init process may not reap) does not count, so /proc is read where there is one.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return true; // no /proc: trust kill(0)
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // state ppid pgrp ...
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
    } catch {
      // exited while we looked
    }
  }
  return false;
}

/** Waits until no process of the group runs; false after `ms`. */
async function groupGone(pgid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (!groupAlive(pgid)) return true;
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, until - Date.now()))));
  }
}

// Process groups still running, killed when this process goes away.
const live = new Set<number>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let hooked = false;

const killAll = () => {
  for (const pgid of live) signalGroup(pgid, 'SIGKILL');
  live.clear();
};

// Only when nothing else handles the signal: then Node would die without an 'exit' event, so kill
// the groups and die of the same signal. When the program handles it, its exit runs onExit.
const onSignal = (signal: NodeJS.Signals) => {
  if (process.listenerCount(signal) > 1) return;
  killAll();
  unhook();
  process.kill(process.pid, signal);
};

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function unhook(): void {
  if (!hooked) return;
  hooked = false;
  process.off('exit', killAll);
  for (const s of SIGNALS) process.off(s, onSignal);
}

function unhookIfIdle(): void {
  if (live.size === 0) unhook();
}
