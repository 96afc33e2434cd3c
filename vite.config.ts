import { defineConfig } from 'vitest/config'

// The demo's and Vitest's config. The library build is vite.lib.config.ts
// (npm run build), kept apart so its lib entries never touch the demo.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
