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

/**
 * One number as an answer line writes it: an optional sign (`-`, `−`) written against it, an
 * optional currency symbol before or after the sign, then digits with thousands separators
 * (`1,234`, `1 234`) or plain, an optional decimal part, or an integer fraction (`3/4`). The
 * lookbehind keeps digits glued to a name or an exponent (`m2`, `x^2`, `CO2`) and a minus after
 * a digit (`12-7`) out.
 */
const VALUE_TOKEN =
  /(?<![\w.^_])([-−])?(?:[$€£]\s?)?([-−])?(?:(\d+)\/(\d+)(?!\d|[.,]\d|\/)|((?:\d{1,3}(?:,\d{3})+|\d{1,3}(?: \d{3})+|\d+)(?:\.\d+)?|\.\d+)(?!\d))/g;

/** Canonical value of one VALUE_TOKEN match, or null (a zero denominator). */
function tokenValue(m: RegExpMatchArray): string | null {
  const negative = Boolean(m[1]) !== Boolean(m[2]);
  if (m[3] !== undefined) {
    const den = Number(m[4]);
    if (den === 0) return null;
    return formatNumber((negative ? -1 : 1) * (Number(m[3]) / den));
  }
  const digits = m[5].replace(/[, ]/g, '');
  return canonicalNumber((negative ? '-' : '') + digits);
}

/**
 * The value an answer line states: its last number, so an equation gives its result
 * (`12 * 3 = 36` → "36", `5 + 3 = 8 apples.` → "8"). Commas, currency symbols ($, €, £),
 * percent signs, units and a closing full stop are not part of it (`$1,234.50` → "1234.5",
 * `25%` → "25", `-5` → "-5", `7.` → "7"). Numbers in parentheses count only when nothing
 * outside them is a number (`36 (12 boxes of 3)` → "36"). Null when the text has no number.
 */
export function answerValue(text: string): string | null {
  // LaTeX spellings: \frac{3}{4} → 3/4, 1{,}000 and 1\,000 → 1,000 and 1000; \( \) \[ \] go.
  text = text
    .replace(/\\[()[\]]/g, ' ')
    .replace(/\\[dt]?frac\s*\{\s*(\d+)\s*\}\s*\{\s*(\d+)\s*\}/g, '$1/$2')
    .replace(/(\d)\{,\}(\d)/g, '$1,$2')
    .replace(/(\d)\\[,!](\d)/g, '$1$2');
  const outside = text.replace(/\([^()]*\)/g, ' ');
  for (const t of outside === text ? [text] : [outside, text]) {
    const all = [...t.matchAll(VALUE_TOKEN)];
    for (let i = all.length - 1; i >= 0; i--) {
      const v = tokenValue(all[i]);
      if (v !== null) return v;
    }
  }
  return null;
}

/** The last number in a text (lm-eval's flexible GSM8K extraction, canonicalised). */
export function lastNumber(text: string): string | null {
  const all = text.match(/-?\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+/g);
  if (!all) return null;
  return canonicalNumber(all[all.length - 1].replace('$', ''));
}
