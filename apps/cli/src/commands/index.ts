import type { CommandModule } from 'yargs';
import { envCommand } from './env.js';
import { modelCommand } from './model-inspect.js';

/** Every `irpo` command; later packages add theirs here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [envCommand, modelCommand];
