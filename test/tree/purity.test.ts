// Invariant 1 of shared/design.md: src/tree is pure — it imports nothing but
// its own files and lib0, and reads no clock, randomness, timer or I/O.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const dir = join(import.meta.dirname, '../../src/tree')
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'))

describe('src/tree is pure', () => {
  it('has source files to check', () => {
    expect(files).toContain('ztree.ts')
  })

  it.each(files)('%s imports only src/tree and lib0', (file) => {
    const src = readFileSync(join(dir, file), 'utf8')
    const specifiers = [...src.matchAll(/(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]!)
    for (const s of specifiers) expect(s.startsWith('./') || s.startsWith('lib0/'), `${file} imports ${s}`).toBe(true)
  })

  it.each(files)('%s reads no clock, randomness, timer or I/O', (file) => {
    const src = readFileSync(join(dir, file), 'utf8').replace(/\/\/.*$/gm, '')
    for (const banned of ['Date', 'performance', 'Math.random', 'setTimeout', 'setInterval', 'crypto', 'indexedDB', 'fetch(', 'process.']) {
      expect(src.includes(banned), `${file} uses ${banned}`).toBe(false)
    }
  })
})
