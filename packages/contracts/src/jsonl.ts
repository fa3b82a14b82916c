import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { z } from 'zod';
import { writeFileAtomic } from './atomic.js';
import { InputError, issueToInputError } from './errors.js';

export interface ReadJsonlOptions {
  /**
   * Skip a last line that has no newline and does not parse: what a crash in the middle of an
   * append leaves behind. Resumable stages set this; everything else wants the error.
   */
  tolerateTruncatedTail?: boolean;
  /** Skip blank lines (default true: editors add them). */
  skipBlank?: boolean;
}

export interface JsonlRecord<T> {
  value: T;
  line: number;
}

/**
 * Streams a JSONL file, validating each line with `schema`. A line that is not JSON, or does
 * not match, throws an InputError naming the file, the 1-based line and the field.
 */
export async function* readJsonlLines<S extends z.ZodType>(
  file: string,
  schema: S,
  options: ReadJsonlOptions = {},
): AsyncGenerator<JsonlRecord<z.output<S>>> {
  const skipBlank = options.skipBlank ?? true;
  try {
    await stat(file);
  } catch {
    throw new InputError(file, undefined, undefined, 'file not found');
  }
  const endsWithNewline = options.tolerateTruncatedTail ? await lastByteIsNewline(file) : true;
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let lineNo = 0;
  let pending: { text: string; line: number } | undefined;
  const parse = (text: string, line: number, isLast: boolean): z.output<S> | undefined => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      if (isLast && !endsWithNewline) return undefined;
      throw new InputError(file, line, undefined, `not valid JSON (${(err as Error).message})`);
    }
    const result = schema.safeParse(json);
    if (!result.success) {
      if (isLast && !endsWithNewline) return undefined;
      throw issueToInputError(file, line, result.error);
    }
    return result.data;
  };
  for await (const text of lines) {
    lineNo++;
    if (pending) {
      const value = parse(pending.text, pending.line, false);
      if (value !== undefined) yield { value, line: pending.line };
      pending = undefined;
    }
    if (skipBlank && text.trim() === '') continue;
    pending = { text, line: lineNo };
  }
  if (pending) {
    const value = parse(pending.text, pending.line, true);
    if (value !== undefined) yield { value, line: pending.line };
  }
}

/** Like readJsonlLines, values only. */
export async function* readJsonl<S extends z.ZodType>(
  file: string,
  schema: S,
  options: ReadJsonlOptions = {},
): AsyncGenerator<z.output<S>> {
  for await (const record of readJsonlLines(file, schema, options)) yield record.value;
}

/** Reads a whole JSONL file into an array. */
export async function readJsonlAll<S extends z.ZodType>(file: string, schema: S, options: ReadJsonlOptions = {}): Promise<z.output<S>[]> {
  const out: z.output<S>[] = [];
  for await (const value of readJsonl(file, schema, options)) out.push(value);
  return out;
}

/** Reads and validates one JSON file; errors name the file and the field. */
export async function readJsonFile<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InputError(file, undefined, undefined, 'file not found or unreadable');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(file, undefined, undefined, `not valid JSON (${(err as Error).message})`);
  }
  const result = schema.safeParse(json);
  if (!result.success) throw issueToInputError(file, undefined, result.error);
  return result.data;
}

/** Writes all records as JSONL atomically (temporary file, then rename). */
export async function writeJsonlAtomic(file: string, records: Iterable<unknown>): Promise<void> {
  const parts: string[] = [];
  for (const r of records) parts.push(JSON.stringify(r) + '\n');
  await writeFileAtomic(file, parts.join(''));
}

/**
 * Appends records to a JSONL file, one whole line per write, for stages that resume after a
 * crash. On open it cuts off a partial last line (a crash mid-write) so the file again holds
 * only whole records.
 */
export class JsonlAppender {
  private constructor(
    readonly file: string,
    private readonly handle: Awaited<ReturnType<typeof open>>,
  ) {}

  static async open(file: string): Promise<JsonlAppender> {
    await mkdir(dirname(file), { recursive: true });
    await repairTruncatedTail(file);
    const handle = await open(file, 'a');
    return new JsonlAppender(file, handle);
  }

  async append(record: unknown): Promise<void> {
    await this.handle.write(JSON.stringify(record) + '\n');
  }

  async appendMany(records: Iterable<unknown>): Promise<void> {
    let text = '';
    for (const r of records) text += JSON.stringify(r) + '\n';
    if (text) await this.handle.write(text);
  }

  /** Flushes to disk: call at checkpoints that later stages rely on. */
  async sync(): Promise<void> {
    await this.handle.sync();
  }

  async close(): Promise<void> {
    await this.handle.sync();
    await this.handle.close();
  }
}

async function lastByteIsNewline(file: string): Promise<boolean> {
  const { size } = await stat(file);
  if (size === 0) return true;
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(1);
    await handle.read(buf, 0, 1, size - 1);
    return buf[0] === 0x0a;
  } finally {
    await handle.close();
  }
}

/** Cuts a file back to its last newline. Returns the number of bytes removed. */
export async function repairTruncatedTail(file: string): Promise<number> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    return 0;
  }
  if (size === 0 || (await lastByteIsNewline(file))) return 0;
  const handle = await open(file, 'r');
  try {
    const chunk = 64 * 1024;
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk);
      const buf = Buffer.alloc(end - start);
      await handle.read(buf, 0, buf.length, start);
      const idx = buf.lastIndexOf(0x0a);
      if (idx >= 0) {
        const keep = start + idx + 1;
        await handle.close();
        await truncate(file, keep);
        return size - keep;
      }
      end = start;
    }
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
  await handle.close().catch(() => undefined);
  await truncate(file, 0);
  return size;
}
