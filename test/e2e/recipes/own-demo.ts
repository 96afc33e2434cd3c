// A demo server (scripts/start.ts: the demo page + signaling on one port)
// owned by the recipes spec alone. The shared one on port 5191 is reused
// across concurrent Playwright runs (reuseExistingServer), so it can vanish
// mid-test when the run that started it ends; a reload or a new tab then
// meets ERR_CONNECTION_REFUSED. These tests reload and open tabs late, so
// they serve themselves on a free port and stop the server afterwards.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { pollFor } from '../../../src/testing/playwright'

export interface OwnDemo {
  /** http://localhost:<port> */
  origin: string
  /** the demo in `room`; `extra` adds query parameters (e.g. '&session=600000') */
  url(room: string, extra?: string): string
  stop(): Promise<void>
}

const repo = fileURLToPath(new URL('../../../', import.meta.url))

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, 'localhost', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      probe.close(() => resolve(port))
    })
  })
}

export async function startOwnDemo(): Promise<OwnDemo> {
  const port = await freePort()
  // its own process group, so stop() ends tsx and the node it runs, and nothing else
  const child: ChildProcess = spawn(`${repo}node_modules/.bin/tsx`, ['scripts/start.ts', '--port', String(port), '--host', 'localhost'], {
    cwd: repo,
    detached: true,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const origin = `http://localhost:${port}`
  let exited = false
  child.once('exit', () => (exited = true))
  const stop = async () => {
    if (exited || child.pid === undefined) return
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    process.kill(-child.pid, 'SIGTERM')
    await gone
  }
  try {
    await pollFor(
      `the demo server on ${origin}`,
      async () => {
        if (exited) throw new Error('the demo server exited')
        const res = await fetch(`${origin}/`)
        return res.ok ? true : undefined
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    )
  } catch (err) {
    await stop()
    throw err
  }
  return { origin, url: (room, extra = '') => `${origin}/?room=${encodeURIComponent(room)}${extra}`, stop }
}
