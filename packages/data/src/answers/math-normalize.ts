import { unbox } from './boxed.js';

/**
 * Canonical text of a MATH answer, after Hendrycks et al.'s `is_equiv` normalisation
 * (strip_string) and Minerva's `normalize_final_answer` (Lewkowycz et al. 2022), written anew:
 * `\left`/`\right`, `^\circ`, `$`, `\%`, spacing commands and unit words are dropped;
 * `\dfrac`/`\tfrac` become `\frac`; `\frac12` → `\frac{1}{2}`, `\sqrt3` → `\sqrt{3}`;
 * `.5` → `0.5`; `a/b` (integers) and `0.5` → `\frac{a}{b}`; a short `x =` prefix is dropped;
 * thousands commas go; `\text{...}` is unwrapped; `(C)` → `C`.
 */
export function normalizeMathAnswer(answer: string): string {
  let s = unbox(answer.trim());
  s = s.replace(/\n/g, ' ').replace(/\\!/g, '');
  s = s.replace(/\\[dt]frac/g, '\\frac');
  s = s.replace(/\\left\s*|\\right\s*/g, '');
  s = s.replace(/\\displaystyle/g, '');
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|°|\\circ/g, '');
  s = s.replace(/\\\$|\$/g, '');
  s = s.replace(/\\%|%/g, '');
  s = s.replace(/\\mbox\b/g, '\\text');
  // Minerva: "\text{and}" separates list items.
  s = s.replace(/,?\s*\\text\{\s*and\s*\}/g, ',');
  // Units in text with a leading space ("5\text{ cm}^2", Hendrycks' right units) go entirely.
  s = s.replace(/\\text\s*\{\s+[^{}]*\}(?:\^\{?\d\}?)?/g, '');
  // Unwrap the remaining formatting commands: \text{Monday} → Monday.
  for (let k = 0; k < 3; k++) s = s.replace(/\\(?:text|textbf|textit|mathrm|mathbf|operatorname|overline)\s*\{([^{}]*)\}/g, '$1');
  s = s.replace(/(?<!\\)\\[,;:> ]|\\quad|\\qquad|~/g, ' ');
  s = s.replace(/\{,\}/g, '');
  s = s.replace(/\\(?:ldots|dots|cdots)/g, '');
  s = stripUnitWords(s);
  s = s.trim().replace(/\.$/, '').trim();
  // "x = 5", "k=2": a short left side is a name, not part of the answer.
  const sides = s.split('=');
  if (sides.length === 2 && sides[0].trim().length <= 2) s = sides[1];
  s = s.replace(/\s+/g, '');
  s = s.replace(/\\sqrt(\w)/g, '\\sqrt{$1}');
  s = fixFracs(s);
  s = s.replace(/(^|[^\d])\.(\d)/g, '$10.$2');
  if (/^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(s)) s = s.replace(/,/g, '');
  if (s === '0.5') s = '\\frac{1}{2}';
  const frac = /^(-?\d+)\/(\d+)$/.exec(s);
  if (frac) s = `\\frac{${frac[1]}}{${frac[2]}}`;
  const choice = /^\(([A-Z])\)$/.exec(s);
  if (choice) s = choice[1];
  return s;
}

const UNIT_WORDS = [
  'square units',
  'square feet',
  'square inches',
  'square meters',
  'square centimeters',
  'sq units',
  'units',
  'unit',
  'degrees',
  'degree',
  'cents',
  'dollars',
  'dollar',
  'inches',
  'inch',
  'feet',
  'foot',
  'ft',
  'yards',
  'miles',
  'mph',
  'meters',
  'centimeters',
  'cm',
  'km',
  'mm',
  'hours',
  'hour',
  'minutes',
  'minute',
  'seconds',
  'days',
  'weeks',
  'years',
  'ways',
  'points',
  'students',
  'people',
  'pounds',
  'ounces',
  'gallons',
  'integers',
  'digits',
  'edges',
  'meals',
  'multiples',
  'numbers',
  'games',
  'cubic units',
  'cubic feet',
  'sq ft',
  'percent',
  'mathrm{th}',
  'th',
];
const UNIT_RE = new RegExp(
  `(?<=[\\d}\\s])\\s*(?:${UNIT_WORDS.map((w) => w.replace(/[{}]/g, '\\$&')).join('|')})(?:\\^\\{?[23]\\}?)?\\s*$`,
  'i',
);

function stripUnitWords(s: string): string {
  for (let k = 0; k < 2; k++) s = s.replace(UNIT_RE, '');
  return s;
}

/** `\frac12` → `\frac{1}{2}`, `\frac1{72}` → `\frac{1}{72}`, `\frac{3}4` → `\frac{3}{4}`. */
function fixFracs(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    if (!s.startsWith('\\frac', i)) {
      out += s[i++];
      continue;
    }
    out += '\\frac';
    i += 5;
    for (let arg = 0; arg < 2 && i < s.length; arg++) {
      if (s[i] === '{') {
        const end = matchBrace(s, i);
        if (end < 0) return out + s.slice(i);
        out += fixFracs(s.slice(i, end + 1));
        i = end + 1;
      } else if (s[i] === '\\') {
        break; // \frac\pi2: leave as written
      } else {
        out += `{${s[i]}}`;
        i++;
      }
    }
  }
  return out;
}

export function matchBrace(s: string, open: number): number {
  let depth = 0;
  for (let j = open; j < s.length; j++) {
    if (s[j] === '{') depth++;
    else if (s[j] === '}' && --depth === 0) return j;
  }
  return -1;
}
