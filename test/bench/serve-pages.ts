// The bench's pages, built (harness.ts), served from their directory: a file by
// its path, nothing outside the directory, a type browsers accept for modules.
import { readFile } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import { extname, join, normalize } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}

export async function servePage(dir: string, url: string, res: ServerResponse): Promise<void> {
  const path = normalize(decodeURIComponent(new URL(url, 'http://bench').pathname)).replace(/^(\.\.[/\\])+/, '')
  const file = join(dir, path.endsWith('/') ? `${path}index.html` : path)
  if (!file.startsWith(dir)) {
    res.writeHead(403).end()
    return
  }
  try {
    const body = await readFile(file)
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' }).end(body)
  } catch {
    res.writeHead(404).end()
  }
}
