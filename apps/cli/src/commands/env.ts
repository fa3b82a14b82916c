import type { CommandModule } from 'yargs';
import { initBackend, tf, type BackendName } from '@irpo/core';
import { createOutput } from '../output.js';
import { VERSION } from '../version.js';

interface EnvArgs {
  json: boolean;
  backend?: BackendName;
}

/** `irpo env`: what a bug report needs: versions, platform, the backend choice and why. */
export const envCommand: CommandModule<object, EnvArgs> = {
  command: 'env',
  describe: 'Print versions, platform and the TensorFlow.js backend chosen (and why)',
  handler: async (args) => {
    const choice = await initBackend(args.backend);
    const info = {
      irpo: VERSION,
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
      cpus: (await import('node:os')).cpus().length,
      tfjs: tf.version_core,
      backend: choice.name,
      provider: choice.provider,
      kernels: choice.kernels,
      reasons: choice.reasons,
    };
    createOutput(args.json).result(info, (v) =>
      Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => `${k.padEnd(10)} ${Array.isArray(x) ? x.join('\n' + ' '.repeat(11)) : String(x)}`)
        .join('\n'),
    );
  },
};
