import { describe, expect, it } from 'vitest';
import { RunConfigSchema } from './run-config.js';
import { ineffectiveSettings, refuseIneffectiveSettings } from './settings-without-effect.js';

/** The fields ineffectiveSettings names for a raw config (parsed as the CLI parses it). */
const flagged = (raw: Record<string, unknown>) => ineffectiveSettings(raw, RunConfigSchema.parse(raw)).map((s) => s.field);

describe('ineffectiveSettings', () => {
  it('names the DPO+NLL knobs given with loss ipo, and the NLL knobs with loss dpo', () => {
    expect(flagged({ training: { loss: 'ipo', alpha: 1, labelSmoothing: 0.1, nllNormalization: 'token-mean', beta: 0.5 } })).toEqual([
      'training.alpha',
      'training.labelSmoothing',
      'training.nllNormalization',
    ]);
    // DPO reads label smoothing (conservative DPO), not alpha.
    expect(flagged({ training: { loss: 'dpo', alpha: 0.5, labelSmoothing: 0.1 } })).toEqual(['training.alpha']);
    expect(flagged({ training: { loss: 'dpo-nll', alpha: 0.5, labelSmoothing: 0.1, nllNormalization: 'token-mean' } })).toEqual([]);
  });

  it('names a data path or template given to arith, arith knobs given to another task, and gold winners for ARC', () => {
    expect(flagged({ task: { name: 'arith', path: 'x', template: 't.txt' } })).toEqual(['task.path', 'task.template']);
    expect(flagged({ task: { name: 'gsm8k', path: 'x', arith: { seed: 1 } } })).toEqual(['task.arith']);
    expect(flagged({ task: { name: 'arc', path: 'x', goldAsWinner: true } })).toEqual(['task.goldAsWinner']);
    expect(flagged({ task: { name: 'arc', path: 'x', goldAsWinner: false } })).toEqual([]);
    expect(flagged({ task: { name: 'gsm8k', path: 'x', goldAsWinner: true } })).toEqual([]);
  });

  it('names the maj@k temperature without maj@k, and the dev settings without a dev split', () => {
    expect(flagged({ eval: { temperature: 1 } })).toEqual(['eval.temperature']);
    expect(flagged({ eval: { temperature: 1, majK: 4 } })).toEqual([]);
    expect(flagged({ task: { devFrom: 'dev' }, training: { evalEvery: 5 }, stop: { devGainBelow: 1 } })).toEqual([
      'task.devFrom',
      'training.evalEvery',
      'stop.devGainBelow',
    ]);
    expect(flagged({ task: { devLimit: 10, devFrom: 'dev' }, training: { evalEvery: 5 }, stop: { devGainBelow: 1 } })).toEqual([]);
  });

  it('names preference-loss settings given to the SFT methods of a comparison, and loss or alpha given to dpo', () => {
    const compare = {
      'sft-gold': { training: { lr: 1e-3, beta: 0.2 } },
      star: { training: { alpha: 0 } },
      dpo: { training: { alpha: 1, lr: 1 } },
    };
    expect(flagged({ compare })).toEqual(['compare.sft-gold.training.beta', 'compare.star.training.alpha', 'compare.dpo.training.alpha']);
  });

  it('does not count defaults: the resolved config re-read has nothing to refuse', () => {
    const resolved = RunConfigSchema.parse({ training: { loss: 'ipo' }, task: { name: 'arc', path: 'x' } });
    expect(ineffectiveSettings({ training: { loss: 'ipo' }, task: { name: 'arc', path: 'x' } }, resolved)).toEqual([]);
  });

  it('refuses with the file, the field and the reason', () => {
    const raw = { training: { loss: 'ipo', alpha: 1 } };
    expect(() => refuseIneffectiveSettings(raw, RunConfigSchema.parse(raw), 'cfg.yaml')).toThrow(
      'cfg.yaml: training.alpha: has no effect here: training.loss ipo has no NLL term and no label smoothing: it reads only beta; remove it',
    );
  });
});
