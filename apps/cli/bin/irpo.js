#!/usr/bin/env node
// Committed launcher: npm links this file at install time, before `prepare` builds dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('irpo: the CLI is not built yet; run `npm run build` in the repository root.\n');
  process.exit(1);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
