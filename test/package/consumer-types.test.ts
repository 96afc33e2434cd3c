// A fresh app that installs the packed tarball with nothing but meshkeeper's
// runtime dependencies (and yjs, the peer it brings for meshkeeper/yjs) —
// no @types/node, no @types/ws, no @playwright/test — type-checks every
// subpath with skipLibCheck off, under moduleResolution NodeNext and Bundler.
// So the published .d.ts files name no type the app does not have.
//
// Installed offline: the tarball is unpacked into <app>/node_modules/meshkeeper
// and each runtime dependency (with its own dependencies) is copied from the
// repository's node_modules, as npm would lay it out. Copied, not linked: tsc
// follows a link to its real path, where every dev dependency is in reach.
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { packLibrary } from '../../scripts/pack'
import { repoRoot } from './installed-package'

const run = promisify(execFile)

interface Manifest {
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
}

const readManifest = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest

/** `names` and everything they depend on, as installed in the repository's node_modules. */
function dependencyClosure(names: string[]): string[] {
  const seen = new Set<string>()
  const queue = [...names]
  while (queue.length > 0) {
    const name = queue.pop()!
    if (seen.has(name)) continue
    seen.add(name)
    const dir = join(repoRoot, 'node_modules', name)
    if (!existsSync(dir)) throw new Error(`${name} is not installed in node_modules`)
    queue.push(...Object.keys(readManifest(dir).dependencies ?? {}))
  }
  return [...seen].sort()
}

// Every subpath, used as an app would. The structural Playwright types must
// accept any object with the page methods the helpers call.
const appSource = `
import { joinMesh, MeshError, type Mesh } from 'meshkeeper'
import { bindDoc } from 'meshkeeper/yjs'
import { createSimulatedCluster, openTabs, waitForLeader, meshOf, type MeshView } from 'meshkeeper/testing'
import { startSignalingServer, type SignalingServer } from 'meshkeeper/server'
import { joinMeshFromNode } from 'meshkeeper/node'
import * as Y from 'yjs'

export async function everySubpath(): Promise<void> {
  const mesh: Mesh = await joinMesh({ room: 'r' })
  const err: MeshError = new MeshError('NO_NODE', '/x')
  bindDoc(mesh, 'doc', new Y.Doc()).destroy()
  const cluster = createSimulatedCluster({ members: 3, seed: 1 })
  await cluster.close()
  const page = { goto: async () => null, evaluate: async <R>(fn: () => R | Promise<R>): Promise<R> => fn(), waitForFunction: async () => undefined }
  const tabs = await openTabs({ newPage: async () => page }, 'http://localhost:5173/', 2)
  const view: MeshView = await meshOf(tabs[0]!)
  const { leader } = await waitForLeader(tabs)
  const server: SignalingServer = await startSignalingServer({ port: 0 })
  await server.close()
  const fromNode: Mesh = await joinMeshFromNode({ room: 'r', signaling: 'ws://localhost:4444', wrtc: {} })
  void err, view, leader, fromNode
}
`

let root: string
let app: string
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'meshkeeper-consumer-'))
  const tarball = await packLibrary(root)
  app = join(root, 'app')
  const installed = join(app, 'node_modules', 'meshkeeper')
  mkdirSync(installed, { recursive: true })
  await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1'])
  const manifest = readManifest(installed)
  const peers = Object.keys(manifest.peerDependencies ?? {}).filter((name) => name === 'yjs')
  for (const name of dependencyClosure([...Object.keys(manifest.dependencies ?? {}), ...peers])) {
    cpSync(join(repoRoot, 'node_modules', name), join(app, 'node_modules', name), { recursive: true })
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  writeFileSync(join(app, 'app.ts'), appSource)
}, 180_000)
afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true })
})

async function typeCheck(moduleResolution: 'NodeNext' | 'Bundler'): Promise<string> {
  const config = join(app, `tsconfig.${moduleResolution}.json`)
  writeFileSync(
    config,
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: moduleResolution === 'NodeNext' ? 'NodeNext' : 'ESNext',
        moduleResolution,
        strict: true,
        noEmit: true,
        skipLibCheck: false,
      },
      files: ['app.ts'],
    }),
  )
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = await run(process.execPath, [tsc, '-p', config], { cwd: app }).catch((err: { stdout?: string }) => ({
    stdout: err.stdout ?? String(err),
  }))
  return result.stdout
}

// tsc on a shared 2-core machine: generous limits, no timing assertions
describe('a fresh app with only the runtime dependencies, skipLibCheck off', { timeout: 120_000 }, () => {
  it('has none of the dev-only type packages installed', () => {
    for (const devOnly of ['@types/node', '@types/ws', '@playwright/test', 'playwright-core']) {
      expect(existsSync(join(app, 'node_modules', devOnly)), devOnly).toBe(false)
    }
    expect(existsSync(join(app, 'node_modules', 'meshkeeper', 'dist', 'types', 'index.d.ts'))).toBe(true)
  })

  it('type-checks every subpath under moduleResolution NodeNext', async () => {
    expect(await typeCheck('NodeNext')).toBe('')
  })

  it('type-checks every subpath under moduleResolution Bundler', async () => {
    expect(await typeCheck('Bundler')).toBe('')
  })
})
