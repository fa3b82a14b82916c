import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkXml } from '../test/xml-well-formed.js';
import { writeRunReport } from './write-run-report.js';

const fixture = fileURLToPath(new URL('../test/fixtures/run-basic', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'irpo-report-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function copyFixture(name: string): string {
  const dir = join(tmp, name);
  cpSync(fixture, dir, { recursive: true });
  return dir;
}

/** Text of every <text> element of an SVG (titles, axis titles, legend labels). */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
}

describe('writeRunReport on the run-basic fixture (iterations 0–2 evaluated, 3 still training)', async () => {
  const dir = copyFixture('basic');
  const report = await writeRunReport(dir);
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');

  it('writes the Markdown, HTML, overview and one SVG per chart', () => {
    expect(report.files.sort()).toEqual(
      [
        'report.html',
        'report.md',
        'report.svg',
        'report-accuracy.svg',
        'report-pairs.svg',
        'report-train-logps.svg',
        'report-train-margin.svg',
        'report-train-loss.svg',
      ].sort(),
    );
  });

  it('every SVG is well-formed XML with marks drawn', () => {
    for (const f of report.files.filter((x) => x.endsWith('.svg'))) {
      const names = checkXml(read(f));
      expect(names[0]).toBe('svg');
      expect(names.filter((n) => n === 'path' || n === 'line' || n === 'rect').length).toBeGreaterThan(10);
    }
  });

  it('the accuracy chart has greedy and maj@8 series with titled axes', () => {
    const svg = read('report-accuracy.svg');
    const texts = svgTexts(svg);
    for (const t of ['greedy', 'maj@8', 'Metric', 'Accuracy (%)', 'Iteration (0 = initial model)']) expect(texts).toContain(t);
    // One point per iteration and series: greedy 10/40, 17/40, 22/40 and maj@8 14/40, 21/40, 25/40
    // (the fixture's eval.json files), each placed on the same linear y scale, iterations evenly spaced.
    const points = [
      ...svg.matchAll(
        /aria-label="Iteration \(0 = initial model\): (\d+); Accuracy \(%\): [\d.]+%; Metric: ([^"]+)" role="graphics-symbol" aria-roledescription="point" transform="translate\(([-\d.]+),([-\d.]+)\)"[^>]*fill="(#[0-9a-f]{6})"/g,
      ),
    ].map((m) => ({ iteration: Number(m[1]), metric: m[2]!, x: Number(m[3]), y: Number(m[4]), fill: m[5]! }));
    const correct: Record<string, number[]> = { greedy: [10, 17, 22], 'maj@8': [14, 21, 25] };
    expect(points.map((p) => `${p.metric} ${p.iteration}`).sort()).toEqual(
      Object.keys(correct)
        .flatMap((m) => [0, 1, 2].map((t) => `${m} ${t}`))
        .sort(),
    );
    const pct = (p: (typeof points)[number]) => (100 * correct[p.metric]![p.iteration]!) / 40;
    const [a, b] = [points.find((p) => pct(p) === 25)!, points.find((p) => pct(p) === 62.5)!];
    const slope = (b.y - a.y) / (pct(b) - pct(a));
    expect(slope).toBeLessThan(0); // higher accuracy is drawn higher up
    const step = points.find((p) => p.iteration === 1)!.x - points.find((p) => p.iteration === 0)!.x;
    expect(step).toBeGreaterThan(0);
    for (const p of points) {
      expect(p.y, `${p.metric} ${p.iteration}`).toBeCloseTo(a.y + slope * (pct(p) - pct(a)), 6);
      expect(p.x - points.find((q) => q.iteration === 0)!.x).toBeCloseTo(step * p.iteration, 6);
    }
    // Each series in one colour, the two apart.
    expect(new Set(points.filter((p) => p.metric === 'greedy').map((p) => p.fill)).size).toBe(1);
    expect(new Set(points.map((p) => p.fill)).size).toBe(2);
  });

  it('the log-prob chart has chosen and rejected over 19 continued steps with iteration boundaries', () => {
    const svg = read('report-train-logps.svg');
    const texts = svgTexts(svg);
    // One line per series through all 19 steps (8 + 8 + 3 lines of the fixture's train-log.jsonl files).
    const lines = [...svg.matchAll(/Series: (\w+)" role="graphics-symbol" aria-roledescription="line mark" d="([^"]+)"/g)];
    expect(lines.map((m) => [m[1], m[2]!.split('L').length])).toEqual([
      ['chosen', 19],
      ['rejected', 19],
    ]);
    for (const t of ['chosen', 'rejected', 'Series', 'Sequence log-prob (nats)', 'Training step (continued across iterations)'])
      expect(texts).toContain(t);
    // 8 + 8 + 3 steps; boundaries before iterations 2 and 3.
    expect(texts).toContain('iter 2 →');
    expect(texts).toContain('iter 3 →');
    const steps = report.run.iterations.reduce((n, it) => n + it.trainLog.length, 0);
    expect(steps).toBe(19);
  });

  it('the loss and margin charts name their series', () => {
    const loss = svgTexts(read('report-train-loss.svg'));
    for (const t of ['loss', 'dpo', 'nll', 'Loss (nats)']) expect(loss).toContain(t);
    expect(svgTexts(read('report-train-margin.svg'))).toContain('margin');
  });

  it('the overview holds every chart', () => {
    const texts = svgTexts(read('report.svg'));
    for (const t of ['irpo run: run-basic', 'Preference pairs per iteration', 'Reward margin', 'Training loss']) expect(texts).toContain(t);
  });

  it('report.md tabulates iterations, marks the one in progress, and links the charts', () => {
    const md = read('report.md');
    // 22/40 = 55.0%; Wilson 95%: [39.8, 69.3].
    expect(md).toMatch(/\| 2 \| 55\.0% \[39\.8, 69\.3\] \| 62\.5% /);
    expect(md).toContain('| 3 (in progress) | – | – | 33 | 3 |');
    expect(md).toContain('Greedy accuracy: 25.0% at iteration 0 → 55.0% at iteration 2');
    expect(md).toContain('![overview](report.svg)');
    expect(md).toContain('Training: dpo-nll');
  });

  it('report.html is self-contained: SVGs inline, nothing fetched', () => {
    const html = read('report.html');
    expect(html.match(/<svg[\s>]/g)?.length).toBe(5);
    expect(html).not.toMatch(/<(script|link|img)\b/);
    expect(html).not.toMatch(/(src|href)="http/);
  });
});

describe('writeRunReport on runs that have just started', () => {
  it('a run with only run.json gets a report saying so', async () => {
    const dir = join(tmp, 'empty');
    cpSync(join(fixture, 'run.json'), join(dir, 'run.json'), { recursive: true });
    const r = await writeRunReport(dir);
    expect(r.files.sort()).toEqual(['report.html', 'report.md', 'report.svg']);
    expect(checkXml(readFileSync(join(dir, 'report.svg'), 'utf8'))[0]).toBe('svg');
    expect(r.markdown).toContain('Iterations found: none');
  });

  it('a half-written last line of train-log.jsonl is skipped', async () => {
    const dir = copyFixture('truncated');
    const log = join(dir, 'iter-3', 'train-log.jsonl');
    writeFileSync(log, readFileSync(log, 'utf8') + '{"v":1,"step":3,"loss"');
    const r = await writeRunReport(dir);
    expect(r.run.iterations.find((it) => it.iteration === 3)?.trainLog).toHaveLength(3);
  });

  it('a bad record names the file, line and field', async () => {
    const dir = copyFixture('bad');
    const log = join(dir, 'iter-1', 'train-log.jsonl');
    const lines = readFileSync(log, 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"loss":', '"loss":"x","was":');
    writeFileSync(log, lines.join('\n'));
    await expect(writeRunReport(dir)).rejects.toThrow(/iter-1\/train-log\.jsonl:2: loss: /);
  });
});

describe('writeRunReport with a dev split and the stop rule', () => {
  it('shows each iteration’s dev curve with the kept checkpoint, and why the run stopped', async () => {
    const dir = copyFixture('dev');
    const dev = (checkpoints: { step: number; accuracy: number }[], chosen: number) =>
      JSON.stringify({ v: 1, problems: 40, checkpoints, chosen });
    writeFileSync(join(dir, 'iter-0', 'dev.json'), dev([{ step: 0, accuracy: 0.5 }], 0));
    writeFileSync(
      join(dir, 'iter-1', 'dev.json'),
      dev(
        [
          { step: 10, accuracy: 0.55 },
          { step: 20, accuracy: 0.6 },
          { step: 25, accuracy: 0.6 },
        ],
        20,
      ),
    );
    const reason = 'iteration 1 gained 10.0 points of dev accuracy (50.0% → 60.0%), less than stop.devGainBelow 20';
    writeFileSync(
      join(dir, 'stop.json'),
      JSON.stringify({ v: 1, afterIteration: 1, devBefore: 0.5, devAfter: 0.6, gainPoints: 10, devGainBelow: 20, reason }),
    );
    const { markdown } = await writeRunReport(dir);
    expect(markdown).toContain(`- Stopped after iteration 1: ${reason}`);
    expect(markdown).toContain('Greedy accuracy on the 40 dev problems');
    expect(markdown).toMatch(/\| 0 +\| 0 +\| 50\.0% +\| M0 +\|/);
    expect(markdown).toMatch(/\| 1 +\| 20 +\| 60\.0% +\| M\(1\) +\|/);
    expect(markdown).toMatch(/\| 1 +\| 25 +\| 60\.0% +\| +\|/);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<h2>Dev accuracy by training step</h2>');
  });
});
