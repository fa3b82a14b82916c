import { initBackend } from '@irpo/core';
import { ARITH_CHARSET } from '@irpo/data';
import { CharTokenizer, saveRandomModel } from '@irpo/model';

/** A random tiny character-level model folder, for commands that need a model. */
export async function tinyModel(dir: string, seed = 1): Promise<string> {
  await initBackend('cpu');
  return saveRandomModel(dir, new CharTokenizer(ARITH_CHARSET), { eosTokenId: 2 }, { seed });
}
