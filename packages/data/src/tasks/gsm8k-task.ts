import type { Problem } from '@irpo/contracts';
import { InputError } from '@irpo/contracts';
import { z } from 'zod';
import { extractGsm8kAnswer, gsm8kEquiv, gsm8kGoldAnswer, type Gsm8kExtraction } from '../answers/gsm8k-answer.js';
import { answerValue } from '../answers/numeric-answer.js';
import { parseRecord, readRecords } from '../loaders/read-records.js';
import { dataPath, resolveDataFile } from '../loaders/resolve-data-file.js';
import { GSM8K_TEMPLATE, renderTemplate } from '../prompts/templates.js';
import type { LoadOptions, Split, Task } from '../task.js';

export interface Gsm8kOptions {
  /** A GSM8K file (jsonl/json/parquet) or a directory with `<split>.jsonl` or HF `main/<split>-*.parquet`. */
  path?: string;
  /** How completions are read (default: the paper's "Final answer:" line). */
  extraction?: Gsm8kExtraction;
  /** Prompt template with `{question}` (default: the paper's zero-shot prompt). */
  template?: string;
}

const RecordSchema = z.object({ question: z.string().min(1), answer: z.string().min(1) });

/** GSM8K (Cobbe et al. 2021): grade-school word problems; gold after "#### ". */
export class Gsm8kTask implements Task {
  readonly name = 'gsm8k';
  readonly stop = ['\nQuestion:', '\n\n\n'];

  constructor(readonly options: Gsm8kOptions = {}) {}

  async load(split: Split, options: LoadOptions = {}): Promise<Problem[]> {
    if (split === 'dev') throw new InputError('gsm8k', undefined, 'split', 'GSM8K has only train and test splits');
    const root = dataPath('gsm8k', options.path, this.options.path, 'gsm8k');
    const file = resolveDataFile(root, [
      `${split}.jsonl`,
      `${split}.json`,
      `${split}.parquet`,
      `${split}-00000-of-00001.parquet`,
      `main/${split}-00000-of-00001.parquet`,
      `grade_school_math/data/${split}.jsonl`,
    ]);
    const out: Problem[] = [];
    for await (const record of readRecords(file)) {
      if (options.limit !== undefined && out.length >= options.limit) break;
      const r = parseRecord(file, record, RecordSchema);
      const gold = gsm8kGoldAnswer(r.answer);
      if (gold === null) throw new InputError(file, record.line, 'answer', 'no "#### <number>" final answer line');
      out.push({ v: 1, id: `gsm8k/${split}/${out.length}`, question: r.question, answer: gold, solution: r.answer });
    }
    return out;
  }

  prompt(problem: Problem): string {
    return renderTemplate(this.options.template ?? GSM8K_TEMPLATE, problem);
  }

  extractAnswer(completion: string): string | null {
    return extractGsm8kAnswer(completion, this.options.extraction ?? 'final');
  }

  isCorrect(answer: string | null, problem: Problem): boolean {
    return gsm8kEquiv(answer, problem.answer);
  }

  /** The answer's value ("1,000" and "1000.0" vote together); text without a number as written. */
  normalizeAnswer(answer: string): string {
    return answerValue(answer) ?? answer.trim();
  }

  /** The dataset solution without `<<48/2=24>>` calculator notes, ending "Final answer: X". */
  goldCompletion(problem: Problem): string | undefined {
    if (!problem.solution) return undefined;
    const body = problem.solution.replace(/<<[^>]*>>/g, '');
    const at = body.lastIndexOf('####');
    const steps = (at < 0 ? body : body.slice(0, at)).trimEnd();
    return ` ${steps}\nFinal answer: ${problem.answer}`;
  }
}
