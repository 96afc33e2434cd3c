// `npm start`: the demo (Vite, in middleware mode) and the signaling server on
// one port, so two browsers opening the demo URL meet with no extra step.
//   npm start -- --port 4444 --host 0.0.0.0
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { createServer as createVite } from 'vite'
import { startSignalingServer } from '../src/server/index'

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback
}

const port = Number(arg('port', process.env.PORT ?? '4444'))
const host = arg('host', 'localhost')
const root = fileURLToPath(new URL('../demo', import.meta.url))

// No HMR here: the port's WebSocket upgrades belong to the signaling server,
// so Vite's client (whose socket would be refused) is left out of the page.
const noViteClient = {
  name: 'meshkeeper-no-vite-client',
  transformIndexHtml: {
    order: 'post' as const,
    handler: (html: string) => html.replace(/<script type="module" src="\/@vite\/client"><\/script>\s*/g, ''),
  },
}
const vite = await createVite({ root, configFile: false, plugins: [noViteClient], server: { middlewareMode: true, hmr: false, ws: false }, appType: 'spa', logLevel: 'warn' })
const http = createServer()
const signaling = await startSignalingServer({ server: http, path: '/signal' })
http.on('request', (req, res) => {
  if (req.url === '/health') return signaling.handleRequest?.(req, res)
  vite.middlewares(req, res)
})
http.listen(port, host, () => {
  console.log(`meshkeeper demo:      http://${host}:${port}/?room=demo`)
  console.log(`signaling server:     ws://${host}:${port}/signal`)
})

async function shutdown(): Promise<void> {
  await signaling.close()
  await vite.close()
  http.close()
  process.exit(0)
}
process.on('SIGINT', () => void shutdown())
process.on('SIGTERM', () => void shutdown())
