import { join } from 'node:path';
import { writeFileAtomic } from '@irpo/contracts';
import { escapeHtml, htmlDocument, htmlTable, markdownTable } from './format.js';
import { iterationTable } from './iteration-table.js';
import { renderSvg } from './render-svg.js';
import { overviewSpec, runCharts } from './run-charts.js';
import { readRunData, type RunData } from './run-data.js';

export interface RunReport {
  run: RunData;
  /** Paths written, relative to the run directory. */
  files: string[];
  markdown: string;
}

/**
 * Writes the report of a run directory: report.md (table and linked charts), report.svg (all
 * charts in one picture), report-<chart>.svg (each chart) and report.html (self-contained:
 * the table and the charts inline). A run still in progress gets a report of what exists.
 */
export async function writeRunReport(runDir: string): Promise<RunReport> {
  const run = await readRunData(runDir);
  const charts = runCharts(run);
  const svgs = await Promise.all(charts.map((c) => renderSvg(c.spec)));
  const overview = await renderSvg(overviewSpec(run, charts));
  const table = iterationTable(run);
  const summary = summaryLines(run);
  const dev = devCurve(run);

  const md = [
    `# irpo run report: ${run.name}`,
    '',
    ...summary.map((l) => `- ${l}`),
    '',
    '## Per iteration',
    '',
    table.rows.length ? markdownTable(table.header, table.rows) : '_No iterations yet._',
    '',
    ...(dev ? ['## Dev accuracy by training step', '', dev.note, '', markdownTable(dev.header, dev.rows), ''] : []),
    '## Charts',
    '',
    '![overview](report.svg)',
    '',
    ...charts.flatMap((c) => [`### ${c.title}`, '', `![${c.id}](report-${c.id}.svg)`, '']),
  ].join('\n');

  const html = htmlDocument(
    `irpo run report: ${run.name}`,
    `<h1>irpo run report: ${escapeHtml(run.name)}</h1>
<ul>${summary.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>
<h2>Per iteration</h2>
${table.rows.length ? htmlTable(table.header, table.rows) : '<p><em>No iterations yet.</em></p>'}
${dev ? `<h2>Dev accuracy by training step</h2>\n<p>${escapeHtml(dev.note)}</p>\n${htmlTable(dev.header, dev.rows)}` : ''}
<h2>Charts</h2>
<div class="charts">
${charts.length ? charts.map((c, i) => `<figure>${stripXmlDecl(svgs[i]!)}<figcaption>${escapeHtml(c.title)}</figcaption></figure>`).join('\n') : stripXmlDecl(overview)}
</div>`,
    `.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; border: 1px solid #eee; }
figcaption { font-size: 12px; color: #555; padding: 0 12px 8px; }`,
  );

  const files: [string, string][] = [
    ['report.svg', overview],
    ...charts.map((c, i): [string, string] => [`report-${c.id}.svg`, svgs[i]!]),
    ['report.md', md + '\n'],
    ['report.html', html],
  ];
  for (const [name, text] of files) await writeFileAtomic(join(runDir, name), text);
  return { run, files: files.map(([n]) => n), markdown: md };
}

function summaryLines(run: RunData): string[] {
  const evals = run.iterations.filter((it) => it.eval);
  const lines = [`Run directory: ${run.dir}`];
  if (run.loss) lines.push(`Training: ${run.loss}`);
  lines.push(`Iterations found: ${run.iterations.map((it) => it.iteration).join(', ') || 'none'}`);
  const first = evals[0]?.eval;
  const last = evals.at(-1);
  if (first && last?.eval) {
    lines.push(`Task: ${first.task} (${first.split} split, ${first.problems} problems)`);
    lines.push(
      `Greedy accuracy: ${(first.greedy.accuracy * 100).toFixed(1)}% at iteration ${evals[0]!.iteration} → ${(last.eval.greedy.accuracy * 100).toFixed(1)}% at iteration ${last.iteration}`,
    );
  }
  const pending = run.iterations.filter((it) => !it.eval).map((it) => it.iteration);
  if (pending.length) lines.push(`Not yet evaluated: iteration ${pending.join(', ')}`);
  if (run.stop) lines.push(`Stopped after iteration ${run.stop.afterIteration}: ${run.stop.reason}`);
  return lines;
}

/**
 * The dev-accuracy curve of each iteration (iter-t/dev.json): one row per scored checkpoint, the
 * one kept as M(t) marked. Undefined when the run has no dev split.
 */
function devCurve(run: RunData): { note: string; header: string[]; rows: string[][] } | undefined {
  const withDev = run.iterations.filter((it) => it.dev);
  if (withDev.length === 0) return undefined;
  const rows = withDev.flatMap((it) =>
    it.dev!.checkpoints.map((c) => [
      String(it.iteration),
      String(c.step),
      `${(100 * c.accuracy).toFixed(1)}%`,
      c.step === it.dev!.chosen ? (it.iteration === 0 ? 'M0' : `M(${it.iteration})`) : '',
    ]),
  );
  const problems = withDev[0]!.dev!.problems;
  return {
    note: `Greedy accuracy on the ${problems} dev problems (held out: never sampled, paired or trained on); each iteration keeps its best checkpoint, the earliest on ties.`,
    header: ['iteration', 'step', 'dev accuracy', 'kept'],
    rows,
  };
}

/** An SVG string without an XML declaration, for inlining in HTML. */
function stripXmlDecl(svg: string): string {
  return svg.replace(/^<\?xml[^>]*>\s*/, '');
}
