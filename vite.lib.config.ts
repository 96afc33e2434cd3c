// The library build (`npm run build`): ESM only, one entry per subpath of the
// package `exports` map, dependencies left to the app's bundler, and type
// declarations under dist/types. vite.config.ts stays the demo's and Vitest's.
//
// What must stay true (test/package/exports.test.ts checks it):
// - every `exports` subpath names a file this build writes: dist/<entry>.js
//   and dist/types/<entry dir>/index.d.ts;
// - no dependency is bundled: the app resolves `simple-peer/simplepeer.min.js`
//   (the prebuilt browser bundle, no Node polyfills needed), `lib0/*` with its
//   own browser/node conditions, and shares one `yjs` with its own code;
// - bin/meshkeeper-signal.js finds dist/server.js.
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { defineConfig, type Plugin } from 'vite'

const repoRoot = fileURLToPath(new URL('.', import.meta.url))
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}

/** entry name (dist/<name>.js) → source; the names are the `exports` subpaths */
export const LIBRARY_ENTRIES = {
  index: 'src/index.ts',
  yjs: 'src/yjs/index.ts',
  testing: 'src/testing/index.ts',
  server: 'src/server/index.ts',
  node: 'src/node/index.ts',
} as const

const dependencyNames = [
  ...Object.keys(pkg.dependencies ?? {}),
  ...Object.keys(pkg.peerDependencies ?? {}),
]

/** A dependency or peer dependency (or a subpath of one: `lib0/encoding`), or a Node built-in. */
export function isExternal(id: string): boolean {
  if (id.startsWith('node:') || builtinModules.includes(id)) return true
  return dependencyNames.some((name) => id === name || id.startsWith(`${name}/`))
}

/** Fails the build when source imports a package that is neither a dependency
 *  nor a peer dependency (a dev tool such as fake-indexeddb or @roamhq/wrtc):
 *  it would be bundled into dist silently, or missing in an app. */
function onlyDeclaredDependencies(): Plugin {
  return {
    name: 'meshkeeper:only-declared-dependencies',
    enforce: 'pre',
    resolveId(id, importer) {
      const bare = !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0') && importer !== undefined
      if (bare && !isExternal(id)) {
        this.error(`'${id}' (imported by ${importer}) is not a dependency of meshkeeper: add it to dependencies or keep it out of src entries`)
      }
      return null
    },
  }
}

/** Emits .d.ts files with tsc after the bundle is written, into <outDir>/types,
 *  then gives their relative imports explicit `.js` extensions: our sources use
 *  extensionless imports (moduleResolution Bundler), which an app type-checking
 *  with moduleResolution node16/nodenext could not follow. */
function declarations(): Plugin {
  let outDir = ''
  return {
    name: 'meshkeeper:declarations',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir)
    },
    async closeBundle() {
      const typesDir = `${outDir}/types`
      const tsc = fileURLToPath(new URL('./node_modules/typescript/bin/tsc', import.meta.url))
      try {
        await promisify(execFile)(process.execPath, [tsc, '-p', `${repoRoot}tsconfig.build.json`, '--outDir', typesDir], { cwd: repoRoot })
      } catch (err) {
        const out = (err as { stdout?: string }).stdout ?? String(err)
        throw new Error(`declaration emit failed (tsc -p tsconfig.build.json):\n${out}`)
      }
      addDeclarationExtensions(typesDir)
    },
  }
}

/** `from './x'` → `from './x.js'` (or `'./x/index.js'`) in every .d.ts under dir. */
function addDeclarationExtensions(dir: string): void {
  for (const name of readdirSync(dir)) {
    const file = join(dir, name)
    if (statSync(file).isDirectory()) {
      addDeclarationExtensions(file)
      continue
    }
    if (!file.endsWith('.d.ts')) continue
    const text = readFileSync(file, 'utf8')
    const fixed = text.replace(/(from\s+|import\(\s*)(['"])(\.{1,2}\/[^'"]*)\2/g, (whole, lead: string, quote: string, spec: string) => {
      if (/\.(js|mjs|json)$/.test(spec)) return whole
      const base = join(dirname(file), spec)
      if (existsSync(`${base}.d.ts`)) return `${lead}${quote}${spec}.js${quote}`
      if (existsSync(join(base, 'index.d.ts'))) return `${lead}${quote}${spec}/index.js${quote}`
      throw new Error(`${file}: cannot resolve declaration import '${spec}'`)
    })
    if (fixed !== text) writeFileSync(file, fixed)
  }
}

export default defineConfig({
  root: repoRoot,
  publicDir: false,
  logLevel: 'warn',
  plugins: [onlyDeclaredDependencies(), declarations()],
  // planted bugs (test-only faults, src/raft/planted-bugs.ts) are off in what
  // ships: every `PLANTED_BUGS && ...` branch, and the bug names, fold away
  define: { __MESHKEEPER_PLANTED_BUGS__: 'false' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: {
      entry: Object.fromEntries(Object.entries(LIBRARY_ENTRIES).map(([name, src]) => [name, `${repoRoot}${src}`])),
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
    rollupOptions: {
      external: isExternal,
      output: { chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
})
