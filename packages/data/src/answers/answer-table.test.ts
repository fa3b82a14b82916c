import { describe, expect, it } from 'vitest';
import { extractArcAnswer, resolveArcLabel, type ArcChoice } from './arc-answer.js';
import { lastBoxed } from './boxed.js';
import { extractGsm8kAnswer, gsm8kEquiv, gsm8kGoldAnswer, type Gsm8kExtraction } from './gsm8k-answer.js';
import { mathEquiv } from './math-equiv.js';
import { extractMathAnswer } from './math-answer.js';

// [model answer, gold answer, equivalent?]
const MATH: Array<[string, string, boolean]> = [
  ['\\frac12', '\\frac{1}{2}', true],
  ['\\dfrac{1}{2}', '\\frac{1}{2}', true],
  ['\\tfrac{1}{2}', '\\frac{1}{2}', true],
  ['1/2', '\\frac{1}{2}', true],
  ['0.5', '\\frac{1}{2}', true],
  ['.5', '\\frac{1}{2}', true],
  ['\\frac{2}{4}', '\\frac{1}{2}', true],
  ['\\frac{1}{3}', '\\frac{1}{2}', false],
  ['0.33', '\\frac{1}{3}', false],
  ['\\left( 3, 4 \\right)', '(3,4)', true],
  ['(4,3)', '(3,4)', false],
  ['[3,4]', '(3,4)', false],
  ['(3, 4, 5)', '(3,4)', false],
  ['(-\\infty, 3]', '(-\\infty,3]', true],
  ['(-\\infty, 3)', '(-\\infty,3]', false],
  ['[2, 5)', '[2,5)', true],
  ['[2, 5)', '[2,6)', false],
  ['(1,2) \\cup (3,4)', '(1,2)\\cup(3,4)', true],
  ['30^\\circ', '30', true],
  ['30^{\\circ}', '30', true],
  ['30', '30^\\circ', true],
  ['31^\\circ', '30', false],
  ['5 \\text{ cm}', '5', true],
  ['5\\text{ cm}^2', '5', true],
  ['5 \\mbox{ inches}', '5', true],
  ['12 square units', '12', true],
  ['10 dollars', '10', true],
  ['\\$10', '10', true],
  ['\\$10.50', '10.5', true],
  ['11 dollars', '10', false],
  ['50\\%', '50', true],
  ['50%', '50', true],
  ['x = 5', '5', true],
  ['x=5', '5', true],
  ['k = 2', '2', true],
  ['x = 6', '5', false],
  ['y = 2x + 3', 'y=2x+3', true],
  ['2x+3', 'y=2x+3', true],
  ['3+2x', 'y=2x+3', true],
  ['2x+4', 'y=2x+3', false],
  ['0', '5x - 7y + 11z + 4 = 0', false],
  ['2x+3', 'f(x)=2x+3', true],
  ['5x-7y+11z+4=0', '5x - 7y + 11z + 4 = 0', true],
  ['1,000', '1000', true],
  ['10,\\!000', '10000', true],
  ['1{,}000', '1000', true],
  ['1,001', '1000', false],
  ['2\\sqrt{2}', '\\sqrt{8}', true],
  ['2\\sqrt2', '2\\sqrt{2}', true],
  ['\\sqrt{3}/2', '\\frac{\\sqrt{3}}{2}', true],
  ['\\frac{\\sqrt3}{2}', '\\frac{\\sqrt{3}}{2}', true],
  ['\\frac{\\sqrt{2}}{2}', '\\frac{\\sqrt{3}}{2}', false],
  ['\\frac{1}{\\sqrt{2}}', '\\frac{\\sqrt{2}}{2}', true],
  ['2\\pi', '2 \\pi', true],
  ['6.283185307', '2\\pi', true],
  ['6.28', '2\\pi', false],
  ['3\\pi', '2\\pi', false],
  ['\\pi r^2', 'r^2\\pi', true],
  ['x^2+2x+1', '(x+1)^2', true],
  ['x^2+2x+2', '(x+1)^2', false],
  ['(x+1)(x-1)', 'x^2-1', true],
  ['(x+1)(x+1)', 'x^2-1', false],
  ['\\frac{x}{2}', '0.5x', true],
  ['a+b', 'b+a', true],
  ['a-b', 'b-a', false],
  ['-3', '-3', true],
  ['- 3', '-3', true],
  ['3', '-3', false],
  ['-\\frac{1}{2}', '-0.5', true],
  ['\\frac{-1}{2}', '-\\frac12', true],
  ['2^{10}', '1024', true],
  ['2^{10}', '1023', false],
  ['10^3', '1000', true],
  ['3 \\cdot 4', '12', true],
  ['3 \\times 4', '12', true],
  ['12.0', '12', true],
  ['12.00', '12', true],
  ['12.1', '12', false],
  ['0', '0', true],
  ['0', '\\text{none}', false],
  ['\\text{Monday}', 'Monday', true],
  ['\\text{Tuesday}', 'Monday', false],
  ['\\text{(C)}', '(C)', true],
  ['C', '\\text{(C)}', true],
  ['B', '\\text{(C)}', false],
  ['1, 2, 3', '1,2,3', true],
  ['3, 2, 1', '1,2,3', true],
  ['1, 2', '1,2,3', false],
  ['1,2,4', '1,2,3', false],
  ['2 \\text{ and } 3', '2,3', true],
  ['-2, 2', '\\pm 2', false],
  ['\\boxed{7}', '7', true],
  ['\\infty', '\\infty', true],
  ['-\\infty', '\\infty', false],
  ['\\frac{3}{4}', '0.75', true],
  ['\\frac34', '\\frac{3}{4}', true],
  ['\\frac{3}4', '\\frac{3}{4}', true],
  ['3/4', '\\frac34', true],
  ['4/3', '\\frac34', false],
  ['\\sqrt[3]{27}', '3', true],
  ['\\sqrt[3]{-8}', '-2', true],
  ['\\left[ 1, 2 \\right]', '[1,2]', true],
  ['\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}', '\\begin{pmatrix}1\\\\2\\end{pmatrix}', true],
  ['\\begin{pmatrix} 1 \\\\ 3 \\end{pmatrix}', '\\begin{pmatrix}1\\\\2\\end{pmatrix}', false],
  ['', '5', false],
  ['5.', '5', true],
  ['5 units', '5', true],
  ['6 units', '5', false],
  ['4\\sqrt{3}', '6.928203230', true],
  ['4\\sqrt{2}', '6.928203230', false],
  ['\\frac{9}{2}', '4.5', true],
  ['\\frac92', '4.5', true],
  ['9/2', '4.6', false],
];

