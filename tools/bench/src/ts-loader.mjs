// `node --conditions=@irpo/source --import ./src/ts-loader.mjs src/main.ts` runs the bench and the
// workspace packages from their TypeScript sources, so a change in core or model is measured
// without a rebuild.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
