import type { Sample } from '@irpo/contracts';

/**
 * Samples grouped by problem id, each group sorted by sample index. A repeated
 * (problemId, index) is an error: it means two runs were appended into one file.
 */
export function groupByProblem(samples: readonly Sample[]): Map<string, Sample[]> {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const g = groups.get(s.problemId);
    if (g) g.push(s);
    else groups.set(s.problemId, [s]);
  }
  for (const [id, g] of groups) {
    g.sort((a, b) => a.index - b.index);
    for (let i = 1; i < g.length; i++) {
      if (g[i]!.index === g[i - 1]!.index) throw new Error(`problem ${id}: sample index ${g[i]!.index} appears twice`);
    }
  }
  return groups;
}
