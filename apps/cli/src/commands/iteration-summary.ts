import type { EvalReport } from '@irpo/contracts';

/** The per-iteration accuracy table printed at the end of a run. */
export function printIterationTable(evals: readonly EvalReport[], reportFile: string, title = 'Greedy accuracy on the test split'): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const rows = evals.map((e, t) => {
    const maj = Object.entries(e.maj)
      .map(([k, a]) => `maj@${k} ${pct(a.accuracy)}`)
      .join(' ');
    return `  ${t === 0 ? 'M0' : `M${t}`.padEnd(2)}   ${pct(e.greedy.accuracy).padStart(6)}  [${pct(e.greedy.ci95[0])}, ${pct(e.greedy.ci95[1])}]  ${e.greedy.correct}/${e.greedy.total}${maj ? `  ${maj}` : ''}`;
  });
  return [``, title, `  model  greedy  [95% CI]            correct`, ...rows, ``, `Report: ${reportFile}`].join('\n');
}
