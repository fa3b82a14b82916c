import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, type PromptConfig } from '@irpo/contracts';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, loadLoraAdapter, loadTokenizer, promptFormat } from '@irpo/model';
import type { ModelSlot } from '../model-slot.js';
import { checkCheckpoint } from './check-checkpoint.js';

/** A trainer's result: a full checkpoint, or a PEFT LoRA adapter to merge onto M(t-1). */
export interface TrainerOutput {
  dir: string;
  kind: 'full' | 'adapter';
}

/**
 * Where a launched trainer left its model: `out` itself when it holds config.json or
 * adapter_config.json, else its newest subfolder that does (TRL's checkpoint-N, torchtune's
 * epoch_N, `irpo train`'s model/): newest by the time that file was written, then by the number
 * the folder's name ends with. Throws InputError when there is none.
 */
export async function findTrainerOutput(out: string): Promise<TrainerOutput> {
  const here = kindOf(out);
  if (here) return { dir: out, kind: here };
  const candidates: { dir: string; kind: 'full' | 'adapter'; mtime: number; n: number }[] = [];
  for (const e of await readdir(out, { withFileTypes: true }).catch(() => [])) {
    if (!e.isDirectory()) continue;
    const dir = join(out, e.name);
    const kind = kindOf(dir);
    if (!kind) continue;
    const marker = join(dir, kind === 'full' ? 'config.json' : ADAPTER_CONFIG_FILE);
    candidates.push({ dir, kind, mtime: (await stat(marker)).mtimeMs, n: Number(/(\d+)$/.exec(e.name)?.[1] ?? -1) });
  }
  candidates.sort((a, b) => b.mtime - a.mtime || b.n - a.n);
  const best = candidates[0];
  if (!best) {
    throw new InputError(
      out,
      undefined,
      undefined,
      'the trainer exited 0 but left no model here: expected config.json (a full checkpoint) or adapter_config.json (a PEFT adapter) in this folder or one of its subfolders; does the command write to {out}?',
    );
  }
  return { dir: best.dir, kind: best.kind };
}

/** A PEFT adapter takes precedence only when the folder has no full weights of its own. */
function kindOf(dir: string): 'full' | 'adapter' | undefined {
  const hasWeights = existsSync(join(dir, 'model.safetensors')) || existsSync(join(dir, 'model.safetensors.index.json'));
  if (existsSync(join(dir, 'config.json')) && (hasWeights || !existsSync(join(dir, ADAPTER_CONFIG_FILE)))) return 'full';
  if (existsSync(join(dir, ADAPTER_CONFIG_FILE))) return 'adapter';
  return undefined;
}

/** Files of a model folder besides its weights that irpo and servers read: tokenizer, chat template, generation settings. */
const SIDE_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'tokenizer.model',
  'vocab.json',
  'merges.txt',
  'chat_template.jinja',
  'chat_template.json',
  'generation_config.json',
];

const isWeightFile = (name: string) => name === 'config.json' || name.endsWith('.safetensors') || name === 'model.safetensors.index.json';

export interface AdoptOptions {
  output: TrainerOutput;
  /** M(t-1): the adapter's base, and where missing side files come from. */
  from: string;
  /** iter-t/model: written whole (temporary folder, then rename). */
  modelDir: string;
  /** iter-t/adapter: a copy of an adapter result, as the in-process LoRA stage keeps one. */
  adapterDir: string;
  slot: ModelSlot;
  prompt: PromptConfig;
}

/**
 * Makes a trainer's result M(t) in `modelDir`: a full checkpoint's config and weights are moved
 * (not copied: they may be hundreds of GB) once their headers check out; an adapter is merged onto
 * M(t-1) in memory and saved. Tokenizer files, chat template and generation config the trainer
 * did not write are copied from M(t-1), and the result must resolve to the same prompt format
 * as M(t-1), so evaluation and the next iteration read prompts as before. Returns the files copied
 * from M(t-1).
 */
