/**
 * Human log lines go to stderr so that stdout stays for machine results (`--json`). One
 * process-wide level, set by the CLI's `--log-level`.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

let current: LogLevel = (process.env.IRPO_LOG_LEVEL as LogLevel | undefined) ?? 'info';
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

export function setLogLevel(level: LogLevel): void {
  current = level;
}

export function getLogLevel(): LogLevel {
  return current;
}

/** Redirects log lines (tests capture them). Returns the previous sink. */
export function setLogSink(next: (line: string) => void): (line: string) => void {
  const prev = sink;
  sink = next;
  return prev;
}

function enabled(level: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(current) && current !== 'silent';
}

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** A logger whose lines start with `[scope]`. */
export function createLogger(scope: string): Logger {
  const emit = (level: LogLevel, msg: string) => {
    if (!enabled(level)) return;
    const tag = level === 'info' ? '' : `${level}: `;
    sink(`[${scope}] ${tag}${msg}`);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}
