// watchPageLifecycle and watchBackForwardCache (browser/visibility.ts) on
// fake `document` and `window` targets: which page event reaches which handler.
import { describe, expect, it } from 'vitest'
import { watchBackForwardCache, watchPageLifecycle } from '../../src/browser/visibility'

const transition = (type: string, persisted: boolean): Event => Object.assign(new Event(type), { persisted })

function page(): { doc: Document; win: Window; calls: string[]; setHidden: (h: boolean) => void } {
  let hidden = false
  const doc = Object.assign(new EventTarget(), {}) as unknown as Document
  Object.defineProperty(doc, 'visibilityState', { get: () => (hidden ? 'hidden' : 'visible') })
  return { doc, win: new EventTarget() as unknown as Window, calls: [], setHidden: (h) => (hidden = h) }
}

describe('watchPageLifecycle', () => {
  it('hands visibility, pagehide (with persisted), freeze and resume to their handlers, and nothing after dispose', () => {
    const p = page()
    const lifecycle = watchPageLifecycle(
      {
        visibilityChanged: () => p.calls.push('visibility'),
        pageHide: (persisted) => p.calls.push(`pagehide ${persisted}`),
        frozen: () => p.calls.push('freeze'),
        resumed: () => p.calls.push('resume'),
      },
      p.doc,
      p.win,
    )
    expect(lifecycle.visible()).toBe(true)
    p.setHidden(true)
    p.doc.dispatchEvent(new Event('visibilitychange'))
    expect(lifecycle.visible()).toBe(false)
    p.doc.dispatchEvent(new Event('freeze'))
    p.doc.dispatchEvent(new Event('resume'))
    p.win.dispatchEvent(transition('pagehide', true))
    p.win.dispatchEvent(new Event('pagehide'))
    lifecycle.dispose()
    p.doc.dispatchEvent(new Event('freeze'))
    p.win.dispatchEvent(new Event('pagehide'))
    expect(p.calls).toEqual(['visibility', 'freeze', 'resume', 'pagehide true', 'pagehide false'])
  })
})

describe('watchPageLifecycle: a reload', () => {
  it('calls reloading on pageswap whose activation is a reload; a push, a pageswap without activation (another origin) or a close (no pageswap) say nothing', () => {
    const p = page()
    const lifecycle = watchPageLifecycle(
      { visibilityChanged: () => undefined, pageHide: () => p.calls.push('pagehide'), frozen: () => undefined, resumed: () => undefined, reloading: () => p.calls.push('reloading') },
      p.doc,
      p.win,
    )
    const swap = (activation: unknown): Event => Object.assign(new Event('pageswap'), { activation })
    p.win.dispatchEvent(swap({ navigationType: 'push' }))
    p.win.dispatchEvent(swap(null))
    p.win.dispatchEvent(swap({ navigationType: 'reload' }))
    p.win.dispatchEvent(new Event('pagehide'))
    lifecycle.dispose()
    p.win.dispatchEvent(swap({ navigationType: 'reload' }))
    expect(p.calls).toEqual(['reloading', 'pagehide'])
  })
})

describe('watchBackForwardCache', () => {
  it('calls back on pageshow with persisted only (a first load is not a restore), until stopped', () => {
    const p = page()
    const stop = watchBackForwardCache(() => p.calls.push('restored'), p.win)
    p.win.dispatchEvent(transition('pageshow', false))
    p.win.dispatchEvent(transition('pageshow', true))
    stop()
    p.win.dispatchEvent(transition('pageshow', true))
    expect(p.calls).toEqual(['restored'])
  })
})
