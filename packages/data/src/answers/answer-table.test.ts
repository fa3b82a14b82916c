import type { Problem } from '@irpo/contracts';
import { describe, expect, it } from 'vitest';
import { extractArcAnswer, resolveArcLabel, type ArcChoice } from './arc-answer.js';
import { lastBoxed } from './boxed.js';
import { extractGsm8kAnswer, gsm8kEquiv, gsm8kGoldAnswer, type Gsm8kExtraction } from './gsm8k-answer.js';
import { mathEquiv } from './math-equiv.js';
import { extractMathAnswer } from './math-answer.js';
import { mathAnswerKey } from './math-answer-key.js';
import { ArithTask } from '../arith/arith-task.js';
import type { Task } from '../task.js';
import { ArcTask } from '../tasks/arc-task.js';
import { Gsm8kTask } from '../tasks/gsm8k-task.js';
import { MathTask } from '../tasks/math-task.js';

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

// Whole completions as models write them, read through each task's public methods.
// [task, completion, extracted answer, gold, correct?]; the extracted answer is the exact string
// `extractAnswer` returns (GSM8K/arith: the canonical number; MATH: the answer text as written;
// ARC: the letter or the option text).
/** A problem with `gold` as its answer; ARC's has the LETTERS options. */
function problem(gold: string): Problem {
  return { v: 1, id: 't/0', question: 'q', answer: gold, choices: LETTERS };
}
type TaskName = 'gsm8k' | 'gsm8k-strict' | 'gsm8k-flexible' | 'arith' | 'math' | 'arc';
const TASKS: Record<TaskName, Task> = {
  gsm8k: new Gsm8kTask(),
  'gsm8k-strict': new Gsm8kTask({ extraction: 'strict' }),
  'gsm8k-flexible': new Gsm8kTask({ extraction: 'flexible' }),
  arith: new ArithTask(),
  math: new MathTask(),
  arc: new ArcTask(),
};
const COMPLETIONS: Array<[TaskName, string, string | null, string, boolean]> = [
  // GSM8K, the paper's "Final answer:" line: its value is its last number.
  [
    'gsm8k',
    'Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether in April and May.\nFinal answer: 72',
    '72',
    '72',
    true,
  ],
  ['gsm8k', 'Each box holds 3 pencils and there are 12 boxes.\nFinal answer: 12 * 3 = 36', '36', '36', true],
  ['gsm8k', '…\nFinal answer: 12 * 3 = 36', '36', '36', true],
  ['gsm8k', 'She buys 2 and then 5 more.\nFinal answer: The total is 2 + 5 = 7', '7', '7', true],
  ['gsm8k', 'Final answer: $1,234.50', '1234.5', '1234.5', true],
  ['gsm8k', 'He earns 2 * 9 = 18 dollars.\nFinal answer: 18 dollars', '18', '18', true],
  ['gsm8k', 'Final answer: 5 + 3 = 8 apples.', '8', '8', true],
  ['gsm8k', 'The temperature falls 5 degrees below zero.\nFinal answer: -5', '-5', '-5', true],
  ['gsm8k', 'Final answer: 7.', '7', '7', true],
  ['gsm8k', 'Final answer: 1,000,000', '1000000', '1000000', true],
  ['gsm8k', 'Final answer: 3.75', '3.75', '3.75', true],
  ['gsm8k', 'Final answer: $0.50', '0.5', '0.5', true],
  ['gsm8k', 'Final answer: 25%', '25', '25', true],
  ['gsm8k', 'Final answer: 12.5%', '12.5', '12.5', true],
  ['gsm8k', 'Final answer: €45', '45', '45', true],
  ['gsm8k', 'Final answer: £1,200', '1200', '1200', true],
  ['gsm8k', 'Final answer: 45 €', '45', '45', true],
  ['gsm8k', 'Final answer: 60 minutes', '60', '60', true],
  ['gsm8k', 'Final answer: 20 km/h', '20', '20', true],
  ['gsm8k', 'Final answer: 150 square feet', '150', '150', true],
  ['gsm8k', 'Final answer: 6 m^2', '6', '6', true],
  ['gsm8k', 'Final answer: 9 cm²', '9', '9', true],
  ['gsm8k', 'Final answer: 36 (12 boxes × 3 pencils)', '36', '36', true],
  ['gsm8k', 'Final answer: 13 (rounded down from 13.5)', '13', '13', true],
  ['gsm8k', 'Final answer: 40 - 15 = 25', '25', '25', true],
  ['gsm8k', 'Final answer: 3 - 8 = -5', '-5', '-5', true],
  ['gsm8k', 'Final answer: 18 / 3 = 6 cookies each', '6', '6', true],
  ['gsm8k', 'Final answer: (12 + 8) / 4 = 5', '5', '5', true],
  ['gsm8k', 'Final answer: 2 × $15 = $30', '30', '30', true],
  ['gsm8k', 'Final answer: 15 + 10 + 5 = 30 dollars', '30', '30', true],
  ['gsm8k', 'Final answer: 8x4=32', '32', '32', true],
  ['gsm8k', 'Final answer: 12-7=5', '5', '5', true],
  ['gsm8k', 'Final answer: 100 * 0.2 = 20', '20', '20', true],
  ['gsm8k', 'Final answer: 20% of 50 is 10', '10', '10', true],
  ['gsm8k', 'Final answer: 1,500 - 300 = 1,200', '1200', '1200', true],
  ['gsm8k', 'Final answer: 2 * 3.5 = 7.0', '7', '7', true],
  ['gsm8k', 'Final answer: He needs 3 more bags.', '3', '3', true],
  ['gsm8k', 'Final answer: x = 9', '9', '9', true],
  ['gsm8k', 'Final answer: 1/2', '0.5', '0.5', true],
  ['gsm8k', 'Final answer: 3/4 of the pizza', '0.75', '0.75', true],
  ['gsm8k', 'Final answer: −12', '-12', '-12', true],
  ['gsm8k', 'Final answer: -$5', '-5', '-5', true],
  ['gsm8k', 'Final answer: -3.5', '-3.5', '-3.5', true],
  ['gsm8k', 'Final answer: .75', '0.75', '0.75', true],
  ['gsm8k', 'Final answer: 2,125', '2125', '2125', true],
  ['gsm8k', 'Final answer: 0', '0', '0', true],
  ['gsm8k', 'Final answer: 1{,}000', '1000', '1000', true],
  ['gsm8k', 'Final answer: \\$18.00', '18', '18', true],
  ['gsm8k', 'Final answer: 18.00', '18', '18', true],
  ['gsm8k', 'Final Answer: \\( 12 \\times 3 = 36 \\)', '36', '36', true],
  ['gsm8k', 'Final answer: \\(\\$36\\)', '36', '36', true],
  ['gsm8k', 'Final answer: \\boxed{18}', '18', '18', true],
  ['gsm8k', 'Final answer: $\\boxed{18}$', '18', '18', true],
  ['gsm8k', 'Final answer: \\frac{3}{4}', '0.75', '0.75', true],
  ['gsm8k', '**Final answer:** 42', '42', '42', true],
  ['gsm8k', '**Final Answer**: 42', '42', '42', true],
  ['gsm8k', 'Final answer is: 42', '42', '42', true],
  ['gsm8k', 'Total = 6 + 36 = 42.\n\n### Final Answer\n\\[\n\\boxed{42}\n\\]', '42', '42', true],
  ['gsm8k', '### Final Answer\nThe total cost is $\\boxed{1,250}$ dollars.', '1250', '1250', true],
  ['gsm8k', 'Final answer:\n42', '42', '42', true],
  ['gsm8k', 'So she makes 9 * 2 = 18 dollars.\nThe final answer is 18.', '18', '18', true],
  ['gsm8k', 'So the final answer is $18.', '18', '18', true],
  ['gsm8k', 'Final answer: 12\nQuestion: Tom has 5 apples.', '12', '12', true],
  ['gsm8k', 'Final answer: 12\n\nLet me double-check: 3 * 4 = 13.\nFinal answer: 13', '12', '12', true],
  ['gsm8k', 'Final answer: 17', '17', '18', false],
  ['gsm8k', 'Final answer: 12 * 3 = 35', '35', '36', false],
  ['gsm8k', 'Final answer: 12.5', '12.5', '12', false],
  ['gsm8k', 'Final answer: 2,126', '2126', '2125', false],
  // The last number is the value, which misreads a duration written in two units.
  ['gsm8k', 'Final answer: 2 hours 30 minutes', '30', '150', false],
  // Without an answer line only "#### n" counts in the paper's mode.
  ['gsm8k', 'Step 1: 6 * 7 = 42.\n#### 42', '42', '42', true],
  ['gsm8k', '#### 1,234', '1234', '1234', true],
  ['gsm8k', 'The answer is 42.', null, '42', false],
  ['gsm8k', 'She has 5 apples left.', null, '5', false],
  ['gsm8k', 'The final answer is positive, so she gains 5 dollars.', null, '5', false],
  // lm-eval's strict mode: the first "#### n".
  ['gsm8k-strict', 'He pays 3 * 4 = 12.\n#### 12', '12', '12', true],
  ['gsm8k-strict', '#### 42.', '42', '42', true],
  ['gsm8k-strict', '####42', null, '42', false],
  ['gsm8k-strict', 'Final answer: 42', null, '42', false],
  ['gsm8k-strict', '#### 12\n#### 13', '12', '12', true],
  // lm-eval's flexible mode: the last match of its number pattern in the whole completion.
  ['gsm8k-flexible', 'Janet has 16 - 3 - 4 = 9 eggs. She makes 9 * 2 = $18 every day.', '18', '18', true],
  ['gsm8k-flexible', 'So she earns $18.\n\nQuestion: What is', '18', '18', true],
  ['gsm8k-flexible', '3 + 4 = 7, and 7 * 6 = 42.', '42', '42', true],
  ['gsm8k-flexible', 'It took 2.5 hours', '2.5', '2.5', true],
  ['gsm8k-flexible', 'The total is 1,234,567.', '1234567', '1234567', true],
  ['gsm8k-flexible', 'Final answer: 42 (see step 3)', '3', '42', false],
  ['gsm8k-flexible', 'The answer is 18...', null, '18', false],
  ['gsm8k-flexible', 'The change is -7 dollars', '-7', '-7', true],
  // arith: the demo format, read like GSM8K.
  ['arith', '12 + 5 = 17. 17 - 3 = 14.\nFinal answer: 14', '14', '14', true],
  ['arith', '12 + 5 = 17. 17 - 3 = 14.\nFinal answer: 14.', '14', '14', true],
  ['arith', 'Final answer: 17 - 3 = 14', '14', '14', true],
  ['arith', 'Final answer: 14 apples', '14', '14', true],
  ['arith', 'Final answer: 6 * 4 = 24', '24', '24', true],
  ['arith', 'Final answer: 14\nQ: Tom has 3 pens.', '14', '14', true],
  ['arith', 'Final answer: 13', '13', '14', false],
  ['arith', '12 + 5 = 17. 17 - 3 = 14.', null, '14', false],
  ['arith', '#### 14', null, '14', false],
  // MATH: the answer line (box on it first, then its text), else the last box.
  ['math', 'We have $x + 2 = 7$, so $x = 5$. Thus the answer is $\\boxed{5}$.', '5', '5', true],
  ['math', 'Final answer: $\\frac{3}{4}$', '\\frac{3}{4}', '\\frac34', true],
  ['math', 'Final answer: \\boxed{\\dfrac{3}{4}}', '\\dfrac{3}{4}', '0.75', true],
  ['math', 'Final Answer: The final answer is $7$. I hope it is correct.', '7', '7', true],
  ['math', 'The final answer is $7$. I hope it is correct.', '7', '7', true],
  ['math', 'The final answer is \\boxed{\\frac{5}{6}}.', '\\frac{5}{6}', '\\frac{5}{6}', true],
  ['math', 'Final answer: \\(\\frac{1}{2}\\)', '\\frac{1}{2}', '0.5', true],
  ['math', 'Final answer: \\[ x = 5 \\]', 'x = 5', '5', true],
  ['math', 'Final answer: $$\\frac{9}{2}$$', '\\frac{9}{2}', '4.5', true],
  ['math', 'Final answer: **$\\frac{1}{4}$**', '\\frac{1}{4}', '\\frac14', true],
  ['math', 'Final answer: $\\frac{1}{4}$.', '\\frac{1}{4}', '0.25', true],
  ['math', 'So $r = 2\\sqrt{2}$.\n\n### Final Answer\n\\[\n\\boxed{2\\sqrt{2}}\n\\]', '2\\sqrt{2}', '\\sqrt{8}', true],
  ['math', 'Final answer: $(-\\infty, 3]$', '(-\\infty, 3]', '(-\\infty,3]', true],
  ['math', 'Final answer: $(-\\infty, 3)$', '(-\\infty, 3)', '(-\\infty,3]', false],
  ['math', 'Final answer: $[2, 5)$', '[2, 5)', '[2,5)', true],
  ['math', 'Final answer: $(3, 4)$', '(3, 4)', '(3,4)', true],
  ['math', 'Final answer: $(4, 3)$', '(4, 3)', '(3,4)', false],
  ['math', 'Final answer: $\\left( \\frac{1}{2}, 3 \\right)$', '\\left( \\frac{1}{2}, 3 \\right)', '\\left(\\frac12,3\\right)', true],
  ['math', 'Final answer: $5\\text{ cm}$', '5\\text{ cm}', '5', true],
  ['math', 'Final answer: $12$ square units', '$12$ square units', '12', true],
  ['math', 'Final answer: $30^\\circ$', '30^\\circ', '30', true],
  ['math', 'Final answer: 50\\%', '50\\%', '50', true],
  ['math', 'Final answer: $\\$18.90$', '\\$18.90', '18.9', true],
  ['math', 'Final answer: 10,\\!000', '10,\\!000', '10000', true],
  ['math', 'Final answer: $\\text{Monday}$', '\\text{Monday}', '\\text{Monday}', true],
  ['math', 'Final answer: (C)', '(C)', '\\text{(C)}', true],
  ['math', 'Thus the answer is $\\boxed{\\text{(B)}}$.', '\\text{(B)}', '\\text{(B)}', true],
  ['math', 'Final answer: $-\\frac{2}{3}$', '-\\frac{2}{3}', '\\frac{-2}{3}', true],
  ['math', 'Final answer: $y = 2x + 3$', 'y = 2x + 3', '2x+3', true],
  ['math', 'Final answer: $x^2 + 2x + 1$', 'x^2 + 2x + 1', '(x+1)^2', true],
  ['math', 'Final answer: $\\frac{\\sqrt{3}}{2}$', '\\frac{\\sqrt{3}}{2}', '\\frac{\\sqrt3}{2}', true],
  ['math', 'Final answer: $\\pi r^2$', '\\pi r^2', 'r^2\\pi', true],
  ['math', 'Final answer: $1, 2, 3$', '1, 2, 3', '3,2,1', true],
  ['math', 'Final answer: $\\infty$', '\\infty', '\\infty', true],
  [
    'math',
    'Final answer: $\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}$',
    '\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}',
    '\\begin{pmatrix}1\\\\2\\end{pmatrix}',
    true,
  ],
  ['math', 'Final answer: 6.28', '6.28', '2\\pi', false],
  ['math', 'Final answer: $\\frac{1}{3}$', '\\frac{1}{3}', '\\frac{1}{2}', false],
  ['math', 'First guess $\\boxed{12}$; checking again gives $\\boxed{13}$.', '13', '13', true],
  [
    'math',
    'The final answer is positive, because both factors are negative. So $\\boxed{\\frac{130}{231}}$.',
    '\\frac{130}{231}',
    '\\frac{130}{231}',
    true,
  ],
  ['math', 'I cannot determine the answer.', null, '5', false],
  // ARC-Challenge (options a rock, a plant, an animal, water): letters however they are dressed.
  ['arc', 'Plants make their own food by photosynthesis.\nFinal answer: (B)', 'B', 'B', true],
  ['arc', 'Final answer: B', 'B', 'B', true],
  ['arc', 'Plants make food. The answer is B.', 'B', 'B', true],
  ['arc', 'Final answer: **B**', 'B', 'B', true],
  ['arc', 'Final answer: $\\boxed{B}$', 'B', 'B', true],
  ['arc', 'Final answer: \\boxed{\\text{B}}', 'B', 'B', true],
  ['arc', 'Final answer: $(B)$', 'B', 'B', true],
  ['arc', 'Final answer: The correct answer is (C).', 'C', 'C', true],
  ['arc', 'Final answer: (B) a plant', 'B', 'B', true],
  ['arc', 'Final answer: B. a plant', 'B', 'B', true],
  ['arc', 'Final answer: b) a plant', 'B', 'B', true],
  ['arc', 'Final answer: a plant', 'a plant', 'B', true],
  ['arc', 'Final answer: Option D', 'D', 'D', true],
  ['arc', 'Answer: B', 'B', 'B', true],
  ['arc', '**Answer:** (D)', 'D', 'D', true],
  ['arc', 'The correct answer is (B) a plant, because plants photosynthesise.', 'B', 'B', true],
  ['arc', 'Therefore, the best choice is \\boxed{D}.', 'D', 'D', true],
  ['arc', 'Only plants photosynthesise.\n\n### Final Answer\n**B**', 'B', 'B', true],
  ['arc', 'Final answer: (A)', 'A', 'B', false],
  ['arc', 'Final answer: E', 'E', 'B', false],
  ['arc', 'I am not sure.', null, 'B', false],
];

