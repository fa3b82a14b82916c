import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic, type Accuracy, type DevSelection } from '@irpo/contracts';
import { escapeHtml, fixed, formatAccuracy, htmlDocument, htmlTable, markdownTable, pct } from './format.js';
import { driftOf, type LogpDrift } from './logp-drift.js';
import { readRunData } from './run-data.js';

/** One run's line of the comparison. */
export interface RunComparisonRow {
  run: string;
  dir: string;
  /** Training loss from run.json (`dpo-nll`, `dpo`, ...), when known. */
  loss: string | null;
  /** Last iteration with an eval.json. */
  finalIteration: number | null;
  greedy: Accuracy | null;
  /** maj@k of the final iteration, keyed by k. */
  maj: Record<string, Accuracy>;
  /** Greedy accuracy by iteration number (null where not evaluated). */
  accuracyByIteration: (number | null)[];
  /** logps/chosen and logps/rejected of the last training step logged. */
  lastLogpChosen: number | null;
  lastLogpRejected: number | null;
}

export interface RunComparison {
  rows: RunComparisonRow[];
  markdown: string;
}

/**
 * Compares runs (e.g. DPO+NLL vs DPO vs SFT on chosen) from their run directories: final
 * greedy accuracy and maj@k, accuracy per iteration, and the last chosen/rejected log-probs
 * (which show plain DPO pushing the chosen log-prob down, the paper's Fig. 3).
 */
export async function compareRuns(runDirs: readonly string[]): Promise<RunComparison> {
  const rows: RunComparisonRow[] = [];
  for (const dir of runDirs) {
    const run = await readRunData(dir);
    const evaluated = run.iterations.filter((it) => it.eval);
    const final = evaluated.at(-1);
    const maxIter = run.iterations.reduce((m, it) => Math.max(m, it.iteration), -1);
    const accuracyByIteration: (number | null)[] = Array.from({ length: maxIter + 1 }, () => null);
    for (const it of evaluated) accuracyByIteration[it.iteration] = it.eval!.greedy.accuracy;
    const lastStep = run.iterations
      .filter((it) => it.trainLog.length > 0)
      .at(-1)
      ?.trainLog.at(-1);
    rows.push({
      run: run.name,
      dir,
      loss: run.loss ?? null,
      finalIteration: final?.iteration ?? null,
      greedy: final?.eval?.greedy ?? null,
      maj: final?.eval?.maj ?? {},
      accuracyByIteration,
      lastLogpChosen: lastStep?.['logps/chosen'] ?? null,
      lastLogpRejected: lastStep?.['logps/rejected'] ?? null,
    });
  }
  return { rows, markdown: comparisonMarkdown(rows) };
}

function comparisonMarkdown(rows: RunComparisonRow[]): string {
  const majKs = [...new Set(rows.flatMap((r) => Object.keys(r.maj)))].sort((a, b) => Number(a) - Number(b));
  const iters = rows.reduce((m, r) => Math.max(m, r.accuracyByIteration.length), 0);
  const header = [
    'Run',
    'Training',
    'Final iteration',
    'Greedy [95% CI]',
    ...majKs.map((k) => `maj@${k} [95% CI]`),
    ...Array.from({ length: iters }, (_, t) => `Iter ${t}`),
    'Last log-prob chosen',
    'Last log-prob rejected',
  ];
  const body = rows.map((r) => [
    r.run,
    r.loss ?? '–',
    r.finalIteration === null ? '–' : String(r.finalIteration),
    formatAccuracy(r.greedy ?? undefined),
    ...majKs.map((k) => formatAccuracy(r.maj[k])),
    ...Array.from({ length: iters }, (_, t) => {
      const a = r.accuracyByIteration[t];
      return a === null || a === undefined ? '–' : pct(a);
    }),
    fixed(r.lastLogpChosen ?? undefined),
    fixed(r.lastLogpRejected ?? undefined),
  ]);
  return markdownTable(header, body);
}

/** One method of a method comparison (the paper's Table 1): a run directory and which of its iterations are the method's. */
export interface MethodRun {
  /** Short id, like `irpo`, `dpo`, `star`. */
  method: string;
  /** What the rows are called, like "Iterative RPO (DPO+NLL)". */
  label: string;
  /** What the method trains on, and how, in words (listed under the table). */
  training: string;
  dir: string;
  /** Iterations to tabulate (one row each, '–' where not done yet); default: every iteration ≥ 1 found. */
  iterations?: readonly number[];
  /** The settings the method trained with (its resolved training block...), recorded in compare.json. */
  settings?: Record<string, unknown>;
}

/** One method × iteration line of a method comparison. */
export interface MethodRow {
  method: string;
  label: string;
  iteration: number;
  greedy: Accuracy | null;
  /** maj@k by k, when the eval computed it. */
  maj: Record<string, Accuracy>;
  /** What the iteration trained on: preference pairs (pairs.jsonl) or supervised examples (sft-examples.jsonl). */
  pairs: number | null;
  examples: number | null;
  /** Optimiser steps logged (train-log.jsonl or sft-log.jsonl). */
  steps: number | null;
  /** How log π(chosen) and log π(rejected) moved during the iteration's preference training; null without pairs. */
  drift: Omit<LogpDrift, 'run'> | null;
  /** With a dev split (dev.json): the step chosen as M(t) and its dev accuracy; null without one. */
  dev: { chosen: number; accuracy: number } | null;
}

