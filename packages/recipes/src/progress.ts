import { formatDuration } from '@irpo/contracts';

/**
 * Progress of long stages on stderr: a line rewritten in place on a TTY, and a line every ~10%
 * (and at the end) when stderr is a file or pipe, so logs stay readable.
 */
export interface Progress {
  /** Starts a stage: `label` like "iter 1/3 · sampling". */
  start(label: string, total: number, unit: string): void;
  update(done: number, extra?: string): void;
  /** Ends the stage with a summary line. */
  done(summary: string): void;
  /** A plain log line. */
  info(line: string): void;
}

export function createProgress(
  stream: NodeJS.WriteStream | { isTTY?: boolean; write(s: string): boolean } = process.stderr,
  quiet = false,
): Progress {
  const tty = Boolean(stream.isTTY);
  let label = '';
  let total = 0;
  let unit = '';
  let t0 = 0;
  let lastDecile = -1;
  let lastDraw = 0;
  const line = (done: number, extra?: string) => {
    const secs = (performance.now() - t0) / 1000;
    // No rate until a second has passed: the first update often lands right after start().
    const rate = secs >= 1 ? done / secs : 0;
    const eta = rate > 0 && total > done ? (total - done) / rate : 0;
    const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
    const speed = rate > 0 ? `${rate.toFixed(1)} ${unit}/s · ETA ${formatDuration(eta)}` : 'starting';
    return `${label}: ${done}/${total} ${unit} (${pct}%) · ${speed}${extra ? ` · ${extra}` : ''}`;
  };
  return {
    start(l, n, u) {
      label = l;
      total = n;
      unit = u;
      t0 = performance.now();
      lastDecile = -1;
      lastDraw = 0;
    },
    update(done, extra) {
      if (quiet) return;
      if (tty) {
        const now = performance.now();
        if (now - lastDraw < 100 && done < total) return;
        lastDraw = now;
        stream.write(`\r\x1b[2K${line(done, extra)}`);
      } else {
        const decile = total > 0 ? Math.floor((10 * done) / total) : 10;
        if (decile > lastDecile) {
          lastDecile = decile;
          stream.write(line(done, extra) + '\n');
        }
      }
    },
    done(summary) {
      if (quiet) return;
      const secs = (performance.now() - t0) / 1000;
      stream.write(`${tty ? '\r\x1b[2K' : ''}${label}: ${summary} (${formatDuration(secs)})\n`);
    },
    info(text) {
      if (!quiet) stream.write(`${text}\n`);
    },
  };
}