// [answer, its maj@k vote key under MATH] (rationals one way; other text normalised).
const MATH_KEYS: Array<[string, string]> = [
  ['0.75', '0.75'],
  ['\\frac{3}{4}', '0.75'],
  ['\\frac34', '0.75'],
  ['\\dfrac{3}{4}', '0.75'],
  ['3/4', '0.75'],
  ['.75', '0.75'],
  ['0.750', '0.75'],
  ['18.90', '18.9'],
  ['18.9', '18.9'],
  ['\\$18.90', '18.9'],
  ['-\\frac{2}{3}', '-\\frac{2}{3}'],
  ['\\frac{-2}{3}', '-\\frac{2}{3}'],
  ['\\frac{2}{-3}', '-\\frac{2}{3}'],
  ['-2/3', '-\\frac{2}{3}'],
  ['\\frac{4}{-6}', '-\\frac{2}{3}'],
  ['\\frac{6}{3}', '2'],
  ['2.0', '2'],
  ['x = 2', '2'],
  ['-0', '0'],
  ['\\frac{0}{5}', '0'],
  ['1,000', '1000'],
  ['10,\\!000', '10000'],
  ['\\frac{1}{3}', '\\frac{1}{3}'],
  ['\\frac{2}{6}', '\\frac{1}{3}'],
  ['0.333', '0.333'],
  ['\\frac{7}{8}', '0.875'],
  ['\\frac{1}{16}', '0.0625'],
  ['\\frac{-1}{40}', '-0.025'],
  ['\\frac{130}{231}', '\\frac{130}{231}'],
  ['50\\%', '50'],
  ['30^\\circ', '30'],
  ['(0.5, \\frac{3}{4})', '(0.5,0.75)'],
  ['\\left( \\frac12, 0.750 \\right)', '(0.5,0.75)'],
  ['[2, 5)', '[2,5)'],
  ['(-\\infty, 3]', '(-\\infty,3]'],
  ['3, 1, 2', '1,2,3'],
  ['2\\sqrt{2}', '2\\sqrt{2}'],
  ['\\sqrt{8}', '\\sqrt{8}'],
  ['\\frac{3}{0}', '\\frac{3}{0}'],
];

describe('answer checking table', () => {
  it('has at least 350 cases', () => {
    expect(MATH.length + GSM8K.length + ARC.length + BOXED.length + COMPLETIONS.length + MATH_KEYS.length).toBeGreaterThanOrEqual(350);
  });
  it.each(COMPLETIONS)('%s: %j → %j (gold %j: %s)', (name, completion, extracted, gold, correct) => {
    const task = TASKS[name];
    const answer = task.extractAnswer(completion);
    expect(answer).toBe(extracted);
    expect(task.isCorrect(answer, problem(gold))).toBe(correct);
  });
  it.each(MATH_KEYS)('math vote key: %s → %s', (answer, key) => {
    expect(mathAnswerKey(answer)).toBe(key);
    // A key never joins answers the checker tells apart: the answer is equivalent to its key.
    if (answer !== '\\frac{3}{0}') expect(mathEquiv(answer, key)).toBe(true);
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
