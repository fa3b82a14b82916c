import type { Problem } from '@irpo/contracts';
import { InputError } from '@irpo/contracts';
import { z } from 'zod';
import { extractArcAnswer, normalizeArcAnswer, resolveArcLabel } from '../answers/arc-answer.js';
import { parseRecord, readRecords } from '../loaders/read-records.js';
import { dataPath, resolveDataFile } from '../loaders/resolve-data-file.js';
import { ARC_TEMPLATE, renderTemplate } from '../prompts/templates.js';
import type { LoadOptions, Split, Task } from '../task.js';

export interface ArcOptions {
  /** An ARC file or a directory with `ARC-Challenge-{Train,Dev,Test}.jsonl` or HF `<split>.jsonl`/parquet. */
  path?: string;
  /** Prompt template with `{question}` and `{choices}` (default: the paper's zero-shot prompt). */
  template?: string;
}

/** The original AI2 layout and the Hugging Face export (parallel label/text lists) alike. */
const RecordSchema = z.union([
  z.object({
    id: z.string(),
    question: z.object({ stem: z.string().min(1), choices: z.array(z.object({ text: z.string(), label: z.string().min(1) })).min(2) }),
    answerKey: z.string().min(1),
  }),
  z.object({
    id: z.string(),
    question: z.string().min(1),
    choices: z.object({ text: z.array(z.string()).min(2), label: z.array(z.string().min(1)).min(2) }),
    answerKey: z.string().min(1),
  }),
]);

const FILES: Record<Split, string[]> = {
  train: [
    'ARC-Challenge-Train.jsonl',
    'ARC-Challenge/ARC-Challenge-Train.jsonl',
    'train.jsonl',
    'train.json',
    'train.parquet',
    'ARC-Challenge/train-00000-of-00001.parquet',
  ],
  dev: [
    'ARC-Challenge-Dev.jsonl',
    'ARC-Challenge/ARC-Challenge-Dev.jsonl',
    'validation.jsonl',
    'dev.jsonl',
    'validation.json',
    'validation.parquet',
    'ARC-Challenge/validation-00000-of-00001.parquet',
  ],
  test: [
    'ARC-Challenge-Test.jsonl',
    'ARC-Challenge/ARC-Challenge-Test.jsonl',
    'test.jsonl',
    'test.json',
    'test.parquet',
    'ARC-Challenge/test-00000-of-00001.parquet',
  ],
};

/** ARC-Challenge (Clark et al. 2018): multiple choice; the gold label maps through choices[].label. */
export class ArcTask implements Task {
  readonly name = 'arc';
  readonly stop = ['\nQuestion:', '\n\n\n'];

  constructor(readonly options: ArcOptions = {}) {}

  async load(split: Split, options: LoadOptions = {}): Promise<Problem[]> {
    const root = dataPath('arc', options.path, this.options.path, 'arc');
    const file = resolveDataFile(root, FILES[split]);
    const out: Problem[] = [];
    for await (const record of readRecords(file)) {
      if (options.limit !== undefined && out.length >= options.limit) break;
      const r = parseRecord(file, record, RecordSchema);
      const question = typeof r.question === 'string' ? r.question : r.question.stem;
      let choices: { label: string; text: string }[];
      if (typeof r.question === 'string') {
        const c = (r as { choices: { text: string[]; label: string[] } }).choices;
        if (c.text.length !== c.label.length) throw new InputError(file, record.line, 'choices', 'label and text lists differ in length');
        choices = c.label.map((label, i) => ({ label, text: c.text[i] }));
      } else choices = r.question.choices.map((c) => ({ label: c.label, text: c.text }));
      if (!choices.some((c) => c.label === r.answerKey)) {
        throw new InputError(
          file,
          record.line,
          'answerKey',
          `"${r.answerKey}" is not one of the labels ${choices.map((c) => c.label).join(',')}`,
        );
      }
      out.push({
        v: 1,
        id: `arc/${split}/${r.id}`,
        question,
        answer: r.answerKey,
        choices,
        meta: { labels: /^\d/.test(choices[0].label) ? 'numeric' : 'letter', options: choices.length },
      });
    }
    return out;
  }

  prompt(problem: Problem): string {
    return renderTemplate(this.options.template ?? ARC_TEMPLATE, problem);
  }

  extractAnswer(completion: string): string | null {
    return extractArcAnswer(completion);
  }

  isCorrect(answer: string | null, problem: Problem): boolean {
    return resolveArcLabel(answer, problem.choices ?? []) === problem.answer;
  }

  normalizeAnswer(answer: string): string {
    const a = normalizeArcAnswer(answer);
    return /^[A-H1-8]$/.test(a) ? a : a.toLowerCase();
  }

  goldCompletion(): string | undefined {
    return undefined;
  }
}
