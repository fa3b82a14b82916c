// `node --conditions=@irpo/source --import ./ts-loader.mjs script.ts` runs TypeScript sources.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
