// `node --conditions=@irpo/source --import <repo>/tools/test-support/ts-loader.mjs script.ts` runs TypeScript sources
// directly: tests that need a real child process (SIGKILL and resume) use it.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
