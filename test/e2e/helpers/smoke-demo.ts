// Smoke check of a running demo server (`npm start`): two tabs of Debian
// Chromium open the URL, elect a leader, one writes, the other reads; page
// errors are printed. Usage: npx tsx test/e2e/helpers/smoke-demo.ts [url]
import { chromium } from '@playwright/test'
import { chromiumLaunch } from '../../../playwright.config'
import { meshOf, openTabs, pollFor, waitForLeader } from '../../../src/testing/playwright'

const url = process.argv[2] ?? `http://localhost:4444/?room=smoke-${Date.now().toString(36)}`
const browser = await chromium.launch(chromiumLaunch)
try {
  const context = await browser.newContext()
  const errors: string[] = []
  context.on('page', (p) => p.on('pageerror', (e) => errors.push(e.message)))
  const [a, b] = await openTabs(context, url, 2)
  const { leader } = await waitForLeader([a!, b!])
  const path = `/smoke-${Date.now()}`
  await a!.evaluate((p) => window.mesh!.create(p, 'hello'), path)
  const seen = await pollFor('the write in the other tab', () => b!.evaluate((p) => window.mesh!.get(p).then((n) => n.text(), () => undefined), path))
  console.log(`demo at ${url}: leader ${leader}, members ${(await meshOf(a!)).members.map((m) => `${m.id}:${m.role}`).join(' ')}, other tab read ${JSON.stringify(seen)}`)
  console.log(errors.length === 0 ? 'no page errors' : `page errors: ${errors.join(' | ')}`)
  if (errors.length > 0) process.exitCode = 1
} finally {
  await browser.close()
}
