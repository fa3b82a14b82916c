import type { EvalReport } from '@irpo/contracts';
import { formatAccuracy, markdownTable } from './format.js';

/** A human summary of one eval.json: metrics, then the breakdown. */
export function evalMarkdown(report: EvalReport, notes: readonly string[] = []): string {
  const rows: string[][] = [['greedy', formatAccuracy(report.greedy), `${report.greedy.correct}/${report.greedy.total}`]];
  for (const [k, a] of Object.entries(report.maj)) rows.push([`maj@${k}`, formatAccuracy(a), `${a.correct}/${a.total}`]);
  for (const [k, p] of Object.entries(report.pass)) rows.push([`pass@${k}`, `${(p * 100).toFixed(1)}%`, '–']);
  const out = [
    `# Evaluation: ${report.model} on ${report.task} (${report.split}, ${report.problems} problems)`,
    '',
    ...notes.map((n) => `- ${n}`),
    ...(notes.length ? [''] : []),
    markdownTable(['Metric', 'Accuracy [95% CI]', 'Correct'], rows),
  ];
  const groups = Object.entries(report.breakdown);
  if (groups.length) {
    out.push(
      '',
      '## Greedy accuracy by group',
      '',
      markdownTable(
        ['Group', 'Accuracy [95% CI]', 'Correct'],
        groups.map(([g, a]) => [g, formatAccuracy(a), `${a.correct}/${a.total}`]),
      ),
    );
  }
  out.push('', `_Created ${report.createdAt}._`);
  return out.join('\n') + '\n';
}
