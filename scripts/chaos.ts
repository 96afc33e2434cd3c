// `npm run chaos -- --minutes N [--seed S] [--tabs 2,2,1] [--faults crash,cut,...]`:
// the browser chaos run of test/e2e/chaos.spec.ts for longer, in Debian's
// Chromium, against the demo server on E2E_PORT_BASE + 1 (started here unless
// one already answers there). Prints every fault as it lands, then what was
// injected and checked; exits 1 on any problem, with the seed to replay it.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { chromium } from '@playwright/test'
import { chromiumLaunch } from '../playwright.config'
import { DEMO_PORT } from '../test/e2e/helpers/ports'
import { FAULT_KINDS } from '../test/e2e/chaos/nemesis'
import type { FaultKind } from '../test/e2e/chaos/nemesis'
import { runChaos } from '../test/e2e/chaos/run'

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}

const minutes = Number(arg('minutes') ?? 3)
const seed = Number(arg('seed') ?? Math.floor(Math.random() * 2 ** 31))
const tabs = (arg('tabs') ?? '2,2,1').split(',').map(Number)
const kinds = (arg('faults')?.split(',') ?? FAULT_KINDS) as FaultKind[]
if (!(minutes > 0) || !Number.isInteger(seed) || tabs.some((n) => !(n >= 1)) || kinds.some((k) => !FAULT_KINDS.includes(k))) {
  console.error(`usage: npm run chaos -- [--minutes N] [--seed S] [--tabs 2,2,1] [--faults ${FAULT_KINDS.join(',')}]`)
  process.exit(2)
}

const up = (): Promise<boolean> =>
  fetch(`http://localhost:${DEMO_PORT}/`).then(
    () => true,
    () => false,
  )

let server: ChildProcess | null = null
if (!(await up())) {
  server = spawn('npx', ['tsx', 'scripts/start.ts', '--port', String(DEMO_PORT)], { stdio: ['ignore', 'ignore', 'inherit'], detached: true })
  const deadline = Date.now() + 60_000
  while (!(await up())) {
    if (Date.now() > deadline) throw new Error(`the demo server did not answer on port ${DEMO_PORT}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

console.log(`chaos: seed ${seed}, ${minutes} min, tabs ${tabs.join(',')}, faults ${kinds.join(',')} (replay: npm run chaos -- --seed ${seed} --minutes ${minutes})`)
const browser = await chromium.launch(chromiumLaunch)
let ok = false
try {
  const result = await runChaos(browser, { seed, durationMs: minutes * 60_000, tabs, kinds, log: (line) => console.log(line) })
  console.log(result.report)
  ok = result.ok
} finally {
  await browser.close()
  // the server's process group: npx, tsx and node
  if (server?.pid !== undefined) process.kill(-server.pid, 'SIGTERM')
}
process.exit(ok ? 0 : 1)
