import { finalAnswerLine } from './final-answer-line.js';
import { canonicalNumber, firstNumber } from './numeric-answer.js';

/**
 * How a GSM8K completion's answer is read:
 * - `final` (default, the paper's): the "Final answer:" line, else a `#### ` line;
 * - `strict`: lm-eval's `#### (\-?[0-9\.\,]+)`, first match;
 * - `flexible`: lm-eval's last number, `(-?[$0-9.,]{2,})|(-?[0-9]+)`.
 */
export type Gsm8kExtraction = 'final' | 'strict' | 'flexible';

/** lm-eval's answer clean-up: drop commas and `$`, and a trailing period. */
function cleanNumber(text: string): string | null {
  const s = text.replace(/,/g, '').replace(/\$/g, '').replace(/\.$/, '').trim();
  return canonicalNumber(s);
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
    return m ? cleanNumber(m[1]) : null;
  }
  if (mode === 'flexible') {
    const all = [...completion.matchAll(/(-?[$0-9.,]{2,})|(-?[0-9]+)/g)];
    for (let i = all.length - 1; i >= 0; i--) {
      const n = cleanNumber(all[i][0]);
      if (n !== null) return n;
    }
    return null;
  }
  const line = finalAnswerLine(completion);
  if (line !== null) return firstNumber(line);
  const hash = /####\s*(-?[$0-9.,]+)/.exec(completion);
  return hash ? cleanNumber(hash[1]) : null;
}

/** Numeric equality of two GSM8K answers ("1,000" = "1000" = "1000.00"). */
export function gsm8kEquiv(answer: string | null, gold: string): boolean {
  if (answer === null) return false;
  const a = firstNumber(answer);
  const b = firstNumber(gold);
  if (a === null || b === null) return false;
  return Math.abs(Number(a) - Number(b)) <= 1e-9 * Math.max(1, Math.abs(Number(b)));
}
