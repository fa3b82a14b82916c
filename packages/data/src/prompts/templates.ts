import { readFileSync } from 'node:fs';
import type { Problem } from '@irpo/contracts';
import { InputError } from '@irpo/contracts';
import { ARC_LETTERS } from '../answers/arc-answer.js';

/**
 * The zero-shot instruction of Pang et al. (2024) for GSM8K and ARC-Challenge: reason step by
 * step, then write "Final answer: ...".
 */
const INSTRUCTION =
  'Your task is to answer the question below. Give step by step reasoning before you answer, ' +
  'and when you\'re ready to answer, please use the format "Final answer: ..."';

export const GSM8K_TEMPLATE = `${INSTRUCTION}\n\nQuestion: {question}\n\nSolution:`;
export const ARC_TEMPLATE = `${INSTRUCTION}\n\nQuestion: {question}\n\nOptions: {choices}\n\nSolution:`;

/** ARC options as the paper writes them: "(A) text (B) text ...", letters by position. */
export function renderChoices(problem: Problem): string {
  return (problem.choices ?? []).map((c, i) => `(${ARC_LETTERS[i]}) ${c.text}`).join(' ');
}

/** Fills `{question}` and `{choices}`; other braces are left alone (LaTeX in MATH). */
export function renderTemplate(template: string, problem: Problem): string {
  return template.replace(/\{question\}|\{choices\}/g, (m) => (m === '{question}' ? problem.question : renderChoices(problem)));
}

/** A user template from a file; it must contain `{question}`. */
export function loadTemplateFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new InputError(file, undefined, undefined, 'template file not found or unreadable');
  }
  if (!text.includes('{question}')) throw new InputError(file, undefined, undefined, 'template has no {question} placeholder');
  return text.replace(/\n$/, '');
}
