#!/usr/bin/env node
// The one test command (`npm test`): type-check, Vitest, then Playwright, and a
// closing line `N passed, N failed` that counts every check that ran.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs'

const out = '.test-results'
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
let passed = 0
let failed = 0

function run(cmd, args, env = {}) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } })
  return r.status ?? 1
}

// 1. Type-check counts as one check.
if (run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']) === 0) passed++
else failed++

// 2. Vitest: unit tests, simulator seeds, fuzzing.
const vitestJson = `${out}/vitest.json`
const vitestCode = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${vitestJson}`])
if (existsSync(vitestJson)) {
  const r = JSON.parse(readFileSync(vitestJson, 'utf8'))
  passed += r.numPassedTests
  failed += r.numFailedTests
  // A suite that failed to load has no tests counted: count it as a failure.
  failed += (r.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length
} else if (vitestCode !== 0) failed++

// 3. Playwright: browser end-to-end tests in Debian's Chromium.
const pwJson = `${out}/playwright.json`
const pwCode = run('npx', ['playwright', 'test', '--pass-with-no-tests', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: pwJson })
if (existsSync(pwJson)) {
  const r = JSON.parse(readFileSync(pwJson, 'utf8'))
  // flaky = failed once, passed on its retry (only files that configure
  // retries have any): counted as passed, and named so nobody misses it
  passed += (r.stats?.expected ?? 0) + (r.stats?.flaky ?? 0)
  failed += r.stats?.unexpected ?? 0
  if ((r.stats?.flaky ?? 0) > 0) console.log(`\nflaky (passed on retry): ${r.stats.flaky}`)
  if ((r.errors ?? []).length > 0 && pwCode !== 0) failed++
} else if (pwCode !== 0) failed++

console.log(`\n${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
