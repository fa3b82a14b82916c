import { finalAnswerLine } from './final-answer-line.js';
import { answerValue, canonicalNumber } from './numeric-answer.js';

/**
 * How a GSM8K completion's answer is read:
 * - `final` (default, the paper's): the value of the "Final answer:" line (its last number, see
 *   `answerValue`), else the number after the first `####`; nothing else (a completion that never
 *   states its answer is not scored by guessing);
 * - `strict`: lm-eval's `#### (\-?[0-9\.\,]+)`, first match;
 * - `flexible`: lm-eval's last match of `(-?[$0-9.,]{2,})|(-?[0-9]+)` over the whole completion.
 *   As in lm-eval, the last match is the answer even when it is no number ("..." at the end):
 *   then the answer is null, where lm-eval compares the cleaned text and scores it wrong alike.
 * Unlike lm-eval's exact string match, answers compare as numbers (`18.00` = `18`).
 */
export type Gsm8kExtraction = 'final' | 'strict' | 'flexible';

/** Drops commas, `$` and a trailing period, then reads what is left as a number. */
function cleanNumber(text: string): string | null {
  const s = text.replace(/,/g, '').replace(/\$/g, '').replace(/\.$/, '').trim();
  return canonicalNumber(s);
}

/**
 * lm-eval's clean-up before its exact match (drop every `,` and `$`, then one final `.`); what is
 * left must be a plain number, else the answer is null (lm-eval would compare "42." or "..."
 * with the gold and fail).
 */
function lmEvalNumber(text: string): string | null {
  const s = text.trim().replace(/[,$]/g, '').replace(/\.$/, '');
  return /^-?(?:\d+(?:\.\d+)?|\.\d+)$/.test(s) ? canonicalNumber(s) : null;
}

/** The gold final answer of a GSM8K `answer` field: what follows the last `#### `. */
export function gsm8kGoldAnswer(answerField: string): string | null {
  const at = answerField.lastIndexOf('####');
  if (at < 0) return null;
  return cleanNumber(answerField.slice(at + 4).trim());
}

export function extractGsm8kAnswer(completion: string, mode: Gsm8kExtraction = 'final'): string | null {
  if (mode === 'strict') {
    const m = /#### (-?[0-9.,]+)/.exec(completion);
    return m ? lmEvalNumber(m[1]) : null;
  }
  if (mode === 'flexible') {
    const all = completion.match(/(-?[$0-9.,]{2,})|(-?[0-9]+)/g);
    return all ? lmEvalNumber(all[all.length - 1]) : null;
  }
  const line = finalAnswerLine(completion);
  if (line !== null) return answerValue(line);
  const hash = /####\s*(-?[$0-9.,]+)/.exec(completion);
  return hash ? cleanNumber(hash[1]) : null;
}

/** Numeric equality of two GSM8K answers ("1,000" = "1000" = "1000.00"), each read by `answerValue`. */
export function gsm8kEquiv(answer: string | null, gold: string): boolean {
  if (answer === null) return false;
  const a = answerValue(answer);
  const b = answerValue(gold);
  if (a === null || b === null) return false;
  return Math.abs(Number(a) - Number(b)) <= 1e-9 * Math.max(1, Math.abs(Number(b)));
}
