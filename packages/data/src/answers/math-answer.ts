import { lastBoxed, unbox } from './boxed.js';
import { finalAnswerLine } from './final-answer-line.js';

/**
 * A MATH completion's answer: the "Final answer:" line (paper; Minerva's "The final answer is
 * $X$. I hope it is correct." too), else the last `\boxed{}`/`\fbox{}`; null when neither. From
 * the line: the last box on it if any, else its text without the Minerva phrases, a closing
 * full stop and math delimiters (`$…$`, `$$…$$`, `\(…\)`, `\[…\]`).
 */
export function extractMathAnswer(completion: string): string | null {
  const line = finalAnswerLine(completion);
  if (line !== null) {
    const boxed = lastBoxed(line);
    if (boxed !== null) return boxed;
    let text = line
      .replace(/^(?:the\s+)?final answer is[:\s]*/i, '')
      .replace(/\s*I hope it is correct\.?\s*$/i, '')
      .trim()
      .replace(/\.$/, '')
      .trim();
    for (const [open, close] of DELIMITERS) {
      if (!text.startsWith(open) || !text.endsWith(close) || text.length < open.length + close.length) continue;
      const inner = text.slice(open.length, text.length - close.length);
      // "$a$ and $b$" is two pieces of math, not one wrapped answer ("\$" is a dollar sign).
      if (!inner.replace(/\\\$/g, '').includes(close)) text = inner.trim();
      break;
    }
    return unbox(text.replace(/\.$/, '').trim());
  }
  return lastBoxed(completion);
}

const DELIMITERS: ReadonlyArray<[string, string]> = [
  ['$$', '$$'],
  ['$', '$'],
  ['\\(', '\\)'],
  ['\\[', '\\]'],
];
