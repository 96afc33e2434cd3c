// Serves the e2e harness page (playwright.config.ts starts it). The harness
// imports ../../../src directly, so the dev server may read the whole repo.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import { HARNESS_PORT } from '../helpers/ports'

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  server: { port: HARNESS_PORT, strictPort: true, fs: { allow: [repoRoot] } },
  logLevel: 'warn',
})
