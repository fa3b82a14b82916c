/**
 * The content of the last `\boxed{...}` or `\fbox{...}` in a text, braces matched (so
 * `\boxed{\frac{1}{2}}` gives `\frac{1}{2}`); also the brace-less `\boxed 5` form. Null when
 * there is none or its braces never close.
 */
export function lastBoxed(text: string): string | null {
  const at = Math.max(text.lastIndexOf('\\boxed'), text.lastIndexOf('\\fbox'));
  if (at < 0) return null;
  let i = at + (text.startsWith('\\boxed', at) ? 6 : 5);
  if (text[i] === ' ') {
    // "\boxed 5$": the answer runs to the next "$" or end of line.
    const rest = text.slice(i + 1);
    const m = /^[^$\n]*/.exec(rest);
    const content = m ? m[0].trim() : '';
    return content === '' ? null : content;
  }
  while (text[i] === ' ') i++;
  if (text[i] !== '{') return null;
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const ch = text[j];
    if (ch === '\\') {
      j++; // an escaped brace \{ does not open or close
      continue;
    }
    if (ch === '{') depth++;
    else if (ch === '}') {
      depth--;
      if (depth === 0) return text.slice(i + 1, j);
    }
  }
  return null;
}

/** Removes one `\boxed{}` / `\fbox{}` wrapper if the whole text is one. */
export function unbox(text: string): string {
  const t = text.trim();
  if (!/^\\(?:boxed|fbox)\s*\{/.test(t)) return t;
  const inner = lastBoxed(t);
  return inner !== null && t.endsWith('}') ? inner : t;
}
