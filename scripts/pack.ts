// The package as npm would publish it: the library built (`npm run build`:
// the bundle and the .d.ts files under dist/types) and `npm pack`ed into a
// tarball, all in temp dirs. `npm test` checks that tarball with publint and
// @arethetypeswrong/cli; test/package/consumer-types.test.ts installs it into
// a fresh app.
//
//   npx tsx scripts/pack.ts <dest dir>   prints the tarball's path
//
// Nothing is written to the repository: bin/meshkeeper-signal.js prefers
// dist/server.js, so a dist/ left behind would change what `npm start` and
// the bin run after the next edit of src/.
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { build } from 'vite'

const repoRoot = fileURLToPath(new URL('..', import.meta.url))

/** Builds and packs meshkeeper; resolves to the path of the .tgz written into `dest`. */
export async function packLibrary(dest: string): Promise<string> {
  const stage = mkdtempSync(join(tmpdir(), 'meshkeeper-stage-'))
  try {
    // what npm would take from the repository: package.json, the README and
    // the `files` it names (dist is built below, not copied)
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { files: string[] }
    for (const entry of ['package.json', 'README.md', ...pkg.files.filter((f) => f !== 'dist')]) {
      cpSync(join(repoRoot, entry), join(stage, entry), { recursive: true })
    }
    await build({ configFile: join(repoRoot, 'vite.lib.config.ts'), build: { outDir: join(stage, 'dist') }, logLevel: 'error' })
    const { stdout } = await promisify(execFile)('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', resolve(dest)], { cwd: stage })
    const [packed] = JSON.parse(stdout) as { filename: string }[]
    return join(resolve(dest), packed!.filename)
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dest = process.argv[2]
  if (dest === undefined) {
    console.error('usage: tsx scripts/pack.ts <dest dir>')
    process.exit(2)
  }
  console.log(await packLibrary(dest))
}
