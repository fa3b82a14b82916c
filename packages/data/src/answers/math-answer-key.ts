import { normalizeMathAnswer } from './math-normalize.js';

/**
 * The key a MATH answer votes under in maj@k: `normalizeMathAnswer`'s text, with every rational
 * number written one way. Integers, decimals (trailing zeros or not), `a/b` and `\frac{a}{b}`
 * with the sign anywhere become the reduced value: a decimal when it ends (`0.75`, `\frac34`,
 * `3/4` → `0.75`; `18.90` → `18.9`), else `\frac{p}{q}` (`-\frac{2}{3}`, `\frac{-2}{3}`,
 * `\frac{4}{-6}` → `-\frac{2}{3}`). Tuples and intervals get the key of each element, brackets
 * kept; a bare list (`3, 1, 2`) is a set, so its element keys are sorted.
 *
 * Answers with one key are always the same answer by `mathEquiv`; the converse does not hold
 * (`2\sqrt{2}` and `\sqrt{8}` keep two keys), which is what the vote's equivalence fallback is for.
 */
export function mathAnswerKey(answer: string): string {
  return keyOf(normalizeMathAnswer(answer), 0);
}

function keyOf(s: string, depth: number): string {
  const rational = rationalKey(s);
  if (rational !== null) return rational;
  if (depth > 4) return s;
  const bracket = wholeBracket(s);
  if (bracket) {
    const items = splitKeepingEmpty(bracket.inner);
    if (items === null) return s;
    return bracket.open + items.map((e) => keyOf(e, depth + 1)).join(',') + bracket.close;
  }
  const items = splitKeepingEmpty(s);
  if (items === null || items.length < 2) return s;
  return items
    .map((e) => keyOf(e, depth + 1))
    .sort()
    .join(',');
}

const DECIMAL = /^([+-]?)(\d+(?:\.\d+)?|\.\d+)$/;
const SLASH = /^([+-]?)(\d+)\/(\d+)$/;
const FRAC = /^([+-]?)\\frac\{([+-]?)(\d+(?:\.\d+)?|\.\d+)\}\{([+-]?)(\d+(?:\.\d+)?|\.\d+)\}$/;

/** `s` as one exact rational's canonical text, or null when `s` is not a plain rational. */
function rationalKey(s: string): string | null {
  let q: Rational | null = null;
  let m = DECIMAL.exec(s);
  if (m) q = signed(decimal(m[2]), m[1]);
  else if ((m = SLASH.exec(s))) q = signed(divide({ num: BigInt(m[2]), den: 1n }, { num: BigInt(m[3]), den: 1n }), m[1]);
  else if ((m = FRAC.exec(s))) {
    const top = signed(decimal(m[3]), m[2]);
    const bottom = signed(decimal(m[5]), m[4]);
    q = signed(divide(top, bottom), m[1]);
  }
  return q === null ? null : render(q);
}

interface Rational {
  num: bigint;
  den: bigint;
}

function decimal(text: string): Rational {
  const [whole, frac = ''] = text.split('.');
  return { num: BigInt((whole || '0') + frac), den: 10n ** BigInt(frac.length) };
}

function signed(q: Rational | null, sign: string): Rational | null {
  if (q === null) return null;
  return sign === '-' ? { num: -q.num, den: q.den } : q;
}

function divide(a: Rational | null, b: Rational | null): Rational | null {
  if (a === null || b === null || b.num === 0n) return null;
  let num = a.num * b.den;
  let den = a.den * b.num;
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  return { num, den };
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** Reduced; a terminating decimal when the denominator has no prime but 2 and 5. */
function render(q: Rational): string {
  const g = gcd(q.num, q.den);
  const num = q.num / g;
  const den = q.den / g;
  if (num === 0n) return '0';
  const sign = num < 0n ? '-' : '';
  const abs = num < 0n ? -num : num;
  let twos = 0;
  let fives = 0;
  let rest = den;
  while (rest % 2n === 0n) {
    rest /= 2n;
    twos++;
  }
  while (rest % 5n === 0n) {
    rest /= 5n;
    fives++;
  }
  if (rest !== 1n) return `${sign}\\frac{${abs}}{${den}}`;
  const places = Math.max(twos, fives);
  const digits = ((abs * 10n ** BigInt(places)) / den).toString().padStart(places + 1, '0');
  if (places === 0) return sign + digits;
  const text = `${digits.slice(0, -places)}.${digits.slice(-places)}`.replace(/\.?0+$/, '');
  return sign + text;
}

/** The brackets of `(…)`, `[…]`, `(…]`, `[…)` when the opener closes at the very end. */
function wholeBracket(s: string): { open: string; close: string; inner: string } | null {
  if (s.length < 2 || !'(['.includes(s[0]) || !')]'.includes(s[s.length - 1])) return null;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if ('([{'.includes(s[i])) depth++;
    else if (')]}'.includes(s[i])) depth--;
    if (depth === 0 && i < s.length - 1) return null;
  }
  return { open: s[0], close: s[s.length - 1], inner: s.slice(1, -1) };
}

/** Top-level comma-separated items, or null when one is empty (`(1,)`: leave such text alone). */
function splitKeepingEmpty(s: string): string[] | null {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= s.length; i++) {
    const ch = s[i];
    if (ch !== undefined && '([{'.includes(ch)) depth++;
    else if (ch !== undefined && ')]}'.includes(ch)) depth--;
    else if (i === s.length || (ch === ',' && depth === 0)) {
      const item = s.slice(start, i).trim();
      if (item === '') return null;
      out.push(item);
      start = i + 1;
    }
  }
  return out;
}
