import { defineConfig } from '@playwright/test'
import { DEMO_PORT, HARNESS_PORT } from './test/e2e/helpers/ports'

// Debian's Chromium: Playwright cannot download its own browser here.
export const chromiumLaunch = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-features=WebRtcHideLocalIpsWithMdns',
  ],
}

/** Dev servers the e2e tests load. Add one entry per served app (the demo
 *  will come here), each on its own fixed port. */
const servers = [
  // test/e2e/harness: the transport harness page (test/e2e/transport.spec.ts)
  { command: 'npx vite --config test/e2e/harness/vite.config.ts', port: HARNESS_PORT },
  // demo/ through scripts/start.ts (Vite middleware + signaling on one port): test/e2e/mesh.spec.ts
  { command: `npx tsx scripts/start.ts --port ${DEMO_PORT}`, port: DEMO_PORT },
]

export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '**/*.spec.ts',
  timeout: 120_000,
  retries: 0,
  workers: 1,
  use: { launchOptions: chromiumLaunch },
  webServer: servers.map(({ command, port }) => ({
    command,
    url: `http://localhost:${port}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
  })),
})
