import { LOG_LEVELS, type LogLevel } from '@irpo/contracts';

/** Options every command takes. */
export interface GlobalOptions {
  backend?: 'tensorflow' | 'wasm' | 'cpu';
  threads?: string;
  logLevel: LogLevel;
  json: boolean;
}

export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export { LOG_LEVELS };
