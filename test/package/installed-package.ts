// Builds meshkeeper as an app would install it, in a temp dir, never in the
// repository's dist/ (bin/meshkeeper-signal.js prefers dist/server.js, so a
// stale dist/ would change what other engineers run):
//
//   <root>/node_modules/meshkeeper/{package.json, bin/, dist/}   the package
//   <root>/node_modules/meshkeeper/node_modules -> repo node_modules   its dependencies
//   <root>/node_modules/{yjs, vite, @types} -> repo's            what an app brings itself
//
// A consumer placed in <root>/<app>/ resolves `meshkeeper` and its subpaths
// through the exports map, as after `npm install meshkeeper`. There is no
// src/ in the package, so anything that works proves the built files work.
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

export interface InstalledPackage {
  /** the temp dir holding node_modules/ (and any consumer apps) */
  root: string
  /** <root>/node_modules/meshkeeper */
  dir: string
  remove(): void
}

export async function installBuiltPackage(): Promise<InstalledPackage> {
  const root = mkdtempSync(join(tmpdir(), 'meshkeeper-package-'))
  const dir = join(root, 'node_modules', 'meshkeeper')
  mkdirSync(dir, { recursive: true })
  cpSync(join(repoRoot, 'package.json'), join(dir, 'package.json'))
  cpSync(join(repoRoot, 'bin'), join(dir, 'bin'), { recursive: true })
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir')
  for (const appDependency of ['yjs', 'vite', '@types']) {
    symlinkSync(join(repoRoot, 'node_modules', appDependency), join(root, 'node_modules', appDependency), 'dir')
  }
  const remove = (): void => rmSync(root, { recursive: true, force: true })
  try {
    await build({
      configFile: join(repoRoot, 'vite.lib.config.ts'),
      build: { outDir: join(dir, 'dist') },
      logLevel: 'error',
    })
  } catch (err) {
    remove()
    throw err
  }
  return { root, dir, remove }
}