// [completion, mode, gold `answer` field or final, correct?]
const GSM8K: Array<[string, Gsm8kExtraction, string, boolean]> = [
  ['She pays 5 + 7 = 12.\nFinal answer: 12', 'final', '#### 12', true],
  ['Final answer: $1,000.', 'final', '#### 1000', true],
  ['Final Answer: 1000', 'final', '#### 1,000', true],
  ['**Final answer:** 18 dollars', 'final', '#### 18', true],
  ['Final answer: -3', 'final', '#### -3', true],
  ['Final answer: 3', 'final', '#### -3', false],
  ['Final answer: 12.00', 'final', '#### 12', true],
  ['Final answer: 12.5', 'final', '#### 12', false],
  ['Final answer: 13', 'final', '#### 12', false],
  ['The total is 12.\n#### 12', 'final', '#### 12', true],
  ['The total is 12.', 'final', '#### 12', false],
  ['Final answer: 12\nFinal answer: 13', 'final', '#### 12', true],
  ['final answer: 2,125', 'final', '#### 2,125', true],
  ['Final answer: 2,126', 'final', '#### 2,125', false],
  ['Final answer: $70,000', 'final', '#### 70000', true],
  ['#### 42', 'strict', '#### 42', true],
  ['#### 1,234', 'strict', '#### 1234', true],
  ['#### $1,234.', 'strict', '#### 1234', false], // strict regex does not admit "$"
  ['The answer is 42.', 'strict', '#### 42', false],
  ['#### 41', 'strict', '#### 42', false],
  ['#### -7', 'strict', '#### -7', true],
  ['So 3 + 4 = 7 and the answer is 42.', 'flexible', '#### 42', true],
  ['It costs $1,234.', 'flexible', '#### 1234', true],
  ['3 + 4 = 7', 'flexible', '#### 42', false],
  ['no digits at all', 'flexible', '#### 42', false],
  ['Total: -15 degrees', 'flexible', '#### -15', true],
  ['Final answer: 0', 'final', '#### 0', true],
  ['Final answer: ten', 'final', '#### 10', false],
  ['Final answer: 1 000', 'final', '#### 1000', true],
  ['Final answer: 5%', 'final', '#### 5', true],
];

