import type { TrainLogRecord } from '@irpo/contracts';
import type { TopLevelSpec } from 'vega-lite';
import type { RunData } from './run-data.js';

/** One chart of a run report: a file-name stem, a caption, and its Vega-Lite spec. */
export interface RunChart {
  id: 'accuracy' | 'pairs' | 'train-logps' | 'train-margin' | 'train-loss';
  title: string;
  spec: TopLevelSpec;
}

const WIDTH = 360;
const HEIGHT = 220;
/** Chosen in green and rejected in red, as in the paper's Fig. 3; the rest a colour-blind-safe set. */
const PALETTE = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02'];

/** A training step continued across iterations, so iteration t's curve follows t-1's. */
export interface GlobalStep {
  step: number;
  iteration: number;
}

/** The charts a run supports so far: those without data yet are left out. */
export function runCharts(run: RunData): RunChart[] {
  const charts: RunChart[] = [];
  const evals = run.iterations.filter((it) => it.eval);
  if (evals.length > 0) charts.push(accuracyChart(run));
  if (run.iterations.some((it) => it.pairs !== undefined)) charts.push(pairsChart(run));
  if (run.iterations.some((it) => it.trainLog.length > 0)) charts.push(...trainingCharts(run));
  return charts;
}

function accuracyChart(run: RunData): RunChart {
  const rows: { iteration: number; metric: string; accuracy: number; lo: number; hi: number }[] = [];
  for (const it of run.iterations) {
    if (!it.eval) continue;
    const e = it.eval;
    rows.push({ iteration: it.iteration, metric: 'greedy', accuracy: e.greedy.accuracy, lo: e.greedy.ci95[0], hi: e.greedy.ci95[1] });
    for (const [k, a] of Object.entries(e.maj))
      rows.push({ iteration: it.iteration, metric: `maj@${k}`, accuracy: a.accuracy, lo: a.ci95[0], hi: a.ci95[1] });
  }
  const split = run.iterations.find((it) => it.eval)?.eval?.split ?? 'test';
  const x = {
    field: 'iteration',
    type: 'quantitative',
    title: 'Iteration (0 = initial model)',
    axis: { tickMinStep: 1, format: 'd' },
  } as const;
  const color = { field: 'metric', type: 'nominal', title: 'Metric', scale: { range: PALETTE }, legend: { symbolOpacity: 1 } } as const;
  return {
    id: 'accuracy',
    title: `Accuracy per iteration (${split} split, 95% Wilson intervals)`,
    spec: {
      width: WIDTH,
      height: HEIGHT,
      title: `Accuracy per iteration (${split})`,
      data: { values: rows },
      encoding: { x, color },
      layer: [
        {
          mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.5 },
          encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
        },
        {
          mark: { type: 'line', point: { size: 60, filled: true } },
          encoding: {
            y: { field: 'accuracy', type: 'quantitative', title: 'Accuracy (%)', axis: { format: '.0%' }, scale: { domain: [0, 1] } },
          },
        },
      ],
    },
  };
}

function pairsChart(run: RunData): RunChart {
  const rows = run.iterations
    .filter((it) => it.pairs !== undefined)
    .map((it) => ({ iteration: `iter ${it.iteration}`, pairs: it.pairs!, series: 'pairs' }));
  return {
    id: 'pairs',
    title: 'Preference pairs built per iteration',
    spec: {
      width: WIDTH,
      height: HEIGHT,
      title: 'Preference pairs per iteration',
      data: { values: rows },
      layer: [
        {
          mark: { type: 'bar', color: PALETTE[2] },
          encoding: {
            x: { field: 'iteration', type: 'ordinal', title: 'Iteration', sort: null, axis: { labelAngle: 0 } },
            y: { field: 'pairs', type: 'quantitative', title: 'Pairs (count)' },
            color: { field: 'series', type: 'nominal', title: 'Series', scale: { range: [PALETTE[2]!] } },
          },
        },
        {
          mark: { type: 'text', dy: -8, fontSize: 11 },
          encoding: {
            x: { field: 'iteration', type: 'ordinal', sort: null },
            y: { field: 'pairs', type: 'quantitative' },
            text: { field: 'pairs' },
          },
        },
      ],
    },
  };
}

/** Steps numbered 1.. across iterations, and where each iteration after the first begins. */
export function globalSteps(run: RunData): { points: (GlobalStep & { index: number })[]; boundaries: GlobalStep[] } {
  const points: (GlobalStep & { index: number })[] = [];
  const boundaries: GlobalStep[] = [];
  let offset = 0;
  for (const it of run.iterations) {
    if (it.trainLog.length === 0) continue;
    if (offset > 0) boundaries.push({ step: offset + 0.5, iteration: it.iteration });
    it.trainLog.forEach((_, index) => points.push({ step: offset + index + 1, iteration: it.iteration, index }));
    offset += it.trainLog.length;
  }
  return { points, boundaries };
}