export interface MethodComparison {
  rows: MethodRow[];
  header: string[];
  /** The table's cells as displayed, one array per row. */
  cells: string[][];
  markdown: string;
}

/**
 * One row per method × iteration from the methods' run directories: greedy accuracy and maj@k
 * with 95% Wilson intervals, the training data and steps, and, for methods trained on pairs,
 * the drift of the chosen and rejected log-probs over the iteration's training (the paper's
 * Fig. 3: without the NLL term the chosen log-probs fall too). Runs still in progress are fine.
 */
export async function compareMethods(methods: readonly MethodRun[]): Promise<MethodComparison> {
  const rows: MethodRow[] = [];
  for (const m of methods) {
    const run = await readRunData(m.dir);
    const byIteration = new Map(run.iterations.map((it) => [it.iteration, it]));
    const iterations = m.iterations ?? run.iterations.map((it) => it.iteration).filter((t) => t >= 1);
    for (const t of iterations) {
      const it = byIteration.get(t);
      const steps = it?.trainLog.length || it?.sftSteps || null;
      rows.push({
        method: m.method,
        label: m.label,
        iteration: t,
        greedy: it?.eval?.greedy ?? null,
        maj: it?.eval?.maj ?? {},
        pairs: it?.pairs ?? null,
        examples: it?.sftExamples ?? null,
        steps,
        drift: it ? driftOf(it.trainLog) : null,
        dev: devOf(it?.dev),
      });
    }
  }
  const majKs = [...new Set(rows.flatMap((r) => Object.keys(r.maj)))].sort((a, b) => Number(a) - Number(b));
  const withDev = rows.some((r) => r.dev !== null);
  const header = [
    'Method',
    'Iteration',
    'Trained on',
    'Steps',
    ...(withDev ? ['M(t) = step', 'Dev'] : []),
    'Greedy [95% CI]',
    ...majKs.map((k) => `maj@${k} [95% CI]`),
    'log π(chosen)',
    'log π(rejected)',
  ];
  const f = (x: number) => x.toFixed(2);
  const cells = rows.map((r) => [
    r.label,
    String(r.iteration),
    r.pairs !== null ? `${r.pairs} pairs` : r.examples !== null ? `${r.examples} examples` : '–',
    r.steps === null ? '–' : String(r.steps),
    ...(withDev ? [r.dev && r.iteration > 0 ? String(r.dev.chosen) : '–', r.dev ? `${(100 * r.dev.accuracy).toFixed(1)}%` : '–'] : []),
    formatAccuracy(r.greedy ?? undefined),
    ...majKs.map((k) => formatAccuracy(r.maj[k])),
    r.drift ? `${f(r.drift.chosenStart)} → ${f(r.drift.chosenEnd)}` : '–',
    r.drift ? `${f(r.drift.rejectedStart)} → ${f(r.drift.rejectedEnd)}` : '–',
  ]);
  return { rows, header, cells, markdown: markdownTable(header, cells) };
}

/** The chosen checkpoint of a dev selection and its accuracy. */
function devOf(dev: DevSelection | undefined): MethodRow['dev'] {
  if (!dev) return null;
  const chosen = dev.checkpoints.find((c) => c.step === dev.chosen);
  return chosen ? { chosen: dev.chosen, accuracy: chosen.accuracy } : null;
}

/** The note under a method comparison that says what the log π columns are. */
const DRIFT_NOTE =
  "log π columns: mean log-probability of the chosen and rejected answers over the first → last quarter of the iteration's preference training steps; – for methods without pairs.";

/**
 * Writes a method comparison into `outDir`: compare.md, compare.html (self-contained, every text
 * escaped) and compare.json (the methods and rows). `notes` are lines shown under the table.
 */
export async function writeComparison(
  outDir: string,
  methods: readonly MethodRun[],
  o: { title?: string; notes?: readonly string[] } = {},
): Promise<MethodComparison & { files: string[] }> {
  const c = await compareMethods(methods);
  const title = o.title ?? 'irpo method comparison';
  const notes = [...(o.notes ?? []), DRIFT_NOTE];
  const md = [
    `# ${title}`,
    '',
    c.markdown,
    '',
    ...notes.map((n) => `- ${n}`),
    '',
    'Methods:',
    '',
    ...methods.map((m) => `- **${m.label}** (\`${m.method}\`, ${m.dir}): ${m.training}`),
    '',
  ].join('\n');
  const html = htmlDocument(
    title,
    `<h1>${escapeHtml(title)}</h1>
${htmlTable(c.header, c.cells)}
<ul>${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>
<h2>Methods</h2>
<dl>${methods.map((m) => `<dt>${escapeHtml(m.label)} (<code>${escapeHtml(m.method)}</code>, ${escapeHtml(m.dir)})</dt><dd>${escapeHtml(m.training)}</dd>`).join('\n')}</dl>`,
  );
  await writeFileAtomic(join(outDir, 'compare.md'), md);
  await writeFileAtomic(join(outDir, 'compare.html'), html);
  await writeJsonAtomic(join(outDir, 'compare.json'), { methods, rows: c.rows });
  return { ...c, markdown: md, files: ['compare.md', 'compare.html', 'compare.json'] };
}
