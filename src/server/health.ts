// GET /health: what it reports, and the request and response it is answered
// on. The request and response are written out as the few members the
// handler uses — Node's IncomingMessage and ServerResponse fit them — so the
// published types of meshkeeper/server need neither @types/node nor @types/ws
// (test/package/consumer-types.test.ts type-checks an app that has neither).

export interface HubStats {
  rooms: number
  sockets: number
  /** bytes queued to sockets and not yet taken by them, summed */
  bufferedBytes: number
}

export interface HealthReport extends HubStats {
  ok: true
  /** seconds since the server started */
  uptime: number
}

/** What `handleRequest` reads of a request: a Node `IncomingMessage` fits. */
export interface HealthRequest {
  method?: string | undefined
  url?: string | undefined
}

/** What `handleRequest` writes to a response: a Node `ServerResponse` fits. */
export interface HealthResponse {
  writeHead(status: number, headers: Record<string, string>): unknown
  end(body: string): unknown
}
