import type { CommandModule } from 'yargs';
import { dataCommand } from './data-inspect.js';
import { envCommand } from './env.js';

/** Every `irpo` command; later packages add theirs here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [envCommand, dataCommand];