export async function adoptTrainerOutput(o: AdoptOptions): Promise<{ copied: string[] }> {
  const tmp = `${o.modelDir}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  if (o.output.kind === 'full') {
    await checkCheckpoint(o.output.dir);
    await mkdir(tmp, { recursive: true });
    for (const name of await readdir(o.output.dir)) {
      if (isWeightFile(name)) await rename(join(o.output.dir, name), join(tmp, name));
      else if (SIDE_FILES.includes(name)) await copyFile(join(o.output.dir, name), join(tmp, name));
    }
  } else {
    await mergeAdapter(o, tmp);
  }
  const copied: string[] = [];
  for (const name of SIDE_FILES) {
    if (!existsSync(join(tmp, name)) && existsSync(join(o.from, name))) {
      await copyFile(join(o.from, name), join(tmp, name));
      copied.push(name);
    }
  }
  // A tokenizer_config.json of the trainer's own may lack the chat template M(t-1) kept inline.
  const before = await loadTokenizer(o.from);
  const after = await loadTokenizer(tmp);
  if (before.chatTemplate && !after.chatTemplate) {
    await writeFile(join(tmp, 'chat_template.jinja'), before.chatTemplate);
    copied.push('chat_template.jinja');
  }
  const spec = await checkCheckpoint(tmp);
  const tokenizer = await loadTokenizer(tmp);
  if (tokenizer.vocabSize > spec.vocabSize)
    throw new InputError(
      join(tmp, 'tokenizer.json'),
      undefined,
      undefined,
      `has ${tokenizer.vocabSize} tokens but config.json vocab_size is ${spec.vocabSize}`,
    );
  const was = promptFormat(before, o.prompt.format).kind;
  const is = promptFormat(tokenizer, o.prompt.format).kind;
  if (was !== is)
    throw new InputError(
      o.output.dir,
      undefined,
      undefined,
      `prompts would read as ${is} here but as ${was} under M(t-1) (${o.from}): the trainer changed the chat template`,
    );
  await rm(o.modelDir, { recursive: true, force: true });
  await rename(tmp, o.modelDir);
  if (o.slot.current?.dir === tmp) o.slot.current.dir = o.modelDir; // the merged adapter's M(t), now in place
  return { copied };
}

/** M(t-1) with the adapter merged, saved into `tmp`; the adapter is also kept in adapterDir. */
async function mergeAdapter(o: AdoptOptions, tmp: string): Promise<void> {
  const dir = o.output.dir;
  if (!existsSync(join(dir, ADAPTER_WEIGHTS_FILE)) && existsSync(join(dir, 'adapter_model.bin'))) {
    throw new InputError(
      join(dir, 'adapter_model.bin'),
      undefined,
      undefined,
      'a torch pickle, which irpo does not read (it would need Python): have the trainer save adapter_model.safetensors ' +
        '(PEFT: save_pretrained(dir, safe_serialization=True); with OpenRLHF under ZeRO-3, load the adapter in Python and save it so)',
    );
  }
  const m = await o.slot.ensure(o.from);
  try {
    await loadLoraAdapter(dir, m.model);
  } catch (e) {
    if (m.model.loraConfig) m.model.detachLora();
    throw e;
  }
  m.model.mergeLora();
  o.slot.current = { ...m, dir: `${o.from} + ${dir}` }; // no longer M(t-1): a later ensure(from) reloads it
  const adapterTmp = `${o.adapterDir}.tmp`;
  await rm(adapterTmp, { recursive: true, force: true });
  await mkdir(adapterTmp, { recursive: true });
  for (const f of [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE]) await copyFile(join(dir, f), join(adapterTmp, f));
  await rm(o.adapterDir, { recursive: true, force: true });
  await rename(adapterTmp, o.adapterDir);
  await o.slot.save(tmp); // with M(t-1)'s tokenizer files
}
