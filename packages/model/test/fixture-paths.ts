import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** packages/model/test/fixtures/<name>. */
export const fixtureDir = (name: string): string => join(here, 'fixtures', name);
/** `<repo root>/../shared`: real data and tokenizer files (CI clones them beside the repo). */
export const sharedDir = join(here, '..', '..', '..', '..', 'shared');
