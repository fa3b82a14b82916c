import { lastBoxed } from './boxed.js';
import { finalAnswerLine } from './final-answer-line.js';

export interface ArcChoice {
  label: string;
  text: string;
}

/** Display letter of the i-th option: prompts always show (A), (B), ... whatever the source labels. */
export const ARC_LETTERS = 'ABCDEFGH';

/**
 * The answer a completion gives: the "Final answer:" line, else the text after "answer is" or a
 * line-leading "Answer:", else the last `\boxed{}`; returns a bare letter when the text names
 * one ("(B) ...", "B.", "b", "\boxed{B}", "The correct answer is B"), else the text as written.
 */
export function extractArcAnswer(completion: string): string | null {
  let text = finalAnswerLine(completion);
  if (text === null) {
    const m = /answer is[:\s]*([^\n]+)/i.exec(completion) ?? /^[ \t#*]*answer(?:\*\*)?\s*[:：](?:\*\*)?[ \t]*([^\n]+)/im.exec(completion);
    text = m ? m[1].trim() : lastBoxed(completion);
  }
  if (text === null) return null;
  return normalizeArcAnswer(text);
}

/**
 * "(b)" / "B." / "B) text" / "\boxed{B}" / "$(B)$" / "The answer is B" → "B"; "3" → "3"; other
 * text trimmed, without a final period.
 */
export function normalizeArcAnswer(answer: string): string {
  let t = answer.trim().replace(/^\*+|\*+$/g, '');
  const boxed = lastBoxed(t);
  if (boxed !== null) t = boxed;
  t = t
    .replace(/\\text\s*\{([^{}]*)\}/g, '$1')
    .replace(/^\$+|\$+(?=\.?$)/g, '')
    .replace(/^(?:the\s+)?(?:(?:correct|right|best)\s+)?(?:answer|option|choice)\s+is\s*:?\s*/i, '')
    .trim();
  const m = /^(?:option\s+)?\(?([A-Ha-h1-8])\)?(?:$|[.):]\s*|\s+-\s+|\s+(?=\S))/i.exec(t);
  if (m && (/^\(/.test(t) || /^[A-Ha-h1-8](?:$|[.):])/.test(t) || /^option\s/i.test(t))) return m[1].toUpperCase();
  return t.replace(/\.$/, '').trim();
}

function simplify(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/**
 * The source label an answer names, or null: a display letter (A = first option), a source
 * label as written (`"3"` on 1–4 labelled items), or an option's text.
 */
export function resolveArcLabel(answer: string | null, choices: readonly ArcChoice[]): string | null {
  if (answer === null) return null;
  const a = normalizeArcAnswer(answer);
  if (/^[A-H]$/.test(a)) {
    const idx = ARC_LETTERS.indexOf(a);
    return idx < choices.length ? choices[idx].label : null;
  }
  if (/^[1-8]$/.test(a)) {
    const hit = choices.find((c) => c.label === a);
    return hit ? hit.label : null;
  }
  const want = simplify(a);
  if (want === '') return null;
  const hits = choices.filter((c) => simplify(c.text) === want);
  return hits.length === 1 ? hits[0].label : null;
}
