/**
 * The text after the first "Final answer:" (any case, optional markdown bold) up to the end of
 * its line, as the paper's prompts ask the model to write it; null when there is none. The
 * first occurrence wins: text after the answer line is run-on generation, not a revision.
 */
export function finalAnswerLine(completion: string): string | null {
  const m = /(?:\*\*)?final answer(?:\*\*)?\s*(?:is)?\s*[:：](?:\*\*)?[ \t]*([^\n]*)/i.exec(completion);
  if (!m) return null;
  const text = m[1].replace(/\*\*/g, '').trim();
  return text === '' ? null : text;
}
