import { readdir, readFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Problem } from '@irpo/contracts';
import { InputError, issueToInputError } from '@irpo/contracts';
import { z } from 'zod';
import { lastBoxed } from '../answers/boxed.js';
import { extractMathAnswer } from '../answers/math-answer.js';
import { mathAnswerKey } from '../answers/math-answer-key.js';
import { mathEquiv } from '../answers/math-equiv.js';
import { parseRecord, readRecords } from '../loaders/read-records.js';
import { dataPath, resolveDataFile } from '../loaders/resolve-data-file.js';
import { mathPrompt } from '../prompts/math-fewshot.js';
import { renderTemplate } from '../prompts/templates.js';
import type { LoadOptions, Split, Task } from '../task.js';

export interface MathOptions {
  /**
   * A MATH file (jsonl/json/parquet: MATH-500 or an HF export) or a directory: the per-problem
   * tree `<dir>/<split>/<subject>/<n>.json` (also under `<dir>/MATH/`), or, with
   * `subset: 'math500'`, `<dir>/math_splits/<split>.jsonl`.
   */
  path?: string;
  /** 'full' (7500/5000, default) or 'math500' (the 500-problem test subset of Lightman et al.). */
  subset?: 'full' | 'math500';
  /** Prompt template with `{question}` (default: 4-shot with \boxed). */
  template?: string;
}

const RecordSchema = z.object({
  problem: z.string().min(1),
  solution: z.string().min(1),
  answer: z.string().optional(),
  level: z.union([z.string(), z.number()]).optional(),
  type: z.string().optional(),
  subject: z.string().optional(),
  unique_id: z.string().optional(),
});
type MathRecord = z.output<typeof RecordSchema>;

function toProblem(file: string, line: number | undefined, r: MathRecord, id: string): Problem {
  const answer = r.answer ?? lastBoxed(r.solution);
  if (answer === null) throw new InputError(file, line, 'solution', 'no \\boxed{} answer in the solution');
  const meta: Record<string, string | number> = {};
  const subject = r.subject ?? r.type;
  if (subject) meta.subject = subject;
  const level = typeof r.level === 'number' ? r.level : Number(/\d+/.exec(r.level ?? '')?.[0]);
  if (Number.isFinite(level)) meta.level = level;
  return { v: 1, id, question: r.problem, answer, solution: r.solution, meta };
}

/** MATH (Hendrycks et al. 2021): competition problems, answers in \boxed{}. */
export class MathTask implements Task {
  readonly name = 'math';
  readonly stop = ['\n\nProblem:'];

  constructor(readonly options: MathOptions = {}) {}

  async load(split: Split, options: LoadOptions = {}): Promise<Problem[]> {
    if (split === 'dev') throw new InputError('math', undefined, 'split', 'MATH has only train and test splits');
    const root = dataPath('math', options.path, this.options.path, 'math');
    if (existsSync(root) && statSync(root).isDirectory() && this.options.subset !== 'math500') {
      for (const dir of [join(root, split), join(root, 'MATH', split)]) {
        if (existsSync(dir) && statSync(dir).isDirectory()) return loadTree(dir, split, options.limit);
      }
    }
    const file = resolveDataFile(root, [
      `math_splits/${split}.jsonl`,
      `${split}.jsonl`,
      `${split}.json`,
      `${split}.parquet`,
      `${split}-00000-of-00001.parquet`,
    ]);
    const out: Problem[] = [];
    for await (const record of readRecords(file)) {
      if (options.limit !== undefined && out.length >= options.limit) break;
      const r = parseRecord(file, record, RecordSchema);
      const id = r.unique_id ? `math/${r.unique_id.replace(/\.json$/, '')}` : `math/${split}/${out.length}`;
      out.push(toProblem(file, record.line, r, id));
    }
    return out;
  }

  prompt(problem: Problem): string {
    return this.options.template ? renderTemplate(this.options.template, problem) : mathPrompt(problem);
  }

  extractAnswer(completion: string): string | null {
    return extractMathAnswer(completion);
  }

  isCorrect(answer: string | null, problem: Problem): boolean {
    return mathEquiv(answer, problem.answer);
  }

  /** The vote key: normalised text, rationals written one way (`0.75`, `\frac{3}{4}`, `3/4` alike). */
  normalizeAnswer(answer: string): string {
    return mathAnswerKey(answer);
  }

  /** What the key cannot decide (`2\sqrt{2}` and `\sqrt{8}`), decided as `isCorrect` would. */
  equivalentAnswers(a: string, b: string): boolean {
    return mathEquiv(a, b);
  }

  goldCompletion(problem: Problem): string | undefined {
    return problem.solution;
  }
}

/** Reads `<dir>/<subject>/<n>.json`, subjects in name order, files in numeric order. */
async function loadTree(dir: string, split: Split, limit: number | undefined): Promise<Problem[]> {
  const out: Problem[] = [];
  const subjects = (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  for (const subject of subjects) {
    const files = (await readdir(join(dir, subject))).filter((f) => f.endsWith('.json'));
    files.sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b));
    for (const name of files) {
      if (limit !== undefined && out.length >= limit) return out;
      const file = join(dir, subject, name);
      let json: unknown;
      try {
        json = JSON.parse(await readFile(file, 'utf8'));
      } catch (err) {
        throw new InputError(file, undefined, undefined, `not valid JSON (${(err as Error).message})`);
      }
      const parsed = RecordSchema.safeParse(json);
      if (!parsed.success) throw issueToInputError(file, undefined, parsed.error);
      out.push(toProblem(file, undefined, parsed.data, `math/${split}/${subject}/${name.replace(/\.json$/, '')}`));
    }
  }
  return out;
}
