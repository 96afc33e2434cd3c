// The published package: its exports map names built files, ESM only with
// `types` first; the Node entries (testing, server, node) import and work from
// dist; the bin runs the
// built server; an app type-checking with moduleResolution NodeNext sees real
// types (not `any`) through every subpath.
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installBuiltPackage, repoRoot, type InstalledPackage } from './installed-package'

const run = promisify(execFile)

interface PackageJson {
  type?: string
  sideEffects?: boolean
  main?: string
  types?: string
  exports: Record<string, string | Record<string, string>>
  bin: Record<string, string>
  dependencies: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
  typesVersions?: Record<string, Record<string, string[]>>
}

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageJson
const subpaths = ['.', './yjs', './testing', './server', './node'] as const

let installed: InstalledPackage
beforeAll(async () => {
  installed = await installBuiltPackage()
}, 180_000)
afterAll(() => installed?.remove())

function conditionsOf(subpath: string): Record<string, string> {
  const entry = pkg.exports[subpath]
  if (typeof entry !== 'object') throw new Error(`exports['${subpath}'] is not a conditions object`)
  return entry
}

/** Runs an ESM script placed in a consumer dir next to the installed package. */
async function runConsumerScript(name: string, source: string): Promise<string> {
  const dir = join(installed.root, 'consumer')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, name), source)
  const { stdout } = await run(process.execPath, [join(dir, name)], { cwd: dir, timeout: 60_000 })
  return stdout
}

describe('package.json', () => {
  it('is ESM only, side-effect free, with no CommonJS entry', () => {
    expect(pkg.type).toBe('module')
    expect(pkg.sideEffects).toBe(false)
    expect(pkg.main).toBeUndefined()
    expect(pkg.types).toBe(conditionsOf('.').types)
  })

  it('has exactly the subpaths of shared/api.md and meshkeeper/node, each with `types` first and then `import` only', () => {
    expect(Object.keys(pkg.exports).sort()).toEqual([...subpaths, './package.json'].sort())
    for (const subpath of subpaths) {
      expect(Object.keys(conditionsOf(subpath)), subpath).toEqual(['types', 'import'])
    }
  })

  it('keeps yjs an optional peer dependency, not a dependency', () => {
    expect(pkg.peerDependencies?.yjs).toBeDefined()
    expect(pkg.peerDependenciesMeta?.yjs?.optional).toBe(true)
    expect(pkg.dependencies.yjs).toBeUndefined()
  })

  it('makes @playwright/test (what meshkeeper/testing\'s Playwright helpers drive) an optional peer dependency, not a dependency', () => {
    expect(pkg.peerDependencies?.['@playwright/test']).toBeDefined()
    expect(pkg.peerDependenciesMeta?.['@playwright/test']?.optional).toBe(true)
    expect(pkg.dependencies['@playwright/test']).toBeUndefined()
  })

  it('maps every subpath to its `types` in typesVersions too, for apps on moduleResolution node10', () => {
    const mapped = pkg.typesVersions?.['*'] ?? {}
    const expected = Object.fromEntries(subpaths.filter((s) => s !== '.').map((s) => [s.slice(2), [conditionsOf(s).types]]))
    expect(mapped).toEqual(expected)
  })
})

