import { describe, expect, it } from 'vitest';
import { runCharts } from './run-charts.js';
import type { RunData } from './run-data.js';

/** The data rows of a chart's first layer. */
const rowsOf = (chart: ReturnType<typeof runCharts>[number]) =>
  (chart.spec as unknown as { layer: { data: { values: { series: string; value: number }[] } }[] }).layer[0]!.data.values;

describe("runCharts with a launched trainer's partial train log", () => {
  it('plots only the metrics that were logged: no zeros for absent ones, no empty charts', () => {
    const run: RunData = {
      dir: '/r',
      name: 'r',
      iterations: [
        {
          iteration: 1,
          trainLog: [
            { v: 1, step: 1, loss: 0.69, 'logps/chosen': -12 },
            { v: 1, step: 2, loss: 0.6 },
          ],
        },
      ],
    };
    const charts = runCharts(run);
    expect(charts.map((c) => c.id)).toEqual(['train-logps', 'train-loss']); // no margin was logged
    expect(rowsOf(charts[0]!)).toEqual([{ step: 1, iteration: 1, series: 'chosen', value: -12 }]);
    expect(rowsOf(charts[1]!).map((r) => [r.series, r.value])).toEqual([
      ['loss', 0.69],
      ['loss', 0.6],
    ]);
  });
});
