import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { MemoryEventStore } from "./event-store.js";

/**
 * Streamable HTTP on 127.0.0.1 (a free port) at `/mcp`, one SDK transport per MCP session, as
 * the SDK's own examples serve it: sessions begin with an `initialize` POST, carry
 * `Mcp-Session-Id` after that, keep their SSE events for resumption, and refuse a `Host` that is
 * not this address (DNS-rebinding protection). What serves a session is up to `openSession`.
 */
export interface HttpHostOptions {
  /** Wire a new session's transport to what serves it; the result closes that. */
  openSession(transport: StreamableHTTPServerTransport): Promise<() => Promise<void>>;
  /**
   * Close a session once it has had no open request for this long (clients often leave without
   * a DELETE, and a bridged session holds processes). Default 3000 ms; 0 keeps sessions.
   */
  idleMs?: number;
  /** Where to say what happened to sessions (default: nowhere). */
  log?: (line: string) => void;
}

export interface HttpHost {
  url: string;
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  close: () => Promise<void>;
  open: number;
  idle?: NodeJS.Timeout;
  closed: boolean;
}

const MAX_BODY = 4 * 1024 * 1024;

function jsonError(res: ServerResponse, status: number, code: number, message: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function startHttpHost(opts: HttpHostOptions): Promise<HttpHost> {
  const idleMs = opts.idleMs ?? 3000;
  const log = opts.log ?? (() => {});
  const sessions = new Map<string, Session>();
  const pending = new Set<Session>();
  let allowedHosts: string[] = [];

  const closeSession = async (s: Session, why: string) => {
    if (s.closed) return;
    s.closed = true;
    clearTimeout(s.idle);
    pending.delete(s);
    const id = s.transport.sessionId;
    if (id !== undefined) sessions.delete(id);
    log(`session ${id ?? "(uninitialized)"} closed: ${why}`);
    await Promise.allSettled([s.transport.close(), s.close()]);
  };

  const track = (s: Session, res: ServerResponse) => {
    s.open++;
    clearTimeout(s.idle);
    res.once("close", () => {
      s.open--;
      if (s.open === 0 && idleMs > 0 && !s.closed) {
        s.idle = setTimeout(() => void closeSession(s, `idle ${idleMs} ms`), idleMs);
      }
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (new URL(req.url ?? "/", "http://h").pathname !== "/mcp") {
      res.writeHead(404).end();
      return;
    }
    const sid = req.headers["mcp-session-id"];
    const known = typeof sid === "string" ? sessions.get(sid) : undefined;
    if (typeof sid === "string" && known === undefined) {
      jsonError(res, 404, -32001, "Session not found");
      return;
    }
    if (req.method !== "POST") {
      if (known === undefined) {
        jsonError(res, 400, -32000, "Bad Request: No valid session ID provided");
        return;
      }
      track(known, res);
      await known.transport.handleRequest(req, res);
      return;
    }
    const raw = await readBody(req);
    if (raw === undefined) {
      jsonError(res, 413, -32600, "request body too large");
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      jsonError(res, 400, -32700, "Parse error");
      return;
    }
    if (known !== undefined) {
      track(known, res);
      await known.transport.handleRequest(req, res, body);
      return;
    }
    if (!isInitializeRequest(body)) {
      jsonError(res, 400, -32000, "Bad Request: No valid session ID provided");
      return;
    }
    // what the session's transport would refuse anyway, refused before a session (for a bridge,
    // a process) is opened for it
    if (!allowedHosts.includes(req.headers.host ?? "")) {
      jsonError(res, 403, -32000, `Invalid Host header: ${req.headers.host}`);
      return;
    }
    let session: Session | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new MemoryEventStore(),
      enableDnsRebindingProtection: true,
      allowedHosts,
      onsessioninitialized: (id) => {
        if (session === undefined) return;
        sessions.set(id, session);
        log(`session ${id} opened`);
      },
    });
    let close: () => Promise<void>;
    try {
      close = await opts.openSession(transport);
    } catch (err) {
      jsonError(res, 500, -32603, `could not open a session: ${(err as Error).message}`);
      return;
    }
    session = { transport, close, open: 0, closed: false };
    pending.add(session);
    track(session, res);
    await session.transport.handleRequest(req, res, body);
    // refused (a foreign Host) or failed: nothing will ever address this session again
    if (session.transport.sessionId === undefined) await closeSession(session, "initialize refused");
    else pending.delete(session);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => jsonError(res, 500, -32603, (err as Error).message));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: async () => {
      await Promise.allSettled(
        [...sessions.values(), ...pending].map((s) => closeSession(s, "host closing")),
      );
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
