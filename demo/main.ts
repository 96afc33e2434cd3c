// The demo: joins the room of ?room= (default "demo"), shows members and the
// znode tree live, and lets a person create, set, delete and watch nodes. The
// live mesh is `window.mesh` for tests and the browser console.
import { joinMesh, MeshError } from '../src/index'
import type { CreateMode, Mesh } from '../src/index'

declare global {
  interface Window {
    mesh?: Mesh
  }
}

const params = new URLSearchParams(location.search)
const room = params.get('room') ?? 'demo'
const secret = params.get('secret') ?? undefined
// ?session=<ms>: the session timeout (tests lengthen it to show a death certificate, not the timeout, closed a session)
const sessionTimeoutMs = params.has('session') ? Number(params.get('session')) : undefined
// The demo server serves signaling on the page's own origin unless ?signal= names another.
const signaling = params.get('signal') ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signal`

const $ = <T extends Element>(sel: string) => document.querySelector(sel) as T
const status = $<HTMLElement>('#status')
const log = $<HTMLOListElement>('#log')

function note(text: string, error = false): void {
  const li = document.createElement('li')
  li.textContent = `${new Date().toISOString().slice(11, 23)} ${text}`
  if (error) li.className = 'error'
  log.prepend(li)
  while (log.children.length > 200) log.lastElementChild!.remove()
}

function renderMembers(mesh: Mesh): void {
  const body = $<HTMLTableSectionElement>('#members tbody')
  body.replaceChildren(
    ...mesh.members().map((m) => {
      const tr = document.createElement('tr')
      if (m.self) tr.className = 'self'
      for (const v of [m.id, m.role, m.voter ? 'yes' : 'no', m.browser, m.visible ? 'yes' : 'no']) {
        const td = document.createElement('td')
        td.textContent = v
        tr.append(td)
      }
      return tr
    }),
  )
  status.textContent = `room ${room} · ${mesh.state} · term ${mesh.term} · commit ${mesh.commitIndex} · applied ${mesh.appliedIndex} · leader ${mesh.leader ?? '—'}${mesh.isLeader ? ' (this tab)' : ''}`
}

async function renderTree(mesh: Mesh): Promise<void> {
  const lines: string[] = []
  const walk = async (path: string, depth: number): Promise<void> => {
    if (lines.length > 500) return
    let kids: string[]
    try {
      kids = await mesh.children(path)
    } catch {
      return
    }
    for (const name of kids) {
      const child = path === '/' ? `/${name}` : `${path}/${name}`
      let text = ''
      try {
        const node = await mesh.get(child)
        text = node.text().slice(0, 60)
        if (node.stat.ephemeralOwner) text += '  (ephemeral)'
      } catch {
        continue
      }
      lines.push(`${'  '.repeat(depth)}${name}  ${JSON.stringify(text)}`)
      await walk(child, depth + 1)
    }
  }
  await walk('/', 0)
  $<HTMLPreElement>('#tree').textContent = lines.join('\n') || '(empty)'
}

async function main(): Promise<void> {
  const mesh = await joinMesh({ room, secret, signaling, ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs }) })
  window.mesh = mesh
  const refreshMembers = () => renderMembers(mesh)
  let treeQueued = false
  const refreshTree = () => {
    if (treeQueued) return
    treeQueued = true
    queueMicrotask(() => {
      treeQueued = false
      renderMembers(mesh) // the commit and applied indexes moved too
      void renderTree(mesh)
    })
  }
  mesh.on('leader', (e) => {
    note(`leader ${e.leader ?? 'none'} (term ${e.term})`)
    refreshMembers()
  })
  mesh.on('state', (s) => {
    note(`state ${s}`)
    refreshMembers()
  })
  mesh.on('members', refreshMembers)
  mesh.on('error', (e) => note(`error ${e.code}: ${e.message}`, true))
  mesh.watch('/', refreshTree, { recursive: true })
  refreshMembers()
  refreshTree()

  $<HTMLFormElement>('#write').addEventListener('submit', async (ev) => {
    ev.preventDefault()
    const form = ev.target as HTMLFormElement
    const data = new FormData(form)
    const op = (ev.submitter as HTMLButtonElement | null)?.value ?? 'create'
    const path = String(data.get('path'))
    const value = String(data.get('data') ?? '')
    try {
      if (op === 'create') note(`created ${await mesh.create(path, value, { mode: data.get('mode') as CreateMode })}`)
      else if (op === 'set') note(`set ${path} → version ${(await mesh.set(path, value)).version}`)
      else if (op === 'delete') await mesh.delete(path).then(() => note(`deleted ${path}`))
      else if (op === 'watch') {
        mesh.watch(path, (e) => note(`watch ${path}: ${e.type} ${e.path} @${e.zxid}`))
        note(`watching ${path}`)
      }
    } catch (err) {
      note(err instanceof MeshError ? `${op} ${path}: ${err.code} ${err.message}` : String(err), true)
    }
  })
  addEventListener('pagehide', () => void mesh.close())
}

main().catch((err) => {
  status.textContent = `failed to join: ${err instanceof Error ? err.message : String(err)}`
  note(String(err), true)
})
