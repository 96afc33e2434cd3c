// startMesh forwards a transport's refusals as joinMesh and joinMeshFromNode
// do (client/transport-errors.ts): an injected transport with onError (as
// MeshTransport has) reports UNAUTHORIZED for a peer that cannot prove the room
// secret, and the app sees it as a MeshError `error` event — until close.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MeshError } from '../../src/shared/errors'
import { startMesh } from '../../src/client/assemble'
import type { Mesh } from '../../src/shared/types'
import { MemoryStorageProvider } from '../../src/storage/memory'
import { TransportError } from '../../src/transport/errors'
import { MemoryHub } from '../../src/transport/memory-transport'
import type { Transport } from '../../src/transport/types'

const timing = { tickMs: 10, electionTicks: 10 }
let meshes: Mesh[] = []
afterEach(async () => {
  await Promise.all(meshes.map((m) => m.close().catch(() => {})))
  meshes = []
})

/** The in-memory transport, plus an onError the test fires by hand. */
function reportingTransport(inner: Transport): Transport & { onError(fn: (err: TransportError) => void): () => void; report(err: TransportError): void; listeners(): number } {
  const listeners = new Set<(err: TransportError) => void>()
  return {
    self: inner.self,
    onLink: (fn) => inner.onLink(fn),
    links: () => inner.links(),
    close: () => inner.close(),
    onError(fn) {
      listeners.add(fn)
      return () => void listeners.delete(fn)
    },
    report: (err) => listeners.forEach((fn) => fn(err)),
    listeners: () => listeners.size,
  }
}

async function start(transport: Transport): Promise<Mesh> {
  const storage = await new MemoryStorageProvider().open('room', transport.self.member)
  const mesh = await startMesh({ hello: transport.self, storage, transport, bootstrap: true, seed: 1, timing })
  meshes.push(mesh)
  return mesh
}

describe('startMesh and transport errors', () => {
  it('surfaces an UNAUTHORIZED TransportError as a MeshError UNAUTHORIZED `error` event, and stops after close', async () => {
    const hello = { member: 'a1', tab: 'tab1', browser: 'browser-a' }
    const transport = reportingTransport(new MemoryHub().connect(hello))
    const mesh = await start(transport)
    const errors: MeshError[] = []
    mesh.on('error', (e) => errors.push(e))
    expect(transport.listeners()).toBe(1)

    const refusal = new TransportError('UNAUTHORIZED', 'peer b1 cannot prove the room secret', 'b1')
    transport.report(refusal)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(MeshError)
    expect(errors[0]).toMatchObject({ code: 'UNAUTHORIZED', cause: refusal, message: 'peer b1 cannot prove the room secret' })

    await mesh.close()
    expect(transport.listeners()).toBe(0)
    transport.report(new TransportError('UNAUTHORIZED', 'after close', 'b1'))
    expect(errors).toHaveLength(1)
  })

  it('maps a refusal without a known code to BAD_MESSAGE', async () => {
    const transport = reportingTransport(new MemoryHub().connect({ member: 'a1', tab: 'tab1', browser: 'browser-a' }))
    const mesh = await start(transport)
    const errors: MeshError[] = []
    mesh.on('error', (e) => errors.push(e))
    transport.report(Object.assign(new Error('garbled'), { code: 'SOMETHING_ELSE' }) as unknown as TransportError)
    expect(errors.map((e) => e.code)).toEqual(['BAD_MESSAGE'])
  })

  it('runs over a transport without onError (the in-memory one) as before', async () => {
    const mesh = await start(new MemoryHub().connect({ member: 'a1', tab: 'tab1', browser: 'browser-a' }))
    await mesh.create('/x', 'ok')
    expect((await mesh.get('/x')).text()).toBe('ok')
  })
  it('an error reported while the member starts (before the Mesh exists) reaches a listener subscribed right after startMesh resolves, once', async () => {
    const hello = { member: 'a1', tab: 'tab1', browser: 'browser-a' }
    const early = new TransportError('UNAUTHORIZED', 'signal from b1 does not open under the room key', 'b1')
    const transport = reportingTransport(new MemoryHub().connect(hello))
    // the member subscribes to links while it starts: the transport reports in that window
    const onLink = transport.onLink
    transport.onLink = (fn) => {
      transport.report(early)
      return onLink(fn)
    }
    const mesh = await start(transport)
    const errors: MeshError[] = []
    mesh.on('error', (e) => errors.push(e))
    // handed over on a later task: wait for it (a loaded CI machine ran 10 ms
    // of waiting out before it once), then one task more to see it came once
    await vi.waitFor(() => expect(errors).not.toHaveLength(0), { timeout: 10_000 })
    await new Promise((r) => setTimeout(r, 10))
    expect(errors.map((e) => [e.code, e.message])).toEqual([['UNAUTHORIZED', 'signal from b1 does not open under the room key']])
    expect(transport.listeners()).toBe(1) // the holder let go; only the forwarder listens
    const later = new TransportError('BAD_MESSAGE', 'bad frame: no frame starts with 0xff', 'b1')
    transport.report(later)
    expect(errors.map((e) => e.code)).toEqual(['UNAUTHORIZED', 'BAD_MESSAGE'])
  })
})
