/**
 * Numbers as GSM8K-style answers state them: "$1,000.", "-3", "18.50", "1 000". Returns the
 * canonical decimal string ("1000", "-3", "18.5") or null when the text holds no plain number.
 */
export function canonicalNumber(text: string): string | null {
  let s = text
    .trim()
    .replace(/^\$\s*/, '')
    .replace(/\s*(?:dollars?|\$)$/i, '');
  s = s.replace(/\.$/, '').trim();
  // Thousands separators: "1,000" or "1 000"; a comma not in groups of three is not a number.
  if (/^-?\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?$/.test(s)) s = s.replace(/[, ]/g, '');
  if (!/^[-+]?(?:\d+\.?\d*|\.\d+)$/.test(s)) return null;
  const n = Number(s);
  if (!Number.isFinite(n)) return null;
  return formatNumber(n);
}

/** Shortest decimal without float noise (0.1+0.2 → "0.3"). */
export function formatNumber(n: number): string {
  if (Object.is(n, -0)) return '0';
  const rounded = Number(n.toPrecision(12));
  return String(rounded);
}

/** The first number in a free-text answer ("18 dollars" → "18", "$1,234.50 total" → "1234.5"). */
export function firstNumber(text: string): string | null {
  const m = /-?\$?\s?(?:\d{1,3}(?:[, ]\d{3})+(?!\d)|\d+)(?:\.\d+)?|-?\.\d+/.exec(text);
  return m ? canonicalNumber(m[0].replace('$', '')) : null;
}

/** The last number in a text (lm-eval's flexible GSM8K extraction, canonicalised). */
export function lastNumber(text: string): string | null {
  const all = text.match(/-?\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+/g);
  if (!all) return null;
  return canonicalNumber(all[all.length - 1].replace('$', ''));
}
