import type { Problem } from '@irpo/contracts';

/**
 * Four fixed exemplars from the MATH *training* split (problem and solution verbatim), one per
 * subject, short so the prompt stays small. Files: train/number_theory/1007.json,
 * train/algebra/906.json, train/counting_and_probability/565.json,
 * train/intermediate_algebra/608.json (a test checks them against the data when present).
 */
export const MATH_EXEMPLARS: ReadonlyArray<{ file: string; problem: string; solution: string }> = [
  {
    file: 'train/number_theory/1007.json',
    problem: 'What is the base-ten number represented by the base-eight number 31?',
    solution: '$31_8=3\\cdot8^1+1\\cdot8^0=\\boxed{25}$.',
  },
  {
    file: 'train/algebra/906.json',
    problem: 'Define $a$ $\\$$ $b$ to be $a(b + 1) + ab$. What is the value of $(-2)$ $\\$$ $3$?',
    solution: '$(-2)\\ \\$\\ 3=-2(3+1)-6=-8-6=\\boxed{-14}$.',
  },
  {
    file: 'train/counting_and_probability/565.json',
    problem: 'Compute $\\dbinom{10}{8}$.',
    solution: '$\\dbinom{10}{8}=\\dbinom{10}{2}=\\boxed{45}.$',
  },
  {
    file: 'train/intermediate_algebra/608.json',
    problem: 'Let $a,$ $b,$ $c$ be the roots of $3x^3 - 3x^2 + 11x - 8 = 0.$  Find $ab + ac + bc.$',
    solution: "By Vieta's formulas, $ab + ac + bc = \\boxed{\\frac{11}{3}}.$",
  },
];

const HEADER = 'Solve each problem step by step. Put the final answer in \\boxed{}.';

/** 4-shot MATH prompt: "Problem:\n...\n\nSolution:\n..." blocks, ending at the open solution. */
export const MATH_TEMPLATE =
  HEADER +
  '\n\n' +
  MATH_EXEMPLARS.map((e) => `Problem:\n${e.problem}\n\nSolution:\n${e.solution}`).join('\n\n') +
  '\n\nProblem:\n{question}\n\nSolution:\n';

export function mathPrompt(problem: Problem): string {
  return MATH_TEMPLATE.replace('{question}', () => problem.question);
}