// tsc and child processes on a shared 2-core machine: generous limits, no timing assertions
describe('the built package', { timeout: 180_000 }, () => {
  it('writes every file the exports map and bin name', () => {
    for (const subpath of subpaths) {
      for (const [condition, target] of Object.entries(conditionsOf(subpath))) {
        expect(existsSync(join(installed.dir, target)), `${subpath} ${condition} → ${target}`).toBe(true)
      }
    }
    for (const target of Object.values(pkg.bin)) expect(existsSync(join(installed.dir, target)), target).toBe(true)
  })

  it('publishes (npm pack) every file the exports map and bin name', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: installed.dir })
    const packed = new Set((JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path))
    const named = [...subpaths.flatMap((subpath) => Object.values(conditionsOf(subpath))), ...Object.values(pkg.bin)]
    for (const target of named) expect(packed.has(target.replace(/^\.\//, '')), target).toBe(true)
  })

  it('emits ES modules that import only dependencies, Node built-ins and their own chunks', () => {
    const dist = join(installed.dir, 'dist')
    const files = [
      ...readdirSync(dist).filter((f) => f.endsWith('.js')),
      ...readdirSync(join(dist, 'chunks')).map((f) => `chunks/${f}`).filter((f) => f.endsWith('.js')),
    ]
    const allowed = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies ?? {})]
    for (const file of files) {
      const code = readFileSync(join(dist, file), 'utf8')
      expect(code, `${file} uses CommonJS`).not.toMatch(/\brequire\(|module\.exports|exports\.\w+\s*=/)
      for (const [, spec] of code.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*"([^"]+)"/g)) {
        const ok =
          spec!.startsWith('./') ||
          spec!.startsWith('../') ||
          spec!.startsWith('node:') ||
          builtinModules.includes(spec!) ||
          allowed.some((dep) => spec === dep || spec!.startsWith(`${dep}/`))
        expect(ok, `${file} imports '${spec}', which is neither a dependency nor bundled`).toBe(true)
      }
    }
  })

  it('keeps Node built-ins and ws out of the browser entries and the chunks they load', () => {
    const dist = join(installed.dir, 'dist')
    const seen = new Set<string>()
    const visit = (file: string): void => {
      if (seen.has(file)) return
      seen.add(file)
      const code = readFileSync(join(dist, file), 'utf8')
      for (const [, spec] of code.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*"([^"]+)"/g)) {
        if (spec!.startsWith('./')) {
          visit(join(file, '..', spec!))
          continue
        }
        const nodeOnly = spec!.startsWith('node:') || builtinModules.includes(spec!) || spec === 'ws'
        expect(nodeOnly, `${file} (reached from a browser entry) imports '${spec}'`).toBe(false)
      }
    }
    visit('index.js')
    visit('yjs.js')
    expect(seen.size).toBeGreaterThan(2)
  })

  it('meshkeeper/testing imports in Node and runs a simulated cluster from dist', async () => {
    const out = await runConsumerScript(
      'testing.mjs',
      `import { createSimulatedCluster } from 'meshkeeper/testing'
       const cluster = createSimulatedCluster({ members: 3, seed: 7 })
       const [a, b] = cluster.meshes
       const path = await a.create('/from-dist', 'hello')
       await b.sync()
       const node = await b.get(path)
       console.log(JSON.stringify({ path, text: node.text(), resolved: import.meta.resolve('meshkeeper/testing') }))
       await cluster.close()
       process.exit(0)`,
    )
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { path: string; text: string; resolved: string }
    expect(result).toMatchObject({ path: '/from-dist', text: 'hello' })
    expect(result.resolved).toMatch(/node_modules\/meshkeeper\/dist\/testing\.js$/)
  })

  it('meshkeeper/node leaves ws to the app\'s install and never imports @roamhq/wrtc (the caller passes it in)', () => {
    const dist = join(installed.dir, 'dist')
    const seen = new Set<string>()
    const bare = new Set<string>()
    const visit = (file: string): void => {
      if (seen.has(file)) return
      seen.add(file)
      const code = readFileSync(join(dist, file), 'utf8')
      expect(code, `${file} imports @roamhq/wrtc dynamically`).not.toMatch(/import\(\s*["']@roamhq\/wrtc/)
      for (const [, spec] of code.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*"([^"]+)"/g)) {
        if (spec!.startsWith('./')) visit(join(file, '..', spec!))
        else bare.add(spec!)
      }
    }
    visit('node.js')
    expect(bare.has('ws'), 'node.js imports ws (not bundled)').toBe(true)
    expect(bare.has('@roamhq/wrtc'), 'node.js imports @roamhq/wrtc').toBe(false)
    // a bundled ws would carry its WebSocket implementation along
    for (const file of seen) expect(readFileSync(join(dist, file), 'utf8'), file).not.toMatch(/class WebSocket extends EventEmitter/)
  })

  it('meshkeeper/node imports in Node from dist and refuses an empty room with BAD_ARGUMENTS before any network', async () => {
    const out = await runConsumerScript(
      'node.mjs',
      `import { joinMeshFromNode, MeshError } from 'meshkeeper/node'
       import { MeshError as BrowserMeshError } from 'meshkeeper'
       const result = { type: typeof joinMeshFromNode, sameMeshError: MeshError === BrowserMeshError, resolved: import.meta.resolve('meshkeeper/node') }
       try {
         // port 1: were it contacted, this would fail differently (and slowly)
         await joinMeshFromNode({ room: '', signaling: 'ws://127.0.0.1:1/', wrtc: {} })
         result.outcome = 'resolved'
       } catch (err) {
         result.outcome = { isMeshError: err instanceof MeshError, code: err.code, message: err.message }
       }
       console.log(JSON.stringify(result))`,
    )
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>
    expect(result).toMatchObject({ type: 'function', sameMeshError: true, outcome: { isMeshError: true, code: 'BAD_ARGUMENTS' } })
    expect(result.resolved).toMatch(/node_modules\/meshkeeper\/dist\/node\.js$/)
  })

  it('meshkeeper/server imports in Node and serves /health from dist', async () => {
    const out = await runConsumerScript(
      'server.mjs',
      `import { startSignalingServer } from 'meshkeeper/server'
       const server = await startSignalingServer({ port: 0, host: '127.0.0.1' })
       const health = await (await fetch('http://127.0.0.1:' + server.port + '/health')).json()
       await server.close()
       console.log(JSON.stringify(health))`,
    )
    expect(JSON.parse(out.trim())).toMatchObject({ ok: true })
  })

  it('bin/meshkeeper-signal runs the built dist/server.js (the package has no src/ to fall back on)', async () => {
    expect(existsSync(join(installed.dir, 'src'))).toBe(false)
    const child = spawn(process.execPath, [join(installed.dir, 'bin', 'meshkeeper-signal.js'), '--port', '0', '--host', '127.0.0.1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = ''
        let err = ''
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString()
          const m = /listening on (ws:\/\/\S+)/.exec(out)
          if (m) resolve(m[1]!)
        })
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
        child.on('exit', (code) => reject(new Error(`meshkeeper-signal exited ${code}: ${err}${out}`)))
      })
      const health = (await (await fetch(`http://${new URL(url).host}/health`)).json()) as { ok: boolean }
      expect(health.ok).toBe(true)
    } finally {
      child.kill('SIGTERM')
    }
  })

  it('gives an app on moduleResolution NodeNext real types through every subpath', async () => {
    const dir = join(installed.root, 'typed-app')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023', 'DOM'],
          types: ['node'],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
        },
        files: ['app.ts'],
      }),
    )
    // Each @ts-expect-error must find an error: were a type `any` (a declaration
    // import that did not resolve), the directive itself would be the error.
    writeFileSync(
      join(dir, 'app.ts'),
      `import { joinMesh, MeshError, type Mesh } from 'meshkeeper'
       import { bindDoc } from 'meshkeeper/yjs'
       import { createSimulatedCluster } from 'meshkeeper/testing'
       import { startSignalingServer } from 'meshkeeper/server'
       import { joinMeshFromNode, type NodeJoinOptions } from 'meshkeeper/node'
       import * as Y from 'yjs'
       export async function typed(mesh: Mesh): Promise<void> {
         // @ts-expect-error term is a number
         const term: string = mesh.term
         // @ts-expect-error create takes a path
         await mesh.create(42)
         // @ts-expect-error storage is 'indexeddb' | 'memory'
         await joinMesh({ room: 'r', storage: 'disk' })
         // @ts-expect-error code is a union of error codes
         const code: 'NOPE' = new MeshError('NO_NODE', 'x').code
         // @ts-expect-error members is a number
         createSimulatedCluster({ members: 'three' })
         // @ts-expect-error port is a number
         await startSignalingServer({ port: 'x' })
         // @ts-expect-error the third argument is a Y.Doc
         bindDoc(mesh, 'doc', {})
         bindDoc(mesh, 'doc', new Y.Doc()).destroy()
         // @ts-expect-error signaling is required: a Node member finds peers only through it
         const noSignaling: NodeJoinOptions = { room: 'r', wrtc: {} }
         const fromNode: Mesh = await joinMeshFromNode({ room: 'r', signaling: 'ws://localhost:4444', wrtc: {} })
         // @ts-expect-error isLeader is a boolean
         const leads: string = fromNode.isLeader
         void term, code, noSignaling, leads
       }
      `,
    )
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc')
    const result = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir }).catch(
      (err: { stdout?: string }) => ({ stdout: err.stdout ?? String(err) }),
    )
    expect(result.stdout).toBe('')
  })
})
