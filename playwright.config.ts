import { defineConfig } from '@playwright/test'

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

export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '**/*.spec.ts',
  timeout: 120_000,
  retries: 0,
  workers: 1,
  use: { launchOptions: chromiumLaunch },
})
