// The layer table of docs/layers.md holds in the code: every import in `src`
// points down the table or stays in its folder, and no files import each
// other in a loop. The table is read from the page, so a change of layering
// is a change of the documentation first.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(__dirname, '..')
const src = join(root, 'src')

/** folder (or root file) → level, from the table's rows `| 3 | \`wire\` | … |` */
function readTable(): Map<string, number> {
  const levels = new Map<string, number>()
  for (const line of readFileSync(join(root, 'docs/layers.md'), 'utf8').split('\n')) {
    const m = /^\|\s*(\d+)\s*\|\s*`([^`]+)`\s*\|/.exec(line)
    if (m) levels.set(m[2]!, Number(m[1]))
  }
  return levels
}

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p))
    else if (name.endsWith('.ts')) out.push(p)
  }
  return out
}

/** every relative module specifier: static imports and re-exports (type-only too), dynamic import() */
export function specifiers(text: string): string[] {
  const out: string[] = []
  const patterns = [/\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/g, /\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g, /^\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/gm]
  for (const re of patterns) for (const m of text.matchAll(re)) out.push(m[1]!)
  return out
}

function resolve(from: string, spec: string): string | null {
  const base = normalize(join(dirname(from), spec))
  for (const c of [base, `${base}.ts`, base.replace(/\.js$/, '.ts'), join(base, 'index.ts')]) {
    try {
      if (statSync(c).isFile()) return c
    } catch {
      // not this candidate
    }
  }
  return null
}

/** the table's name for a file: its top folder under src, or the root file itself */
function unitOf(file: string): string {
  const parts = relative(src, file).split('/')
  return parts.length === 1 ? parts[0]! : parts[0]!
}

const files = sourceFiles(src)
const graph = new Map<string, string[]>()
const unresolved: string[] = []
for (const f of files) {
  const targets: string[] = []
  for (const spec of specifiers(readFileSync(f, 'utf8'))) {
    const t = resolve(f, spec)
    if (t === null) {
      // a declaration-only module (simple-peer-bundle.d.ts) is no source file of ours
      if (!/\.d\.ts$/.test(spec) && resolve(f, `${spec}.d.ts`) === null) unresolved.push(`${relative(src, f)} → ${spec}`)
      continue
    }
    if (t.startsWith(src)) targets.push(t)
  }
  graph.set(f, targets)
}

describe('the layer table (docs/layers.md)', () => {
  const levels = readTable()

  it('names every folder and root file of src, and nothing that is not there', () => {
    const units = new Set(files.map(unitOf))
    expect([...units].filter((u) => !levels.has(u)).sort()).toEqual([])
    expect([...levels.keys()].filter((u) => !units.has(u)).sort()).toEqual([])
  })

  it('resolves every relative import in src', () => {
    expect(unresolved).toEqual([])
  })

  it('has every import point down the table or stay in its folder', () => {
    const wrong: string[] = []
    for (const [from, targets] of graph) {
      const a = unitOf(from)
      for (const to of targets) {
        const b = unitOf(to)
        if (a === b) continue
        const la = levels.get(a)!
        const lb = levels.get(b)!
        if (!(lb < la)) wrong.push(`${relative(src, from)} (${a}, level ${la}) → ${relative(src, to)} (${b}, level ${lb})`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('has no import cycle between files', () => {
    // Tarjan's strongly connected components: any component of two or more files is a cycle
    let index = 0
    const idx = new Map<string, number>()
    const low = new Map<string, number>()
    const stack: string[] = []
    const onStack = new Set<string>()
    const cycles: string[][] = []
    const visit = (v: string): void => {
      idx.set(v, index)
      low.set(v, index)
      index++
      stack.push(v)
      onStack.add(v)
      for (const w of graph.get(v) ?? []) {
        if (!idx.has(w)) {
          visit(w)
          low.set(v, Math.min(low.get(v)!, low.get(w)!))
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
      }
      if (low.get(v) === idx.get(v)) {
        const comp: string[] = []
        let w: string
        do {
          w = stack.pop()!
          onStack.delete(w)
          comp.push(relative(src, w))
        } while (w !== v)
        if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(comp.sort())
      }
    }
    for (const f of files) if (!idx.has(f)) visit(f)
    expect(cycles).toEqual([])
  })

  it('reads imports the way the code writes them (the reader itself can fail)', () => {
    const sample = "import type { A } from '../a'\nexport { b } from './b'\nconst c = await import('../c/index')\nimport './side'\nimport x from 'lib0/encoding'"
    expect(specifiers(sample).sort()).toEqual(['../a', '../c/index', './b', './side'])
  })
})
