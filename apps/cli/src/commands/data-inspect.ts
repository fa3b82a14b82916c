import type { Problem } from '@irpo/contracts';
import { getTask, SPLITS, TASK_NAMES, type Split, type Task } from '@irpo/data';
import type { Argv, CommandModule } from 'yargs';
import { createOutput } from '../output.js';

interface InspectArgs {
  task: string;
  split: Split;
  path?: string;
  limit?: number;
  model?: string;
  promptFormat: PromptFormatSetting;
  json: boolean;
}

type PromptFormatSetting = 'auto' | 'chat' | 'plain';

/** The sample prompt as one model reads it (`--model`). */
export interface ModelPrompt {
  model: string;
  /** What was asked (--prompt-format, as prompt.format in a run config). */
  setting: PromptFormatSetting;
  /** What was chosen, and why. */
  format: 'chat' | 'plain';
  reason: string;
  /** The text the model reads: the chat template's user turn and generation prompt, or the prompt as written. */
  text: string;
  /** Its token count, encoded as sampling and training encode it. */
  tokens: number;
  /** Whether the tokenizer added its special tokens (BOS) when encoding it. */
  addSpecialTokens: boolean;
}

export interface InspectReport {
  task: string;
  split: Split;
  /** Problems per split; null where the split is absent from the data. */
  counts: Partial<Record<Split, number | null>>;
  samplePrompt: string | null;
  sampleGold: string | null;
  /** With --model: samplePrompt as that model reads it. */
  modelPrompt?: ModelPrompt;
  answers: {
    distinct: number;
    top: Array<{ answer: string; count: number }>;
    meanPromptChars: number;
    maxPromptChars: number;
    meanGoldChars: number | null;
    /** Gold completions whose extracted answer the checker accepts (should equal `withGold`). */
    goldSelfCheck: { withGold: number; judgedCorrect: number };
  };
}

/** Counts, one rendered prompt and answer statistics of a task split. */
export async function inspectTask(task: Task, split: Split, limit?: number): Promise<InspectReport> {
  const counts: Partial<Record<Split, number | null>> = {};
  let problems: Problem[] = [];
  for (const s of SPLITS) {
    try {
      const ps = await task.load(s, { limit });
      counts[s] = ps.length;
      if (s === split) problems = ps;
    } catch (err) {
      if (s === split) throw err;
      counts[s] = null;
    }
  }
  const freq = new Map<string, number>();
  let promptChars = 0;
  let maxPrompt = 0;
  let goldChars = 0;
  let withGold = 0;
  let judged = 0;
  for (const p of problems) {
    const key = task.normalizeAnswer(p.answer);
    freq.set(key, (freq.get(key) ?? 0) + 1);
    const n = task.prompt(p).length;
    promptChars += n;
    maxPrompt = Math.max(maxPrompt, n);
    const gold = task.goldCompletion(p);
    if (gold !== undefined) {
      withGold++;
      goldChars += gold.length;
      if (task.isCorrect(task.extractAnswer(gold), p)) judged++;
    }
  }
  const top = [...freq.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5);
  const first = problems[0];
  return {
    task: task.name,
    split,
    counts,
    samplePrompt: first ? task.prompt(first) : null,
    sampleGold: first ? (task.goldCompletion(first) ?? null) : null,
    answers: {
      distinct: freq.size,
      top: top.map(([answer, count]) => ({ answer, count })),
      meanPromptChars: problems.length ? Math.round(promptChars / problems.length) : 0,
      maxPromptChars: maxPrompt,
      meanGoldChars: withGold ? Math.round(goldChars / withGold) : null,
      goldSelfCheck: { withGold, judgedCorrect: judged },
    },
  };
}

/** The prompt as the model in `dir` reads it under `setting`: @irpo/model's promptFormat, as the loop uses it. */
export async function modelPromptOf(dir: string, setting: PromptFormatSetting, prompt: string): Promise<ModelPrompt> {
  const { encodePrompt, loadTokenizer, promptFormat } = await import('@irpo/model');
  const tokenizer = await loadTokenizer(dir);
  const format = promptFormat(tokenizer, setting);
  const text = format.render(prompt);
  return {
    model: dir,
    setting,
    format: format.kind,
    reason: format.reason,
    text,
    tokens: encodePrompt(tokenizer, format, prompt).length,
    addSpecialTokens: format.addSpecialTokens,
  };
}

function human(r: InspectReport): string {
  const counts = Object.entries(r.counts)
    .map(([s, n]) => `${s} ${n ?? '-'}`)
    .join(', ');
  const a = r.answers;
  return [
    `task ${r.task} (${counts})`,
    `split ${r.split}: ${a.distinct} distinct answers; most common: ${a.top.map((t) => `${t.answer} (${t.count})`).join(', ')}`,
    `prompt chars: mean ${a.meanPromptChars}, max ${a.maxPromptChars}; gold completion chars: mean ${a.meanGoldChars ?? '-'}`,
    `gold self-check: ${a.goldSelfCheck.judgedCorrect}/${a.goldSelfCheck.withGold} gold completions judged correct`,
    '--- sample prompt ---',
    r.samplePrompt ?? '(none)',
    ...(r.modelPrompt
      ? [
          `--- as ${r.modelPrompt.model} reads it: ${r.modelPrompt.format} (${r.modelPrompt.reason}), ${r.modelPrompt.tokens} tokens${r.modelPrompt.addSpecialTokens ? ' with the tokenizer’s special tokens' : ''} ---`,
          r.modelPrompt.text,
        ]
      : []),
    ...(r.sampleGold ? ['--- its gold completion ---', r.sampleGold] : []),
  ].join('\n');
}

const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect <task>',
  describe: 'Counts, a sample rendered prompt and answer statistics of a task',
  builder: (y) =>
    y
      .positional('task', { choices: [...TASK_NAMES, 'math500'], type: 'string', demandOption: true, describe: 'Task name' })
      .option('split', { choices: SPLITS, default: 'test' as Split, describe: 'Split to sample and summarise' })
      .option('path', { type: 'string', describe: 'Data file or directory (gsm8k, math, arc)' })
      .option('limit', { type: 'number', describe: 'Read at most this many problems per split' })
      .option('model', { type: 'string', describe: 'Model folder: also show the sample prompt exactly as this model reads it' })
      .option('prompt-format', {
        choices: ['auto', 'chat', 'plain'] as const,
        default: 'auto' as PromptFormatSetting,
        describe: "With --model, as prompt.format: auto renders the model's chat template when it has one",
      }) as unknown as Argv<InspectArgs>,
  handler: async (args) => {
    const task = getTask(args.task, { path: args.path });
    const report = await inspectTask(task, args.split, args.limit);
    if (args.model !== undefined && report.samplePrompt !== null)
      report.modelPrompt = await modelPromptOf(args.model, args.promptFormat, report.samplePrompt);
    createOutput(args.json).result(report, (v) => human(v as InspectReport));
  },
};

/** `irpo data <command>`: look at the tasks' data. */
export const dataCommand: CommandModule<object, object> = {
  command: 'data <command>',
  describe: 'Inspect task data (arith, gsm8k, math, arc)',
  builder: (y) => y.command(inspectCommand as CommandModule<object, InspectArgs>).demandCommand(1),
  handler: () => undefined,
};
