import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { InputError, issueToInputError, readJsonlLines } from '@irpo/contracts';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { z } from 'zod';

/** One raw record and where it came from: a JSONL line, a JSON array index or a Parquet row (1-based). */
export interface RawRecord {
  value: unknown;
  line: number;
}

/**
 * Streams the records of a JSONL, JSON (array, or `{"data": [...]}`, or one object) or Parquet
 * file: the original dataset files and the Hugging Face exports alike. Bad JSON fails with
 * `file:line`.
 */
export async function* readRecords(file: string): AsyncGenerator<RawRecord> {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') {
    for await (const r of readJsonlLines(file, z.unknown())) yield { value: r.value, line: r.line };
    return;
  }
  if (ext === '.json') {
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
      // A file of one JSON object per line is JSONL whatever its name (HF's to_json default).
      if (text.trimStart().startsWith('{') && text.includes('\n')) {
        for await (const r of readJsonlLines(file, z.unknown())) yield { value: r.value, line: r.line };
        return;
      }
      throw new InputError(file, undefined, undefined, `not valid JSON (${(err as Error).message})`);
    }
    const rows = Array.isArray(json)
      ? json
      : json && typeof json === 'object' && Array.isArray((json as { data?: unknown }).data)
        ? (json as { data: unknown[] }).data
        : [json];
    for (let i = 0; i < rows.length; i++) yield { value: rows[i], line: i + 1 };
    return;
  }
  if (ext === '.parquet') {
    let rows: Record<string, unknown>[];
    try {
      const buffer = await asyncBufferFromFile(file);
      rows = await parquetReadObjects({ file: buffer });
    } catch (err) {
      throw new InputError(file, undefined, undefined, `cannot read Parquet (${(err as Error).message})`);
    }
    for (let i = 0; i < rows.length; i++) yield { value: rows[i], line: i + 1 };
    return;
  }
  throw new InputError(file, undefined, undefined, `unknown data file type "${ext}" (expected .jsonl, .json or .parquet)`);
}

/** Validates one record; failures name `file:line: field`. */
export function parseRecord<S extends z.ZodType>(file: string, record: RawRecord, schema: S): z.output<S> {
  const result = schema.safeParse(record.value);
  if (!result.success) throw issueToInputError(file, record.line, result.error);
  return result.data;
}
