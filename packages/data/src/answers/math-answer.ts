import { lastBoxed, unbox } from './boxed.js';
import { finalAnswerLine } from './final-answer-line.js';

/**
 * A MATH completion's answer: the "Final answer:" line (paper; Minerva's "The final answer is
 * $X$. I hope it is correct." too), else the last `\boxed{}`/`\fbox{}`; null when neither.
 */
export function extractMathAnswer(completion: string): string | null {
  const line = finalAnswerLine(completion);
  if (line !== null) {
    const boxed = lastBoxed(line);
    if (boxed !== null) return boxed;
    const minerva = /final answer is\s*\$?(.*?)\$?\.?\s*(?:I hope it is correct\.?)?$/i.exec(line);
    let text = minerva ? minerva[1] : line;
    text = text.trim().replace(/\.$/, '');
    const dollars = /^\$+(.*?)\$+$/.exec(text);
    if (dollars) text = dollars[1];
    return unbox(text.trim());
  }
  return lastBoxed(completion);
}
