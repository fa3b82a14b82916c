import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writeRunReport } from '../src/write-run-report.js';
import { readPng, type Png } from './read-png.js';

const CHROMIUM = '/usr/bin/chromium';
const chromiumPresent = existsSync(CHROMIUM);
/** CI (.ci/run sets CI=true) must run this test: there a missing Chromium fails instead of skipping. */
const required = process.env['CI'] === 'true';
const fixture = fileURLToPath(new URL('./fixtures/run-basic', import.meta.url));

/** Pixels within `tol` of an `#rrggbb` colour. */
function countColour(png: Png, hex: string, tol = 24): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let i = 0; i < png.rgba.length; i += 4) {
    if (Math.abs(png.rgba[i]! - r!) <= tol && Math.abs(png.rgba[i + 1]! - g!) <= tol && Math.abs(png.rgba[i + 2]! - b!) <= tol) n++;
  }
  return n;
}

describe.skipIf(!chromiumPresent && !required)(
  `report.html in headless Chromium${chromiumPresent ? '' : ` (skipped: no ${CHROMIUM}; under CI=true it fails)`}`,
  () => {
    const tmp = mkdtempSync(join(tmpdir(), 'irpo-shot-'));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    it('renders the table and the charts: a non-blank page with the series colours', async () => {
      expect(chromiumPresent, `${CHROMIUM} is missing (CI=true runs this test): install Debian's chromium package`).toBe(true);
      const run = join(tmp, 'run');
      cpSync(fixture, run, { recursive: true });
      await writeRunReport(run);
      const png = join(tmp, 'shot.png');
      const r = spawnSync(
        CHROMIUM,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          `--user-data-dir=${join(tmp, 'profile')}`,
          `--screenshot=${png}`,
          '--window-size=1200,1600',
          pathToFileURL(join(run, 'report.html')).href,
        ],
        { encoding: 'utf8', timeout: 90_000 },
      );
      expect(existsSync(png), `chromium wrote no screenshot: ${r.stderr}`).toBe(true);
      const bytes = readFileSync(png);
      expect(bytes.length).toBeGreaterThan(20_000);
      const img = readPng(bytes);
      expect([img.width, img.height]).toEqual([1200, 1600]);
      // Not blank: a good share of pixels are not white.
      let ink = 0;
      for (let i = 0; i < img.rgba.length; i += 4) if (img.rgba[i]! < 200 || img.rgba[i + 1]! < 200 || img.rgba[i + 2]! < 200) ink++;
      expect(ink / (img.width * img.height)).toBeGreaterThan(0.02);
      // The charts were drawn, not just the text: the chosen (green), rejected (orange) and pairs (purple) colours appear.
      expect(countColour(img, '#1b9e77')).toBeGreaterThan(200);
      expect(countColour(img, '#d95f02')).toBeGreaterThan(200);
      expect(countColour(img, '#7570b3')).toBeGreaterThan(5_000);
    });
  },
);