const LETTERS: ArcChoice[] = [
  { label: 'A', text: 'a rock' },
  { label: 'B', text: 'a plant' },
  { label: 'C', text: 'an animal' },
  { label: 'D', text: 'water' },
];
const DIGITS: ArcChoice[] = [
  { label: '1', text: 'Mercury' },
  { label: '2', text: 'Venus' },
  { label: '3', text: 'Earth' },
  { label: '4', text: 'Mars' },
];
// [completion, choices, gold label, correct?]
const ARC: Array<[string, ArcChoice[], string, boolean]> = [
  ['Final answer: B', LETTERS, 'B', true],
  ['Final answer: (B)', LETTERS, 'B', true],
  ['Final answer: (B) a plant', LETTERS, 'B', true],
  ['Final answer: B) a plant', LETTERS, 'B', true],
  ['Final answer: b.', LETTERS, 'B', true],
  ['Final answer: a plant', LETTERS, 'B', true],
  ['Final answer: A plant.', LETTERS, 'B', true],
  ['Final answer: a rock', LETTERS, 'B', false],
  ['Final answer: C', LETTERS, 'B', false],
  ['Final answer: (A)', LETTERS, 'B', false],
  ['Final answer: E', LETTERS, 'B', false],
  ['The answer is (B).', LETTERS, 'B', true],
  ['The answer is D', LETTERS, 'B', false],
  ['I think plants.', LETTERS, 'B', false],
  ['Final answer: water', LETTERS, 'D', true],
  ['Final answer: C', DIGITS, '3', true],
  ['Final answer: (C) Earth', DIGITS, '3', true],
  ['Final answer: 3', DIGITS, '3', true],
  ['Final answer: Earth', DIGITS, '3', true],
  ['Final answer: Mars', DIGITS, '3', false],
  ['Final answer: 4', DIGITS, '3', false],
  ['Final answer: D', DIGITS, '3', false],
  ['Final answer: A', DIGITS, '1', true],
  ['Final answer: 5', DIGITS, '1', false],
  ['Final answer: Option B', LETTERS, 'B', true],
];

// [text, last boxed content]
const BOXED: Array<[string, string | null]> = [
  ['so $\\boxed{5}$.', '5'],
  ['\\boxed{\\frac{1}{2}}', '\\frac{1}{2}'],
  ['\\boxed{1} then \\boxed{2}', '2'],
  ['\\fbox{7}', '7'],
  ['\\boxed{\\left\\{ 1, 2 \\right\\}}', '\\left\\{ 1, 2 \\right\\}'],
  ['$\\boxed 5$', '5'],
  ['\\boxed{unclosed', null],
  ['no box', null],
];

describe('answer checking table', () => {
  it('has at least 150 cases', () => {
    expect(MATH.length + GSM8K.length + ARC.length + BOXED.length).toBeGreaterThanOrEqual(150);
  });
  it.each(MATH)('math: %s vs %s → %s', (a, gold, want) => {
    expect(mathEquiv(a, gold)).toBe(want);
    expect(mathEquiv(gold, a)).toBe(want); // symmetric
  });
  it.each(GSM8K)('gsm8k: %j (%s) vs %s → %s', (completion, mode, gold, want) => {
    const g = gold.startsWith('####') ? gsm8kGoldAnswer(gold)! : gold;
    expect(gsm8kEquiv(extractGsm8kAnswer(completion, mode), g)).toBe(want);
  });
  it.each(ARC)('arc: %j → %s is %s', (completion, choices, gold, want) => {
    expect(resolveArcLabel(extractArcAnswer(completion), choices) === gold).toBe(want);
  });
  it.each(BOXED)('boxed: %s → %s', (text, want) => {
    expect(lastBoxed(text)).toBe(want);
  });
  it('reads a MATH answer from the Final answer line first, then the last box', () => {
    expect(extractMathAnswer('so \\boxed{3}.\nFinal answer: $\\frac{1}{2}$')).toBe('\\frac{1}{2}');
    expect(extractMathAnswer('Final Answer: The final answer is $7$. I hope it is correct.')).toBe('7');
    expect(extractMathAnswer('Thus $x = \\boxed{\\dfrac{1}{2}}$.')).toBe('\\dfrac{1}{2}');
    expect(extractMathAnswer('Final answer: \\boxed{4}')).toBe('4');
    expect(extractMathAnswer('I cannot tell')).toBeNull();
  });
});