function trainingCharts(run: RunData): RunChart[] {
  const { points, boundaries } = globalSteps(run);
  const byIter = new Map(run.iterations.map((it) => [it.iteration, it.trainLog]));
  // A metric a launched trainer did not log is undefined: no point, and a series with no points is left out.
  type Getter = (m: TrainLogRecord) => number | undefined;
  const chart = (id: RunChart['id'], title: string, yTitle: string, all: Record<string, Getter>, palette: string[]): RunChart[] => {
    const rows = points.flatMap((p) => {
      const m = byIter.get(p.iteration)![p.index]!;
      return Object.entries(all).flatMap(([name, get]) => {
        const value = get(m);
        return value === undefined ? [] : [{ step: p.step, iteration: p.iteration, series: name, value }];
      });
    });
    const names = Object.keys(all);
    const kept = names.filter((name) => rows.some((r) => r.series === name));
    if (kept.length === 0) return [];
    const colors = kept.map((name) => palette[names.indexOf(name)]!);
    const x = {
      field: 'step',
      type: 'quantitative',
      title: 'Training step (continued across iterations)',
      axis: { tickMinStep: 1, format: 'd' },
    } as const;
    return [
      {
        id,
        title,
        spec: {
          width: WIDTH,
          height: HEIGHT,
          title,
          layer: [
            {
              data: { values: rows },
              mark: { type: 'line', strokeWidth: 2, point: points.length <= 120 ? { size: 18 } : false },
              encoding: {
                x,
                y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false } },
                color: { field: 'series', type: 'nominal', title: 'Series', scale: { domain: kept, range: colors } },
              },
            },
            ...boundaryLayers(boundaries),
          ],
        } as TopLevelSpec,
      },
    ];
  };
  return [
    ...chart(
      'train-logps',
      'Chosen and rejected log-probs (cf. Fig. 3)',
      'Sequence log-prob (nats)',
      { chosen: (m) => m['logps/chosen'], rejected: (m) => m['logps/rejected'] },
      [PALETTE[0]!, PALETTE[1]!],
    ),
    ...chart('train-margin', 'Reward margin', 'Reward margin (nats)', { margin: (m) => m['rewards/margins'] }, [PALETTE[2]!]),
    ...chart('train-loss', 'Training loss', 'Loss (nats)', { loss: (m) => m.loss, dpo: (m) => m.dpo, nll: (m) => m.nll }, [
      PALETTE[3]!,
      PALETTE[2]!,
      PALETTE[4]!,
    ]),
  ];
}

/** Dashed rules where each later iteration's training starts, labelled `iter t →`. */
function boundaryLayers(boundaries: GlobalStep[]): object[] {
  if (boundaries.length === 0) return [];
  const x = { field: 'step', type: 'quantitative' } as const;
  return [
    { data: { values: boundaries }, mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { x } },
    {
      data: { values: boundaries.map((b) => ({ ...b, label: `iter ${b.iteration} →` })) },
      mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, y: 2, fontSize: 10, color: '#555' },
      encoding: { x, text: { field: 'label' } },
    },
  ];
}

/** Every chart of the run in one picture: report.svg. */
export function overviewSpec(run: RunData, charts: RunChart[]): TopLevelSpec {
  if (charts.length === 0) {
    return {
      width: WIDTH,
      height: 60,
      title: `${run.name}: no results yet`,
      data: { values: [{ text: 'No eval.json, pairs.jsonl or train-log.jsonl found yet.' }] },
      mark: { type: 'text', fontSize: 13 },
      encoding: { text: { field: 'text' } },
    };
  }
  const specs = charts.map((c) => {
    const { $schema: _s, ...rest } = c.spec as TopLevelSpec & { $schema?: string };
    return rest;
  });
  const rows = [];
  // Each chart keeps its own colours and legend: resolve at every level of the nesting.
  const resolve = { scale: { color: 'independent' }, legend: { color: 'independent' } } as const;
  for (let i = 0; i < specs.length; i += 2) rows.push({ hconcat: specs.slice(i, i + 2), resolve });
  return {
    title: { text: `irpo run: ${run.name}`, fontSize: 16, anchor: 'start' },
    vconcat: rows,
    resolve,
  } as TopLevelSpec;
}
