// The design's promise (shared/design.md, "Why these dependencies"): an app
// that uses meshkeeper needs no Node polyfills. test/fixtures/plain-vite-app
// is such an app — Vite's defaults plus a guard that fails the build on any
// Node built-in — built here against the built package as installed from npm,
// then run in Chromium, where it joins a mesh, creates and reads a znode and
// binds a Y.Doc.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { chromium, type Browser, type Page } from '@playwright/test'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumLaunch } from '../../playwright.config'
import type { PageResult } from '../fixtures/plain-vite-app/main'
import { installBuiltPackage, repoRoot, type InstalledPackage } from './installed-package'

const fixture = join(repoRoot, 'test', 'fixtures', 'plain-vite-app')

let installed: InstalledPackage
let appDir: string

beforeAll(async () => {
  installed = await installBuiltPackage()
  appDir = join(installed.root, 'plain-vite-app')
  cpSync(fixture, appDir, { recursive: true })
}, 180_000)
afterAll(() => installed?.remove())

/** Build an app dir with its own vite.config.ts; a failure names what went wrong. */
async function buildApp(dir: string): Promise<void> {
  await build({ root: dir, configFile: join(dir, 'vite.config.ts'), logLevel: 'error' })
}

function serveStatic(dir: string): Promise<Server> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' }
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const file = normalize(join(dir, url.pathname === '/' ? 'index.html' : url.pathname))
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' })
    res.end(readFileSync(file))
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

// builds, tsc and a browser on a shared 2-core machine: generous limits, no timing assertions
describe('a plain Vite app using meshkeeper', { timeout: 180_000 }, () => {
  it('builds with no Node built-in reaching the bundle', async () => {
    await buildApp(appDir)
    const assets = join(appDir, 'dist', 'assets')
    const scripts = readdirSync(assets).filter((f) => f.endsWith('.js'))
    expect(scripts.length).toBeGreaterThan(0)
    let bytes = 0
    let gzipped = 0
    for (const script of scripts) {
      const code = readFileSync(join(assets, script))
      // Vite's stand-in for a Node built-in it could not bundle
      expect(code.toString('utf8')).not.toContain('__vite-browser-external')
      bytes += code.length
      gzipped += gzipSync(code).length
    }
    // a figure, not an assertion: the whole app (meshkeeper, simple-peer's bundle, yjs, lib0, idb), minified
    console.log(`plain Vite app bundle: ${(bytes / 1024).toFixed(1)} KiB JS, ${(gzipped / 1024).toFixed(1)} KiB gzip`)
  })

  it('type-checks against the installed package as a Vite app would (moduleResolution Bundler)', async () => {
    const main = readFileSync(join(fixture, 'main.ts'), 'utf8').replace(/^\/\/ @ts-nocheck[^\n]*\n/, '')
    expect(main).not.toContain('@ts-nocheck')
    writeFileSync(join(appDir, 'main.ts'), main)
    writeFileSync(
      join(appDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          types: [],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          verbatimModuleSyntax: true,
        },
        files: ['main.ts'],
      }),
    )
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc')
    const out = await promisify(execFile)(process.execPath, [tsc, '-p', join(appDir, 'tsconfig.json')], { cwd: appDir }).then(
      (r) => r.stdout,
      (err: { stdout?: string }) => err.stdout ?? String(err),
    )
    expect(out).toBe('')
  })

  it('the guard fails the build, naming the import, when a Node built-in sneaks in', async () => {
    for (const builtin of ['events', 'node:crypto', 'buffer/']) {
      const dir = join(installed.root, `leaky-${builtin.replace(/\W/g, '-')}`)
      mkdirSync(dir, { recursive: true })
      cpSync(join(fixture, 'vite.config.ts'), join(dir, 'vite.config.ts'))
      cpSync(join(fixture, 'no-node-builtins.ts'), join(dir, 'no-node-builtins.ts'))
      writeFileSync(join(dir, 'index.html'), '<script type="module" src="./main.ts"></script>')
      writeFileSync(join(dir, 'main.ts'), `import * as leaked from '${builtin}'\nconsole.log(leaked)\n`)
      const failure = await buildApp(dir).then(
        () => null,
        (err: unknown) => String(err),
      )
      expect(failure, builtin).toContain(`Node built-in '${builtin}' imported by`)
    }
  })

  it("the guard catches built-ins a dependency pulls in: simple-peer's npm entry (buffer, events, stream) instead of its prebuilt bundle", async () => {
    const entry = join(installed.dir, 'dist', 'index.js')
    const built = readFileSync(entry, 'utf8')
    expect(built).toContain('"simple-peer/simplepeer.min.js"')
    const dir = join(installed.root, 'app-with-npm-simple-peer')
    cpSync(fixture, dir, { recursive: true })
    writeFileSync(entry, built.replace('"simple-peer/simplepeer.min.js"', '"simple-peer"'))
    try {
      const failure = await buildApp(dir).then(
        () => null,
        (err: unknown) => String(err),
      )
      expect(failure).toMatch(/Node built-in '[a-z_]+\/?' imported by .*node_modules/)
    } finally {
      writeFileSync(entry, built)
    }
  })

  it('runs in Chromium: two tabs meet over WebRTC; a znode and a Y.Doc written in one are read in the other', async () => {
    const dist = join(appDir, 'dist')
    if (!existsSync(join(dist, 'index.html'))) await buildApp(appDir)
    const server = await serveStatic(dist)
    let browser: Browser | null = null
    try {
      browser = await chromium.launch(chromiumLaunch)
      const context = await browser.newContext()
      const { port } = server.address() as AddressInfo
      const room = `bundle-${Date.now()}`
      const open = async (query: string): Promise<{ page: Page; result: PageResult }> => {
        const page = await context.newPage()
        const problems: string[] = []
        page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
        page.on('console', (msg) => {
          if (msg.type() === 'error') problems.push(`console: ${msg.text()}`)
        })
        await page.goto(`http://localhost:${port}/?room=${room}${query}`)
        await page.waitForFunction(() => window.result !== undefined, undefined, { timeout: 60_000 }).catch(() => {
          throw new Error(`the page${query} never reported a result; ${problems.join('\n') || 'no page errors'}`)
        })
        const result = (await page.evaluate(() => window.result)) as PageResult
        expect(result.ok, `${result.error ?? ''}\n${problems.join('\n')}`).toBe(true)
        return { page, result }
      }
      const one = await open('')
      expect(one.result).toMatchObject({
        role: 'first',
        path: '/hello',
        text: 'from a plain Vite app',
        isLeader: true,
        missingCode: 'NO_NODE',
        docText: 'bundled',
        docNodes: 1,
      })
      const two = await open('&role=second')
      expect(two.result).toMatchObject({ role: 'second', text: 'from a plain Vite app', isLeader: false, docText: 'bundled', members: 2 })
      for (const { page } of [two, one]) await page.evaluate(() => window.closeMesh?.())
    } finally {
      await browser?.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})
