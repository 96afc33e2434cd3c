// `node bin/meshkeeper-signal.js` works in this checkout (through tsx when
// dist/ is absent): it listens, answers /health, relays, and stops on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { TestClient } from './test-client'

const bin = fileURLToPath(new URL('../../bin/meshkeeper-signal.js', import.meta.url))
let child: ChildProcess | null = null

afterEach(() => {
  if (child !== null && child.exitCode === null) child.kill('SIGKILL')
  child = null
})

it('starts the signaling server on the given port and host, and exits cleanly on SIGTERM', async () => {
  child = spawn(process.execPath, [bin, '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    child!.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const m = /listening on (ws:\/\/\S+)/.exec(out)
      if (m) resolve(m[1]!)
    })
    child!.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
  })
  expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
  const health = await (await fetch(url.replace('ws://', 'http://') + '/health')).json()
  expect(health).toMatchObject({ ok: true, rooms: 0, sockets: 0 })
  const [a, b] = [await TestClient.connect(url), await TestClient.connect(url)]
  await a.join('r', 'a')
  await b.join('r', 'b')
  a.send({ type: 'signal', room: 'r', to: 'b', data: 'hello' })
  expect(await b.next('signal')).toEqual({ type: 'signal', room: 'r', from: 'a', data: 'hello' })
  const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)))
  child.kill('SIGTERM')
  expect(await exited).toBe(0)
  expect(await a.closed).toBe(1001)
})

it('rejects a bad --port with exit code 2', async () => {
  child = spawn(process.execPath, [bin, '--port', 'nope'], { stdio: 'ignore' })
  const code = await new Promise<number | null>((resolve) => child!.once('exit', (c) => resolve(c)))
  expect(code).toBe(2)
})
