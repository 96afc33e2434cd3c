// joinMesh end to end in Node, on fake Web Locks and tab-private memory
// storage: the tab chooses its member, opens its storage and transport, and the
// one Mesh assembler (client/assemble.ts) starts it and hands back a Mesh with
// the recipes; close releases the member's Web Lock. (The browser's own run of
// it, with IndexedDB and WebRTC, is test/e2e.)
import { describe, expect, it } from 'vitest'
import { BROWSER_TAB, joinMesh } from '../../src/browser/join'
import type { BrowserTabInfo } from '../../src/browser/join'
import { memberLockName } from '../../src/browser/identity'
import { FakeBrowserLocks, withVisiblePage } from './fake-browser'

withVisiblePage()

describe('joinMesh', () => {
  it('founds a cluster alone, serves znodes and recipes, and frees its member lock on close', async () => {
    const browser = new FakeBrowserLocks()
    // memory storage is private to the tab: it listens for peers first, finds none, founds
    const mesh = await joinMesh({ room: 'solo', storage: 'memory', locks: browser.tab().locks })
    const info = (mesh as unknown as Record<symbol, BrowserTabInfo>)[BROWSER_TAB]!
    expect(info).toMatchObject({ member: mesh.id, founded: true, source: 'new' })
    expect(browser.holder(memberLockName('solo', mesh.id))).not.toBeNull()

    await mesh.create('/x', 'hi')
    expect((await mesh.get('/x')).text()).toBe('hi')
    const lease = await mesh.lock('/l').acquire({ timeoutMs: 60_000 })
    expect(lease.state).toBe('held')
    await expect(mesh.counter('/c').add(4)).resolves.toBe(4)
    await lease.release()

    await mesh.close()
    expect(mesh.state).toBe('closed')
    expect(browser.holder(memberLockName('solo', mesh.id))).toBeNull()
  })
})

/** the page events a browser fires around the back/forward cache, with their `persisted` flag */
const pageTransition = (type: 'pagehide' | 'pageshow', persisted: boolean): Event => Object.assign(new Event(type), { persisted })

describe('joinMesh and the back/forward cache', () => {
  it('a page put in the bfcache closes its mesh; restored (pageshow persisted), the same Mesh rejoins with a new session', async () => {
    const browser = new FakeBrowserLocks()
    const mesh = await joinMesh({ room: 'bfcache', storage: 'memory', locks: browser.tab().locks })
    await mesh.create('/before', 'x')
    const states: string[] = []
    mesh.on('state', (s) => states.push(s))
    const session = mesh.sessionId
    const win = (globalThis as { window?: unknown }).window as EventTarget
    win.dispatchEvent(pageTransition('pagehide', true))
    await expect.poll(() => mesh.state).toBe('closed')
    win.dispatchEvent(pageTransition('pageshow', true))
    await expect.poll(() => mesh.state, { timeout: 10_000 }).toBe('connected')
    expect(states).toContain('closed')
    expect(mesh.sessionId).not.toBe(session)
    // the same object works again: its member kept its slot (the log), and it commits
    expect((await mesh.get('/before')).text()).toBe('x')
    await mesh.create('/after', 'y')
    expect(browser.holder(memberLockName('bfcache', mesh.id))).not.toBeNull()
    await mesh.close()
    expect(browser.holder(memberLockName('bfcache', mesh.id))).toBeNull()
  })

  it('a mesh the app closed stays closed when the page comes back from the bfcache', async () => {
    const browser = new FakeBrowserLocks()
    const mesh = await joinMesh({ room: 'bfcache-closed', storage: 'memory', locks: browser.tab().locks })
    await mesh.close()
    const win = (globalThis as { window?: unknown }).window as EventTarget
    win.dispatchEvent(pageTransition('pagehide', true))
    win.dispatchEvent(pageTransition('pageshow', true))
    await new Promise((r) => setTimeout(r, 50))
    expect(mesh.state).toBe('closed')
    expect(browser.holder(memberLockName('bfcache-closed', mesh.id))).toBeNull()
  })
})
