import { run } from './cli.js';

export { run };

// Run when executed directly (node dist/main.js); bin/irpo.js imports `run` instead.
if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await run(process.argv.slice(2));
}
