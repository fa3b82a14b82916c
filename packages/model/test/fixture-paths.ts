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

/** A two-layer GQA spec small enough to save and load in milliseconds (vocab 20, hidden 16, tied). */
export const IO_TEST_SPEC = {
  vocabSize: 20,
  hiddenSize: 16,
  intermediateSize: 24,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  maxPositions: 64,
  tieWordEmbeddings: true,
} as const;

/** An independent parse of a safetensors header: 8-byte little-endian length, then JSON. */
export function parseSafetensorsHeader(buf: Buffer): Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> {
  const n = Number(buf.readBigUInt64LE(0));
  return JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
}
