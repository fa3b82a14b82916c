import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineConfigSchema, InputError, RunConfigSchema } from '@irpo/contracts';
import { describe, expect, it } from 'vitest';
import { PLAIN_PROMPT, type PromptFormat } from '@irpo/model';
import { httpPromptPlan } from '../src/prompt-format.js';
import { staticEndpointPlan } from '../src/stage-engine.js';
import { findConfigReads } from './config-reads.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

describe('engine config', () => {
  it('kind http needs exactly one of launch and endpoints, and names the field', () => {
    const err = (e: unknown) => {
      const r = EngineConfigSchema.safeParse(e);
      expect(r.success).toBe(false);
      return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    };
    expect(err({ kind: 'http' })).toMatch(/^launch: .*engine\.launch.*engine\.endpoints/);
    expect(err({ kind: 'http', launch: 'x {port}', endpoints: ['http://127.0.0.1:1/v1'] })).toMatch(/^endpoints: .*not both/);
    expect(err({ kind: 'local', launch: 'x {port}' })).toMatch(/^launch: engine\.launch needs engine\.kind: http/);
    expect(err({ kind: 'http', launch: 'x {port}', reload: 'y' })).toMatch(/^reload: /);
    expect(err({ kind: 'http', endpoint: 'http://127.0.0.1:1/v1' })).toMatch(/endpoint/); // the old single field is gone
    const ok = EngineConfigSchema.parse({ kind: 'http', endpoints: ['http://127.0.0.1:1/v1'] });
    expect(ok).toMatchObject({ startupTimeoutS: 600 });
    expect(ok.api).toBeUndefined(); // decided by the prompt format (httpPromptPlan)
  });

  it('engine.api follows the prompt format unless set; a rendered chat prompt goes to /v1/completions', () => {
    const chat: PromptFormat = { kind: 'chat', reason: 'test', addSpecialTokens: false, render: (p) => `<u>${p}</u><a>` };
    const http = (api?: 'chat' | 'completions') =>
      RunConfigSchema.parse({ engine: { kind: 'http', endpoints: ['http://127.0.0.1:1/v1'], ...(api ? { api } : {}) } });
    expect(httpPromptPlan(http(), chat)).toEqual({ api: 'chat' });
    expect(httpPromptPlan(http(), PLAIN_PROMPT)).toEqual({ api: 'completions', promptFormat: PLAIN_PROMPT });
    const explicit = httpPromptPlan(http('completions'), chat);
    expect(explicit.api).toBe('completions');
    expect(explicit.promptFormat!.render('Q')).toBe('<u>Q</u><a>');
    expect(httpPromptPlan(http('chat'), chat)).toEqual({ api: 'chat' });
    // the server's template on prompts that training reads plain: refused, naming the field
    let thrown: unknown;
    try {
      httpPromptPlan(http('chat'), PLAIN_PROMPT);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as InputError).field).toBe('engine.api');
  });

  it('static endpoints serve M0 only, unless engine.reload says how to serve M(t-1)', () => {
    const config = RunConfigSchema.parse({
      model: '/m0',
      engine: { kind: 'http', endpoints: ['http://127.0.0.1:9001/v1', 'http://127.0.0.1:9002/v1'] },
    });
    expect(staticEndpointPlan(config, '/m0', 1, '/m0')).toEqual({ reload: false });
    expect(staticEndpointPlan(config, '/m0', 0, '/m0/')).toEqual({ reload: false });
    let thrown: unknown;
    try {
      staticEndpointPlan(config, '/m0', 2, '/run/iter-1/model');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as InputError).field).toBe('engine.reload');
    expect(String((thrown as Error).message)).toMatch(
      /iteration 2 needs \/run\/iter-1\/model served.*engine\.reload.*\{model\}.*\{endpoint\}/s,
    );

    const reloading = RunConfigSchema.parse({ ...config, engine: { ...config.engine, reload: 'load {endpoint} {model}' } });
    expect(staticEndpointPlan(reloading, '/m0', 2, '/run/iter-1/model')).toEqual({
      reload: true,
      commands: ['load http://127.0.0.1:9001/v1 /run/iter-1/model', 'load http://127.0.0.1:9002/v1 /run/iter-1/model'],
    });
    // once reloaded, the same model needs no second reload
    expect(staticEndpointPlan(reloading, '/m0', 2, '/run/iter-1/model', '/run/iter-1/model')).toEqual({ reload: false });
  });
});

/** A zod schema as far as walking it needs: wrappers keep the wrapped schema in _def.innerType, objects have a shape. */
interface Walkable {
  _def: { innerType?: Walkable; schema?: Walkable };
  shape?: Record<string, Walkable>;
}

/** Paths of the leaf fields of a zod object schema, through defaults, optionals, refinements and nested objects. */
function leaves(schema: Walkable, path: string[] = []): string[] {
  let s = schema;
  while (s._def.innerType ?? s._def.schema) s = (s._def.innerType ?? s._def.schema)!;
  if (s.shape) return Object.entries(s.shape).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [path.join('.')];
}

/** Fields no code needs to read, with why. */
const NOT_READ: Record<string, string> = {
  v: 'the schema version: a literal the parser checks',
};

describe('RunConfigSchema fields', () => {
  it('every leaf field is read by some source file (none is accepted and ignored), found by the type checker through its path', () => {
    const roots = [...readdirSync(join(repo, 'packages')).map((p) => join(repo, 'packages', p, 'src')), join(repo, 'apps', 'cli', 'src')];
    const { leaves: reads, files } = findConfigReads(repo, roots);
    expect(files).toBeGreaterThan(150);
    // The type's leaves are the schema's: the same paths from zod's runtime shape and from z.output.
    const paths = leaves(RunConfigSchema as unknown as Walkable);
    expect(paths.length).toBeGreaterThan(60);
    expect([...reads.keys()].sort()).toEqual([...paths].sort());
    // Reads are found where the code reads the field, under whatever name the value has there.
    expect(reads.get('training.lr')!.some((at) => at.startsWith('packages/trainer/src/schedule.ts:'))).toBe(true);
    expect(reads.get('task.arith.seed')!.every((at) => at.startsWith('packages/data/src/arith/'))).toBe(true);
    const unread = paths.filter((p) => !(p in NOT_READ) && reads.get(p)!.length === 0);
    expect(unread).toEqual([]);
  }, 300_000); // builds a TypeScript program of every package's sources
});
