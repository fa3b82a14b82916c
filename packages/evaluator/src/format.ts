import type { Accuracy } from '@irpo/contracts';

/** `41.3% [33.1, 50.0]` */
export function formatAccuracy(a: Accuracy | undefined): string {
  if (!a) return '–';
  return `${pct(a.accuracy)} [${(a.ci95[0] * 100).toFixed(1)}, ${(a.ci95[1] * 100).toFixed(1)}]`;
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export function fixed(x: number | undefined, digits = 2): string {
  return x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

/** A Markdown table; cells have `|` escaped. */
export function markdownTable(header: string[], rows: string[][]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [`| ${header.map(cell).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An HTML table with the same content as markdownTable. */
export function htmlTable(header: string[], rows: string[][]): string {
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}
