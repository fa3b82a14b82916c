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

/** The style of irpo's HTML reports: plain tables, numbers right-aligned. */
export const REPORT_CSS = `body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1150px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 20px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }`;

/** A self-contained HTML page (no external assets): `title` is escaped, `body` is HTML already. */
export function htmlDocument(title: string, body: string, css = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
${REPORT_CSS}${css ? `\n${css}` : ''}
</style>
</head>
<body>
${body}
</body>
</html>
`;
}
