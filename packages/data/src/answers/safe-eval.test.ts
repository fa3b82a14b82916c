import { describe, expect, it } from 'vitest';
import { evaluateExpression, expressionVariables } from './safe-eval.js';

describe('evaluateExpression', () => {
  it.each([
    ['1+2*3', 7], // precedence: 2*3 first
    ['(1+2)*3', 9],
    ['2^3^2', 512], // right-associative: 2^(3^2) = 2^9
    ['-2^2', -4], // unary minus applies after the power
    ['\\frac{1}{2}+\\frac{1}{3}', 5 / 6],
    ['\\dfrac{3}{4}', 0.75],
    ['2\\sqrt{9}', 6], // implicit multiplication
    ['\\sqrt[3]{8}', 2],
    ['3\\cdot4\\div6', 2],
    ['2\\pi', 2 * Math.PI],
    ['\\pir^2', 4 * Math.PI], // with r = 2, spaces already removed
    ['(1)(2)(3)', 6],
    ['{2}^{1/2}', Math.SQRT2],
  ])('%s = %d', (src, want) => {
    expect(evaluateExpression(src, { r: 2 })).toBeCloseTo(want, 12);
  });

  it.each(['', '1+', '(1', '\\frac{1}', 'x', '\\sin{1}', '1;2', 'eval("1")'])('rejects %j with NaN', (src) => {
    expect(Number.isNaN(evaluateExpression(src))).toBe(true);
  });

  it('lists one-letter variables, not command names', () => {
    expect(expressionVariables('\\frac{x}{y}+\\sqrt{x}\\pi')).toEqual(['x', 'y']);
  });
});
