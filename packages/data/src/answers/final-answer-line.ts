/**
 * The text after the first "Final answer:" (any case, optional markdown bold; also "final
 * answer is" before math or a number: `$7$`, `\boxed{7}`, `-7`, `(B)`, not "is positive") up
 * to the end of its line, as the paper's prompts ask the model to write it.
 * When nothing follows on that line, as under a heading (`### Final Answer`, `**Final
 * Answer:**`), the answer is the next paragraph: the following non-empty lines up to a blank
 * one, joined by spaces (`\[`, `\boxed{42}`, `\]` → `\[ \boxed{42} \]`). Null when there is no
 * such line or nothing follows it. The first occurrence wins: text after the answer line is
 * run-on generation, not a revision.
 */
export function finalAnswerLine(completion: string): string | null {
  const m =
    /(?:\*\*)?final answer(?:\*\*)?(?:\s*(?:is)?\s*[:：]|[ \t]+is[ \t]+(?=\*\*|[$\\\d(.\-−])|(?=[ \t]*(?:\n|$)))(?:\*\*)?[ \t]*([^\n]*)/i.exec(
      completion,
    );
  if (!m) return null;
  const text = clean(m[1]);
  if (text !== '') return text;
  const after = completion.slice(m.index + m[0].length).split('\n');
  const block: string[] = [];
  for (const line of after) {
    const t = clean(line);
    if (t === '') {
      if (block.length > 0) break;
      continue;
    }
    block.push(t);
  }
  return block.length > 0 ? block.join(' ') : null;
}

function clean(line: string): string {
  return line.replace(/\*\*/g, '').trim();
}
