// Planted bugs (RaftConfig.bugs, MemberOptions.bugs, TreeOptions.bugs) are
// test-only faults the simulator must find (test/sim/planted-bugs.test.ts).
// What ships must hold none of them: the library build defines
// __MESHKEEPER_PLANTED_BUGS__ as false, and every branch of theirs is written
// `PLANTED_BUGS && ...` (src/raft/planted-bugs.ts), so the build drops the
// branches and with them the bugs' names. This builds the library and looks
// for each name in every emitted .js file. The names are read from the bug
// option types themselves, so a new planted bug is checked without touching
// this file.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installBuiltPackage, repoRoot, type InstalledPackage } from './installed-package'

/** the interfaces whose keys are planted bugs, and the files declaring them */
const BUG_TYPES = [
  { file: 'src/raft/types.ts', name: 'PlantedBugs' },
  { file: 'src/driver/options.ts', name: 'MemberBugs' },
  { file: 'src/tree/types.ts', name: 'TreeBugs' },
] as const

/** The property names of `interface <name>` in <file> (empty when there is no such interface). */
function keysOfInterface(file: string, name: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(join(repoRoot, file), 'utf8'), ts.ScriptTarget.Latest)
  const found = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name)
  if (found === undefined) return []
  return found.members.flatMap((m) => (m.name !== undefined && ts.isIdentifier(m.name) ? [m.name.text] : []))
}

function jsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return jsFilesUnder(path)
    return e.name.endsWith('.js') ? [path] : []
  })
}

let installed: InstalledPackage
beforeAll(async () => {
  installed = await installBuiltPackage()
}, 180_000)
afterAll(() => installed?.remove())

describe('planted bugs are not shipped', { timeout: 180_000 }, () => {
  it.each(BUG_TYPES)('$file declares $name with planted bugs to look for', ({ file, name }) => {
    expect(keysOfInterface(file, name).length, `${file} has no interface ${name} with keys: update BUG_TYPES`).toBeGreaterThan(0)
  })

  it('the library build holds no planted bug name in any .js file', () => {
    const names = [...new Set(BUG_TYPES.flatMap(({ file, name }) => keysOfInterface(file, name)))]
    const files = jsFilesUnder(join(installed.dir, 'dist'))
    expect(files.length).toBeGreaterThan(0)
    const shipped: string[] = []
    for (const file of files) {
      const text = readFileSync(file, 'utf8')
      for (const bug of names) if (new RegExp(`\\b${bug}\\b`).test(text)) shipped.push(`${bug} in ${file.slice(installed.dir.length + 1)}`)
    }
    expect(shipped).toEqual([])
  })
})
