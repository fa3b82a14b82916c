import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI's launcher, as `npx irpo` runs it. */
export const bin = fileURLToPath(new URL('../bin/irpo.js', import.meta.url));

/** Runs `irpo ...args` to completion (warn-level logs) and returns its exit code and output. */
export function irpo(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, IRPO_LOG_LEVEL: 'warn' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
