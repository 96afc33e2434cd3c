// The mesh calls the chaos clients make, run inside a tab (page.evaluate):
// each returns a PageAnswer — the value, or the MeshError's code, outcome and
// opIndex — and never throws, so a rejected evaluate means only one thing:
// the page went away under the call. Leases live in the page (a Lease is not
// serialisable); Node keeps their path and token.
import type { Page } from '@playwright/test'
import type { PageAnswer } from './history'

export type PageCall =
  | { kind: 'create'; path: string; data: string }
  | { kind: 'set'; path: string; data: string; version: number }
  | { kind: 'get'; path: string }
  /** take the lock at `path` (waiting at most timeoutMs): its lease's node path and token */
  | { kind: 'acquire'; path: string; timeoutMs: number }
  /** a set fenced by the lease whose node is `lease` (fence: { path, token }) */
  | { kind: 'fenced-set'; path: string; data: string; lease: { path: string; token: number } }
  /** release the lease of node `lease` (retrying the delete); value: whether its node is gone (a linearizable exists says null) */
  | { kind: 'release'; lease: string }

  /** the children of `path` with their ephemeral owners, read locally after sync */
  | { kind: 'children'; path: string }

export type CallValue = { version: number } | { data: string; version: number } | { path: string } | { path: string; token: number } | { gone: boolean } | { children: string[] }

/** Run `call` in `page`; rejects only when the page is gone (crashed, closed, navigated). */
export function callIn(page: Page, call: PageCall): Promise<PageAnswer<CallValue>> {
  return page.evaluate(async (c: PageCall) => {
    type Lease = { path: string; token: number; release(): Promise<void> }
    const w = window as unknown as { chaosLeases?: Map<string, Lease> }
    const leases = (w.chaosLeases ??= new Map())
    const mesh = window.mesh
    if (mesh === undefined) return { ok: false as const, code: 'NO_MESH', message: 'no mesh yet' }
    try {
      switch (c.kind) {
        case 'create':
          return { ok: true as const, value: { path: await mesh.create(c.path, c.data) } }
        case 'set':
          return { ok: true as const, value: { version: (await mesh.set(c.path, c.data, { version: c.version })).version } }
        case 'get': {
          const n = await mesh.get(c.path, { linearizable: true })
          return { ok: true as const, value: { data: n.text(), version: n.stat.version } }
        }
        case 'acquire': {
          const lease = (await mesh.lock(c.path).acquire({ timeoutMs: c.timeoutMs })) as unknown as Lease
          leases.set(lease.path, lease)
          return { ok: true as const, value: { path: lease.path, token: lease.token } }
        }
        case 'fenced-set': {
          const fence = c.lease as unknown as Parameters<typeof mesh.set>[2] extends infer O ? (O extends { fence?: infer F } ? F : never) : never
          return { ok: true as const, value: { version: (await mesh.set(c.path, c.data, { fence })).version } }
        }
        case 'children': {
          await mesh.sync()
          const names = await mesh.children(c.path).catch(() => [] as string[])
          const out: string[] = []
          for (const name of names) out.push(`${name} (session ${(await mesh.exists(`${c.path}/${name}`))?.ephemeralOwner ?? '-'})`)
          return { ok: true as const, value: { children: out } }
        }
        case 'release': {
          const lease = leases.get(c.lease)
          leases.delete(c.lease)
          // an app retries a release that failed (NO_QUORUM in a fault): the
          // node would hold the lock until this tab's session ends
          await lease?.release().catch(() => undefined)
          for (let attempt = 0; ; attempt++) {
            try {
              if ((await mesh.exists(c.lease, { linearizable: true })) === null) return { ok: true as const, value: { gone: true } }
              await mesh.delete(c.lease)
            } catch {
              if (attempt >= 10) return { ok: true as const, value: { gone: false } }
              await new Promise((r) => setTimeout(r, 300))
            }
          }
        }
      }
    } catch (err) {
      const e = err as { code?: string; outcome?: 'unknown'; opIndex?: number; message?: string }
      const out: { ok: false; code: string; message: string; outcome?: 'unknown'; opIndex?: number } = { ok: false, code: e.code ?? 'THROWN', message: String(e.message ?? err) }
      if (e.outcome !== undefined) out.outcome = e.outcome
      if (e.opIndex !== undefined) out.opIndex = e.opIndex
      return out
    }
  }, call)
}
