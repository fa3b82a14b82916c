import { mkdtemp, readFile, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from './errors.js';
import { JsonlAppender, readJsonlAll, readJsonFile, repairTruncatedTail, writeJsonlAtomic } from './jsonl.js';
import { SampleSchema } from './records.js';

const sample = (i: number) => ({
  problemId: `p${i}`,
  index: 0,
  prompt: 'Q',
  completion: 'A',
  answer: '1',
  correct: true,
  tokens: 3,
  finishReason: 'stop',
});

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'irpo-contracts-'));
}

describe('readJsonl', () => {
  it('names the file, line 3 and the missing field', async () => {
    const dir = await tmp();
    const file = join(dir, 'samples.jsonl');
    const bad = { ...sample(3) } as Record<string, unknown>;
    delete bad.completion;
    await writeFile(file, [sample(1), sample(2), bad].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const err = await readJsonlAll(file, SampleSchema).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const e = err as InputError;
    expect(e.file).toBe(file);
    expect(e.line).toBe(3);
    expect(e.field).toBe('completion');
    expect(e.message.startsWith(`${file}:3: completion: `)).toBe(true);
  });

  it('names the line of malformed JSON', async () => {
    const dir = await tmp();
    const file = join(dir, 'x.jsonl');
    await writeFile(file, JSON.stringify(sample(1)) + '\n{"problemId": \n');
    await expect(readJsonlAll(file, SampleSchema)).rejects.toThrow(`${file}:2: not valid JSON`);
  });

  it('names nested fields and wrong types', async () => {
    const dir = await tmp();
    const file = join(dir, 'x.jsonl');
    await writeFile(file, JSON.stringify({ ...sample(1), tokens: 'three' }) + '\n');
    await expect(readJsonlAll(file, SampleSchema)).rejects.toThrow(`${file}:1: tokens: `);
  });

  it('counts blank lines in line numbers but skips them', async () => {
    const dir = await tmp();
    const file = join(dir, 'x.jsonl');
    await writeFile(file, JSON.stringify(sample(1)) + '\n\n' + JSON.stringify({ ...sample(2), index: -1 }) + '\n');
    await expect(readJsonlAll(file, SampleSchema)).rejects.toThrow(`${file}:3: index: `);
  });

  it('reports a missing file by name', async () => {
    await expect(readJsonlAll('/nonexistent/file.jsonl', SampleSchema)).rejects.toThrow('/nonexistent/file.jsonl: file not found');
  });

  it('fills the schema version of records from other tools', async () => {
    const dir = await tmp();
    const file = join(dir, 'x.jsonl');
    await writeFile(file, JSON.stringify(sample(1)) + '\n');
    const [first] = await readJsonlAll(file, SampleSchema);
    expect(first?.v).toBe(1);
  });

  it('skips a truncated last line only when asked', async () => {
    const dir = await tmp();
    const file = join(dir, 'x.jsonl');
    await writeFile(file, JSON.stringify(sample(1)) + '\n' + JSON.stringify(sample(2)).slice(0, 20));
    await expect(readJsonlAll(file, SampleSchema)).rejects.toThrow(`${file}:2:`);
    const rows = await readJsonlAll(file, SampleSchema, { tolerateTruncatedTail: true });
    expect(rows.map((r) => r.problemId)).toEqual(['p1']);
  });
});

describe('writers', () => {
  it('writes atomically and leaves no temporary file', async () => {
    const dir = await tmp();
    const file = join(dir, 'out', 'pairs.jsonl');
    await writeJsonlAtomic(file, [sample(1), sample(2)]);
    expect(await readFile(file, 'utf8')).toBe(JSON.stringify(sample(1)) + '\n' + JSON.stringify(sample(2)) + '\n');
    expect(await readdir(join(dir, 'out'))).toEqual(['pairs.jsonl']);
  });

  it('appender repairs a half-written last line before appending', async () => {
    const dir = await tmp();
    const file = join(dir, 's.jsonl');
    const whole = JSON.stringify(sample(1)) + '\n';
    await writeFile(file, whole + '{"problemId":"p2","ind');
    const app = await JsonlAppender.open(file);
    await app.append(sample(3));
    await app.close();
    expect(await readFile(file, 'utf8')).toBe(whole + JSON.stringify(sample(3)) + '\n');
  });

  it('repairTruncatedTail removes exactly the partial bytes', async () => {
    const dir = await tmp();
    const file = join(dir, 's.jsonl');
    await writeFile(file, 'abc\nde');
    expect(await repairTruncatedTail(file)).toBe(2);
    expect(await readFile(file, 'utf8')).toBe('abc\n');
    expect(await repairTruncatedTail(file)).toBe(0);
  });

  it('readJsonFile names the field at fault', async () => {
    const dir = await tmp();
    const file = join(dir, 'r.json');
    await writeFile(file, JSON.stringify({ pairId: 'a', chosen: 1, rejected: 'x', chosenTokens: 1, rejectedTokens: 1 }));
    const { RefLogpsSchema } = await import('./records.js');
    await expect(readJsonFile(file, RefLogpsSchema)).rejects.toThrow(`${file}: rejected: `);
  });
});
