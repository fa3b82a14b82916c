import { readFile, stat } from 'node:fs/promises';
import { InputError } from '@irpo/contracts';

export async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** A JSON file's value; an unreadable file or bad JSON is an InputError naming the file (`what`: the folder it should be in). */
export async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InputError(file, undefined, undefined, `cannot read the file (is this ${what}?)`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(file, undefined, undefined, `invalid JSON (${(e as Error).message})`);
  }
}
