// The browser side of the transport bundles with Vite without any Node
// built-in: simple-peer comes from its prebuilt bundle, which carries its own
// polyfills. A guard plugin fails the build on any import of a Node module.
import { builtinModules } from 'node:module'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { build } from 'vite'
import type { Plugin, Rollup } from 'vite'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const nodeBuiltins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]))

function noNodeBuiltins(seen: string[]): Plugin {
  return {
    name: 'no-node-builtins',
    enforce: 'pre',
    resolveId(source, importer) {
      if (nodeBuiltins.has(source) || nodeBuiltins.has(source.replace(/\/$/, ''))) {
        seen.push(`${source} (from ${importer ?? '?'})`)
        throw new Error(`Node built-in "${source}" imported by ${importer}`)
      }
      return null
    },
  }
}

function bundle(entry: Record<string, string>, seen: string[]) {
  return build({
    root: repo,
    configFile: false,
    logLevel: 'silent',
    plugins: [noNodeBuiltins(seen)],
    build: { write: false, minify: false, lib: { entry, formats: ['es'] } },
  })
}

describe('browser bundle of the transport', () => {
  it('the guard catches a Node built-in: the npm simple-peer entry needs them', async () => {
    const seen: string[] = []
    await expect(bundle({ peer: 'src/transport/simple-peer-node.ts' }, seen)).rejects.toThrow(/Node built-in/)
    expect(seen.length).toBeGreaterThan(0)
  })

  it('builds with Vite for the browser with no Node built-in and no polyfill', async () => {
    const seen: string[] = []
    const out = await bundle({ transport: 'src/transport/index.ts', peer: 'src/transport/simple-peer-browser.ts' }, seen)
    expect(seen).toEqual([])
    const outputs = (Array.isArray(out) ? out : [out]) as Rollup.RollupOutput[]
    const chunks = outputs.flatMap((o) => o.output).filter((c): c is Rollup.OutputChunk => c.type === 'chunk')
    const code = chunks.map((c) => c.code).join('\n')
    expect(chunks.map((c) => c.fileName).sort()).toEqual(expect.arrayContaining(['peer.js', 'transport.js']))
    // the bundle carries simple-peer and imports nothing from outside
    expect(code).toContain('SimplePeer')
    for (const c of chunks) expect(c.imports.every((i) => chunks.some((o) => o.fileName === i))).toBe(true)
  })
})
