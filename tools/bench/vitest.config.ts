import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources (no build of dependencies needed).
export default defineConfig({
  resolve: { conditions: ['@irpo/source'] },
  ssr: { resolve: { conditions: ['@irpo/source'] } },
  test: { include: ['src/**/*.test.ts'] },
});
