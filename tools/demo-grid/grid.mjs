#!/usr/bin/env node
// The small grid that chose the per-method learning rates of `irpo demo --compare`.
//
// For every learning rate it runs one iteration of the comparison (all methods from the same M0,
// the same iteration-1 samples) with a dev split held out of the training problems and dev
// accuracy scored every few steps; a method's score at a learning rate is the dev accuracy of
// its chosen checkpoint. Only dev accuracy chooses: the test split is evaluated by the runs (a
// comparison always does) but never read here. Each cell is a normal run directory, so a crashed
// grid resumes where it stopped when run again with the same --out.
//
//   node tools/demo-grid/grid.mjs [--out runs/demo-grid] [--lrs 2e-5,1e-4,5e-4]
//        [--methods sft-gold,star,dpo,irpo] [--dev 100] [--eval-every 10] [--seed 0]
//
// Prints (and writes to <out>/grid.json) every cell's dev accuracy and each method's best
// learning rate (the smallest on ties).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const cli = join(root, 'apps/cli/bin/irpo.js');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) {
    console.error(`grid: --${name} needs a value`);
    process.exit(2);
  }
  return v;
}

const out = resolve(arg('out', 'runs/demo-grid'));
const lrs = arg('lrs', '2e-5,1e-4,5e-4').split(',').map(Number);
const methods = arg('methods', 'sft-gold,star,dpo,irpo').split(',');
const dev = Number(arg('dev', '100'));
const evalEvery = Number(arg('eval-every', '10'));
const seed = Number(arg('seed', '0'));
if (lrs.some((x) => !(x > 0)) || !(dev > 0) || !(evalEvery > 0)) {
  console.error('grid: --lrs must be positive numbers, --dev and --eval-every positive integers');
  process.exit(2);
}

mkdirSync(out, { recursive: true });
const cells = {};
for (const lr of lrs) {
  const dir = join(out, `lr-${lr}`);
  const argv = [
    cli,
    'demo',
    '--compare',
    '--methods',
    methods.join(','),
    '--iterations',
    '1',
    '--seed',
    String(seed),
    '--out',
    dir,
    '--set',
    `task.devLimit=${dev}`,
    '--set',
    `training.evalEvery=${evalEvery}`,
    '--set',
    `training.lr=${lr}`,
  ];
  console.error(`grid: lr ${lr} → ${dir}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    console.error(`grid: the run at lr ${lr} failed (exit ${r.status ?? r.signal}); rerun the same command to resume it`);
    process.exit(1);
  }
  for (const m of methods) {
    const file = join(dir, m === 'irpo' ? 'irpo' : m, 'iter-1', 'dev.json');
    if (!existsSync(file)) {
      console.error(`grid: ${file} is missing after the run at lr ${lr}`);
      process.exit(1);
    }
    const d = JSON.parse(readFileSync(file, 'utf8'));
    const chosen = d.checkpoints.find((c) => c.step === d.chosen);
    (cells[m] ??= {})[lr] = { devAccuracy: chosen.accuracy, chosenStep: d.chosen, lastStep: d.checkpoints.at(-1).step };
  }
  console.error(`grid: lr ${lr} done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

const best = {};
for (const m of methods) {
  let pick;
  for (const lr of [...lrs].sort((a, b) => a - b))
    if (pick === undefined || cells[m][lr].devAccuracy > cells[m][pick].devAccuracy) pick = lr;
  best[m] = pick;
}
const result = { seed, dev, evalEvery, iterations: 1, lrs, cells, best };
writeFileSync(join(out, 'grid.json.tmp'), `${JSON.stringify(result, null, 2)}\n`);
renameSync(join(out, 'grid.json.tmp'), join(out, 'grid.json'));
console.log(JSON.stringify(result, null, 2));
