import { InputError } from './errors.js';
import type { RunConfig } from './run-config.js';

/** A setting the user wrote that the resolved run would never read, and why. */
export interface IneffectiveSetting {
  field: string;
  reason: string;
}

/**
 * Settings written in `raw` (the config as the user gave it, before defaults) that do nothing in
 * the run `config` resolves to, and settings the run cannot honour: a user who wrote them would
 * believe they ran something they did not. Presence is judged on `raw`, so defaults never count.
 */
export function ineffectiveSettings(raw: unknown, config: RunConfig): IneffectiveSetting[] {
  const out: IneffectiveSetting[] = [];
  const given = (path: string) => {
    const v = valueAt(raw, path);
    return v !== undefined && v !== null;
  };
  const flag = (path: string, reason: string) => {
    if (given(path)) out.push({ field: path, reason });
  };
  const { loss } = config.training;
  if (loss === 'ipo') {
    for (const f of ['alpha', 'labelSmoothing', 'nllNormalization'])
      flag(`training.${f}`, 'training.loss ipo has no NLL term and no label smoothing: it reads only beta');
  }
  if (loss === 'dpo') {
    flag('training.alpha', 'training.loss dpo has no NLL term (it is DPO+NLL with alpha 0); use loss dpo-nll to weight one');
    flag('training.nllNormalization', 'training.loss dpo has no NLL term to normalise; use loss dpo-nll');
  }
  const task = config.task.name;
  if (task === 'arith') {
    flag('task.path', 'the arith task generates its problems and reads no data file');
    flag('task.template', 'the arith task has its own compact prompt and reads no template file');
  } else {
    flag('task.arith', `task.arith sets the difficulty of the arith task; this run's task is ${task}`);
  }
  if (task === 'arc' && config.task.goldAsWinner)
    flag('task.goldAsWinner', 'ARC-Challenge has no gold solutions, only answer keys: no gold winner can be added');
  if (config.eval.majK === 0) flag('eval.temperature', 'it is the temperature of the maj@k samples and eval.majK is 0 (greedy only)');
  if (config.task.devLimit === null) {
    flag('task.devFrom', 'there is no dev split: set task.devLimit');
    flag('training.evalEvery', 'checkpoints are scored on the dev split and there is none: set task.devLimit');
    if (config.stop.devGainBelow !== null)
      flag('stop.devGainBelow', 'the stop rule reads dev accuracy and there is no dev split: set task.devLimit');
  }
  for (const m of ['sft-gold', 'star', 'sft-chosen']) {
    for (const f of ['loss', 'beta', 'alpha', 'labelSmoothing', 'nllNormalization'])
      flag(`compare.${m}.training.${f}`, `${m} trains with SFT (token-mean NLL) and reads no preference-loss setting`);
  }
  flag('compare.dpo.training.loss', 'the dpo method is plain DPO (loss dpo, alpha 0) by definition');
  flag('compare.dpo.training.alpha', 'the dpo method is plain DPO (loss dpo, alpha 0) by definition');
  return out;
}

/** Throws an InputError naming the first ineffective setting of `raw` (see ineffectiveSettings). */
export function refuseIneffectiveSettings(raw: unknown, config: RunConfig, file: string): void {
  const bad = ineffectiveSettings(raw, config)[0];
  if (bad) throw new InputError(file, undefined, bad.field, `has no effect here: ${bad.reason}; remove it`);
}

function valueAt(raw: unknown, path: string): unknown {
  let node = raw;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
