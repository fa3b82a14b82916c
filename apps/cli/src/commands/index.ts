import type { CommandModule } from 'yargs';
import { envCommand } from './env.js';
import { sampleCommand } from './sample.js';
import { serveCommand } from './serve.js';

/** Every `irpo` command; later packages add theirs here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [envCommand, sampleCommand, serveCommand];
