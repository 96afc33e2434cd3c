#!/usr/bin/env node
// The one test command (`npm test`): type-check, lint, Vitest, Playwright, then the
// packed package checked by publint and @arethetypeswrong/cli, and a closing
// line `N passed, N failed` that counts every check that ran.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

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

// 2. Lint (typescript-eslint strict and stylistic, type-checked; zero
// warnings) counts as one check.
if (run('npm', ['run', '--silent', 'lint']) === 0) passed++
else failed++

// 3. Vitest: unit tests, simulator seeds, fuzzing.
const vitestJson = `${out}/vitest.json`
const vitestCode = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${vitestJson}`])
if (existsSync(vitestJson)) {
  const r = JSON.parse(readFileSync(vitestJson, 'utf8'))
  passed += r.numPassedTests
  failed += r.numFailedTests
  // A suite that failed to load has no tests counted: count it as a failure.
  failed += (r.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length
} else if (vitestCode !== 0) failed++

// 4. Playwright: browser end-to-end tests in Debian's Chromium.
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

// 5. The package as npm would publish it (built and packed in a temp dir):
// publint (its warnings count too) and Are the Types Wrong each count as one
// check. attw checks every subpath under node10 (typesVersions), node16 from
// CJS and from ESM, and bundler; the one rule left out, cjs-resolves-to-esm,
// says that require() gets an ES module — meshkeeper ships ES modules only,
// on purpose (test/package/exports.test.ts).
const packDir = mkdtempSync(join(tmpdir(), 'meshkeeper-pack-'))
console.log('\n$ npx tsx scripts/pack.ts ' + packDir)
const pack = spawnSync('npx', ['tsx', 'scripts/pack.ts', packDir], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' })
const tarball = pack.status === 0 ? pack.stdout.trim().split('\n').at(-1) : undefined
if (tarball === undefined || !existsSync(tarball)) {
  console.log(`packing failed (exit ${pack.status}): publint and attw did not run`)
  failed += 2
} else {
  if (run('npx', ['publint', 'run', '--strict', tarball]) === 0) passed++
  else failed++
  if (run('npx', ['attw', tarball, '--format', 'table', '--ignore-rules', 'cjs-resolves-to-esm']) === 0) passed++
  else failed++
}
rmSync(packDir, { recursive: true, force: true })

console.log(`\n${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
