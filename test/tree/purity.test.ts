// Invariant 1 of shared/design.md: the cores (src/tree, src/raft) are pure —
// each imports nothing but its own files, lib0 and the one checked reader in
// src/codec (which itself imports only lib0), and reads no clock, randomness,
// timer or I/O.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const src = join(import.meta.dirname, '../../src')
const filesOf = (folder: string): string[] => readdirSync(join(src, folder)).filter((f) => f.endsWith('.ts'))
const importsOf = (text: string): string[] => [...text.matchAll(/(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]!)

/** what each pure folder may import besides its own files */
const ALLOWED: Record<string, (specifier: string) => boolean> = {
  tree: (s) => s.startsWith('lib0/') || s === '../codec/checked-reader',
  raft: (s) => s.startsWith('lib0/') || s === '../codec/checked-reader',
  codec: (s) => s.startsWith('lib0/'),
}

describe.each(Object.keys(ALLOWED))('src/%s is pure', (folder) => {
  const files = filesOf(folder)

  it('has source files to check', () => {
    expect(files.length).toBeGreaterThan(0)
  })

  it.each(files)('%s imports only its folder, lib0 and src/codec', (file) => {
    const text = readFileSync(join(src, folder, file), 'utf8')
    for (const s of importsOf(text)) expect(s.startsWith('./') || ALLOWED[folder]!(s), `${file} imports ${s}`).toBe(true)
  })

  it.each(files)('%s reads no clock, randomness, timer or I/O', (file) => {
    const text = readFileSync(join(src, folder, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
    // whole words: src/raft speaks of candidates and updates
    for (const banned of [/\bDate\b/, /\bperformance\b/, /Math\.random/, /\bsetTimeout\b/, /\bsetInterval\b/, /\bcrypto\b/, /\bindexedDB\b/, /\bfetch\(/, /\bprocess\./]) {
      expect(banned.test(text), `${file} uses ${banned}`).toBe(false)
    }
  })
})
