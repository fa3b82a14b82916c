import { describe, expect, it } from 'vitest';
import { iterationSettings, RunConfigSchema } from './run-config.js';

describe('RunConfig', () => {
  it('defaults to the paper settings', () => {
    const c = RunConfigSchema.parse({});
    expect(c.training.beta).toBe(0.1);
    expect(c.training.alpha).toBe(1);
    expect(c.training.loss).toBe('dpo-nll');
    expect(c.iteration.n).toBe(30);
    expect(c.iteration.k).toBe(10);
    expect(c.iterations).toBe(4);
  });

  it('rejects unknown keys, naming them', () => {
    const r = RunConfigSchema.safeParse({ training: { betta: 0.2 } });
    expect(r.success).toBe(false);
    const issue = r.error?.issues[0];
    expect(issue?.path).toEqual(['training']);
    expect(issue?.message).toContain('betta');
  });

  it('applies per-iteration overrides over the defaults', () => {
    const c = RunConfigSchema.parse({ iteration: { temperature: 0.8, n: 4 }, overrides: [{}, { temperature: 1.3 }] });
    expect(iterationSettings(c, 1).temperature).toBe(0.8);
    expect(iterationSettings(c, 2).temperature).toBe(1.3);
    expect(iterationSettings(c, 2).n).toBe(4);
    expect(iterationSettings(c, 3).temperature).toBe(0.8);
  });

  it('drops truncated samples from pairing by default; an override may keep them as losers', () => {
    const c = RunConfigSchema.parse({ overrides: [{}, { dropTruncated: false }] });
    expect(iterationSettings(c, 1).dropTruncated).toBe(true);
    expect(iterationSettings(c, 2).dropTruncated).toBe(false);
  });
});

describe('IterationOverrideSchema', () => {
  it('covers exactly the iteration fields', async () => {
    const { IterationConfigSchema, IterationOverrideSchema } = await import('./run-config.js');
    expect(Object.keys(IterationOverrideSchema.shape).sort()).toEqual(Object.keys(IterationConfigSchema.shape).sort());
  });
});
