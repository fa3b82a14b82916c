import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the "@irpo/source"
// export condition, so tests never need a build of their dependencies.
export default defineConfig({
  resolve: { conditions: ['@irpo/source'] },
  ssr: { resolve: { conditions: ['@irpo/source'] } },
  test: { include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 60_000 },
});
