import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** packages/model/test/fixtures/<name>. */
export const fixtureDir = (name: string): string => join(here, 'fixtures', name);
/** `<repo root>/../shared`: real data and tokenizer files (CI clones them beside the repo). */
export const sharedDir = join(here, '..', '..', '..', '..', 'shared');
/** Whether the shared tokenizers and data are there; tests of them skip, saying why, when not. */
export const hasShared = existsSync(join(sharedDir, 'tokenizers')) && existsSync(join(sharedDir, 'data'));
/** The reason printed by tests skipped without them. */
export const NO_SHARED = '(skipped: ../shared tokenizers and data are not beside the repository)';
