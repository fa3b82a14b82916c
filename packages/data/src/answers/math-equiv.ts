import { createRng } from '../rng.js';
import { normalizeMathAnswer } from './math-normalize.js';
import { evaluateExpression, expressionVariables } from './safe-eval.js';

/**
 * Whether two MATH answers are the same: equal after normalisation; or both numbers equal to
 * within a relative 1e-6 (`2\sqrt{2}` = `\sqrt{8}`, `1/2` = `0.5`); or both the same expression
 * in at most three one-letter variables, checked at fixed random points; tuples and intervals
 * element by element with the same brackets; bare lists as unordered sets.
 */
export function mathEquiv(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return false;
  const x = normalizeMathAnswer(a);
  const y = normalizeMathAnswer(b);
  if (x === '' || y === '') return false;
  return equivNormalized(x, y, 0);
}

function equivNormalized(x: string, y: string, depth: number): boolean {
  if (x === y) return true;
  if (depth > 4) return false;
  const bx = bracketed(x);
  const by = bracketed(y);
  if (bx || by) {
    if (!bx || !by || bx.open !== by.open || bx.close !== by.close) return false;
    const ex = splitTopLevel(bx.inner);
    const ey = splitTopLevel(by.inner);
    if (ex.length === 1 && ey.length === 1) return equivNormalized(bx.inner, by.inner, depth + 1);
    return ex.length === ey.length && ex.every((e, i) => equivNormalized(e, ey[i], depth + 1));
  }
  const lx = splitTopLevel(x);
  const ly = splitTopLevel(y);
  if (lx.length > 1 || ly.length > 1) {
    if (lx.length !== ly.length) return false;
    const used = new Set<number>();
    return lx.every((e) => {
      const j = ly.findIndex((f, k) => !used.has(k) && equivNormalized(e, f, depth + 1));
      if (j < 0) return false;
      used.add(j);
      return true;
    });
  }
  // "f(x)=2x+3" against "2x+3": a name on the left is not part of the answer. An equation
  // ("5x-7y+4=0") is compared whole, never by its right side alone.
  const named = /^[a-zA-Z]\w{0,2}(?:\([a-z]\))?=(?!.*=)/;
  if (named.test(x) !== named.test(y)) return equivNormalized(x.replace(named, ''), y.replace(named, ''), depth + 1);
  return numericallyEqual(x, y);
}

function close(a: number, b: number): boolean {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b && !Number.isNaN(a);
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
}

function numericallyEqual(x: string, y: string): boolean {
  const vars = [...new Set([...expressionVariables(x), ...expressionVariables(y)])];
  if (vars.length === 0) {
    const a = evaluateExpression(x);
    const b = evaluateExpression(y);
    return !Number.isNaN(a) && !Number.isNaN(b) && close(a, b);
  }
  const vx = expressionVariables(x).join();
  if (vars.length > 3 || vx !== expressionVariables(y).join()) return false;
  // Fixed points so a verdict never changes between runs.
  const rng = createRng(12345);
  let checked = 0;
  for (let k = 0; k < 6; k++) {
    const env: Record<string, number> = {};
    for (const v of vars) env[v] = 0.5 + rng.next() * 2.5;
    const a = evaluateExpression(x, env);
    const b = evaluateExpression(y, env);
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    if (!close(a, b)) return false;
    checked++;
  }
  return checked >= 3;
}

function bracketed(s: string): { open: string; close: string; inner: string } | null {
  const open = s[0];
  const closeCh = s[s.length - 1];
  if (!'([{'.includes(open) || !')]}'.includes(closeCh) || s.length < 2) return null;
  // "(1)(2)" is a product, not one bracket: the opener must close at the very end.
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if ('([{'.includes(s[i])) depth++;
    else if (')]}'.includes(s[i])) depth--;
    if (depth === 0 && i < s.length - 1) return null;
  }
  // A lone braced group is just grouping: "{5}" is 5.
  if (open === '{' && closeCh === '}' && !s.startsWith('{')) return null;
  if (open === '{') return null;
  return { open, close: closeCh, inner: s.slice(1, -1) };
}

/** Splits on commas that are not inside any bracket. */
export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (ch === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out.map((e) => e.trim()).filter((e) => e !== '');
}
