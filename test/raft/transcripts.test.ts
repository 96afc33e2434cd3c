import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { TranscriptRunner, parseTranscript } from './transcript'

// REWRITE=1 npx vitest run test/raft/transcripts.test.ts regenerates the
// expected traces; review the diff before committing it.
const dir = join(import.meta.dirname, 'transcripts')
const rewrite = process.env.REWRITE === '1'

describe('transcripts', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    it(file, () => {
      const src = readFileSync(join(dir, file), 'utf8')
      const runner = new TranscriptRunner()
      const rewritten: string[] = []
      const header = src.split('\n').filter((l, i, all) => l.startsWith('#') && all.slice(0, i).every((p) => p.startsWith('#')))
      for (const block of parseTranscript(src)) {
        const got = runner.run(block.command)
        if (rewrite) rewritten.push(`${block.command}\n----${got === '' ? '' : `\n${got}`}`)
        else expect(got, `${file}:${block.line} ${block.command}`).toBe(block.expected)
      }
      if (rewrite) writeFileSync(join(dir, file), `${header.join('\n')}\n\n${rewritten.join('\n\n')}\n`)
    })
  }
})
