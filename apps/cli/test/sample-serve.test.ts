import { irpo } from './irpo-bin.js';
import { describe, expect, it } from 'vitest';

describe('irpo sample / serve', () => {
  it('sample --help lists its options', () => {
    const r = irpo('sample', '--help');
    expect(r.code).toBe(0);
    for (const opt of ['--task', '--model', '--endpoint', '-n', '--temperature', '--out', '--seed']) expect(r.stdout).toContain(opt);
  });

  it('sample needs exactly one of --model and --endpoint (exit 2)', () => {
    const neither = irpo('sample', '--task', 'arith', '--out', '/tmp/x.jsonl');
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('exactly one of --model <dir> or --endpoint <url>');
    const both = irpo('sample', '--task', 'arith', '--out', '/tmp/x.jsonl', '--model', 'm', '--endpoint', 'http://127.0.0.1:1/v1');
    expect(both.code).toBe(2);
  });

  it('serve --help shows the loopback default', () => {
    const r = irpo('serve', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('127.0.0.1');
    expect(r.stdout).toContain('--port');
  });
});
