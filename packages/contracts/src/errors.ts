import type { z } from 'zod';

/**
 * An error about a place in a file: `file:line: field: problem`. Thrown for every bad input
 * that crosses a file boundary so a user sees where to look, not a stack trace.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly field: string | undefined,
    readonly problem: string,
  ) {
    super(formatLocation(file, line, field, problem));
  }
}

export function formatLocation(file: string, line: number | undefined, field: string | undefined, problem: string): string {
  const where = line === undefined ? file : `${file}:${line}`;
  return field ? `${where}: ${field}: ${problem}` : `${where}: ${problem}`;
}

/** `a.b[2].c` from a zod issue path; `(record)` for the whole value. */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(record)';
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** The first zod issue as an InputError at `file:line`. */
export function issueToInputError(file: string, line: number | undefined, error: z.ZodError): InputError {
  const issue = error.issues[0];
  if (!issue) return new InputError(file, line, undefined, 'invalid record');
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem(s))` : '';
  return new InputError(file, line, fieldPath(issue.path), issue.message + more);
}

/** Bad usage of a command or API (unknown option value, conflicting flags): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
