import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A shell command run in its own process group with its output appended to a log file: what
 * irpo uses for servers it launches (engine.launch) and trainers it hands an iteration to
 * (training.launch). The group is stopped as a whole (SIGTERM, then SIGKILL), and SIGKILLed if
 * this process exits first.
 */

export interface StartProcessGroupOptions {
  /** The command line as /bin/sh runs it (placeholders already substituted: see fillTemplate). */
  command: string;
  /** stdout and stderr are appended here, after a header line `=== irpo <time>: <command>`. */
  logFile: string;
  /** Added to this process's environment (a value of undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /** Working directory (default this process's). */
  cwd?: string;
  /** stop(): how long after SIGTERM before SIGKILL (default 10 000 ms). */
  graceMs?: number;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcessGroup {
  /** The shell's pid, which is also the id of the process group. */
  pid: number;
  command: string;
  logFile: string;
  /** SIGTERM to the whole group, SIGKILL after graceMs; resolves once all of it is gone. Idempotent. */
  stop(): Promise<void>;
  /** Settles when the shell (the group leader) exits; never rejects. */
  exited: Promise<ProcessExit>;
  /** The exit once seen, else undefined. */
  exit(): ProcessExit | undefined;
  /** The last lines written to the log since this launch's header. */
  logTail(lines?: number): string;
  /** Bytes of the log before this launch's header: where its output starts. */
  logStart: number;
}

export interface RunProcessOptions extends StartProcessGroupOptions {
  /** Stops the command (its whole group) after this long; the result says it timed out. */
  timeoutS?: number;
  /** Called every `heartbeatS` seconds (default 30) while it runs, for progress lines. */
  onHeartbeat?: (seconds: number) => void;
  heartbeatS?: number;
}

export interface RunProcessResult extends ProcessExit {
  timedOut: boolean;
  seconds: number;
  /** The last lines of its output. */
  tail: string;
}

/**
 * Runs a command to its end in its own process group (startProcessGroup), with a timeout and
 * heartbeats; whatever it left running in its group is stopped before this returns (a server it
 * means to leave running must start its own session, e.g. with setsid).
 */
export async function runProcess(options: RunProcessOptions): Promise<RunProcessResult> {
  const t0 = Date.now();
  const group = await startProcessGroup(options);
  let timedOut = false;
  const timers: NodeJS.Timeout[] = [];
  if (options.timeoutS !== undefined) {
    timers.push(
      setTimeout(() => {
        timedOut = true;
        void group.stop();
      }, options.timeoutS * 1000),
    );
  }
  if (options.onHeartbeat) {
    const every = (options.heartbeatS ?? 30) * 1000;
    timers.push(setInterval(() => options.onHeartbeat!(Math.round((Date.now() - t0) / 1000)), every));
  }
  try {
    const exit = await group.exited;
    await group.stop();
    return { ...exit, timedOut, seconds: (Date.now() - t0) / 1000, tail: group.logTail() };
  } finally {
    for (const t of timers) clearTimeout(t);
  }
}

/** The command could not be started at all (no /bin/sh, bad cwd). */
export class ProcessStartError extends Error {
  override readonly name = 'ProcessStartError';
}

/**
 * Starts `command` under `/bin/sh -c` in a new process group (and session), stdout and stderr
 * appended to `logFile`. The caller stop()s it or awaits `exited`; if this process exits first
 * (normally, on an uncaught error, or on SIGINT/SIGTERM/SIGHUP when nothing else handles them),
 * the whole group is SIGKILLed.
 */
export async function startProcessGroup(options: StartProcessGroupOptions): Promise<ProcessGroup> {
  const { command, logFile } = options;
  const graceMs = options.graceMs ?? 10_000;
  mkdirSync(dirname(logFile), { recursive: true });
  let logStart = 0;
  try {
    logStart = statSync(logFile).size;
  } catch {
    // a new log
  }
  appendFileSync(logFile, `${logStart > 0 ? '\n' : ''}=== irpo ${new Date().toISOString()}: ${command}\n`);
  const fd = openSync(logFile, 'a');
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
  if (pid === undefined) {
    const why = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw new ProcessStartError(`could not start \`${command}\`: ${why.message}`);
  }
  child.on('error', () => {}); // a failed spawn was handled above; later errors show as the exit
  child.unref(); // this process may end without stop(): the exit hook then kills the group
  const exited = new Promise<ProcessExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let done: ProcessExit | undefined;
  void exited.then((e) => (done = e));

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      child.ref(); // keep the event loop alive until the exit is seen
      try {
        await stopGroup(pid, graceMs);
        await exited;
      } finally {
        live.delete(pid);
        unhookIfIdle();
        child.unref();
      }
    })());
  // Once the leader exits by itself the group is normally gone; forget it then so the exit hook
  // never signals a process group id the system may have reused.
  void exited.then(() => {
    if (!groupAlive(pid)) {
      live.delete(pid);
      unhookIfIdle();
    }
  });
  live.add(pid);
  hookExit();
  return {
    pid,
    command,
    logFile,
    stop,
    exited,
    exit: () => done,
    logTail: (lines = TAIL_LINES) => tailOf(logFile, logStart, lines),
    logStart,
  };
}

/** SIGTERM to a process group, SIGKILL if it still runs `graceMs` later; resolves once it is gone. */
export async function stopGroup(pgid: number, graceMs = 10_000): Promise<void> {
  if (!groupAlive(pgid)) return;
  signalGroup(pgid, 'SIGTERM');
  if (await groupGone(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  await groupGone(pgid, 5000);
}

const TAIL_LINES = 20;

/** Substitutes `{name}` placeholders with shell-quoted values; other braces stay as written. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? shellQuote(values[name]) : whole));
}

/** `s` as one word for /bin/sh: bare when it has nothing special, else single-quoted. */
export function shellQuote(s: string): string {
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The last `lines` non-blank-ended lines of `file` from byte `from`, without irpo's own header line. */
export function tailOf(file: string, from: number, lines = TAIL_LINES): string {
  try {
    const text = readFileSync(file).subarray(from).toString('utf8');
    const all = text.split('\n');
    if (all[0] === '') all.shift(); // the blank line before a header
    if (all[0]?.startsWith('=== irpo ')) all.shift(); // our own header
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
// the groups and die of the same signal. When the program handles it, its exit runs killAll.
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
