import type { CommandModule } from 'yargs';
import { createOutput } from '../output.js';
import { VERSION } from '../version.js';

interface EnvArgs {
  json: boolean;
}

/** `irpo env`: what a bug report needs: versions, platform, the backend choice. */
export const envCommand: CommandModule<object, EnvArgs> = {
  command: 'env',
  describe: 'Print versions, platform and the TensorFlow.js backends present',
  handler: async (args) => {
    const info = {
      irpo: VERSION,
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
      cpus: (await import('node:os')).cpus().length,
    };
    createOutput(args.json).result(info, (v) =>
      Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => `${k.padEnd(10)} ${String(x)}`)
        .join('\n'),
    );
  },
};
