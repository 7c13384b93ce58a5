import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AssayError } from "../lib/errors.js";
import type { JsonRpcId } from "../records/decision-event.js";
import { encodeJson } from "./exact-json.js";
import type { Frame } from "./frame-batcher.js";
import { commitOne, type FrameSource, stageFrame, unrecordedWarning } from "./frame-step.js";
import type { McpGate } from "./gate.js";
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_FRAME_BYTES } from "./gate-defaults.js";
import type { GateOptions } from "./gate-options.js";
import { type RequestBody, readBody } from "./http-body.js";
import { isLoopbackHost, originAllowed, singleHeader } from "./http-headers.js";
import { GateSessions } from "./http-sessions.js";
import { Upstream } from "./http-upstream.js";
import { classify, errorResponse, RPC } from "./jsonrpc.js";

export interface HttpProxyOptions extends GateOptions {
  /** The upstream MCP endpoint (http: or https:); the proxy serves the same path. */
  upstream: string | URL;
  /** Address to listen on; 127.0.0.1 by default. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Allow listening on an address that is not loopback. */
  allowRemote?: boolean;
  /** Browser origins admitted besides loopback ones (`Origin` header, exact match). */
  allowedOrigins?: readonly string[];
  /** Client POST bodies over this size are refused unread (default 4 MiB). */
  maxBodyBytes?: number;
  /**
   * Client connections open at once (default 256); one more is closed at once. Each holds at
   * most one exchange with the upstream, so this also bounds the upstream requests and answers
   * in flight.
   */
  maxConnections?: number;
  /** Where the proxy reports what it refused and what failed. */
  warn?: (line: string) => void;
  /** After refusing an oversize body, how long the rest of it may keep the connection open (5 s). */
  timers?: { drainMs?: number };
}

export interface HttpProxy {
  /** The MCP endpoint clients connect to, e.g. `http://127.0.0.1:41234/mcp`. */
  url: string;
  /** Stop listening, end every open exchange and close the decision sink. */
  close(): Promise<void>;
}

/** What the proxy answers for a session it did not see begin (the SDK server's words). */
const SESSION_NOT_FOUND = -32001;
const DRAIN_MS = 5000;

/** Connections refused over the limit are reported at most this often (a flood must not flood stderr). */
const DROP_REPORT_MS = 10_000;

/**
 * `assay mcp proxy`: the gate in front of a remote MCP server over Streamable HTTP. Every client
 * message of a POST is decided by the gate of its session before anything is forwarded; a denied
 * call is answered here; every server message coming back (JSON or SSE) passes the same gate.
 */
export async function startHttpProxy(opts: HttpProxyOptions): Promise<HttpProxy> {
  const upstreamUrl = parseUpstream(opts.upstream);
  const host = (opts.host ?? "127.0.0.1").replace(/^\[(.*)\]$/, "$1");
  if (!opts.allowRemote && !isLoopbackHost(host)) {
    throw new AssayError(
      "usage",
      `refusing to listen on \`${host}\`, which is not a loopback address: pass --allow-remote to expose the gate`,
    );
  }
  const warn = opts.warn ?? ((line: string) => process.stderr.write(`assay mcp proxy: ${line}\n`));
  const upstream = new Upstream(upstreamUrl, warn);
  const proxy = new ProxyHandler(opts, upstream, warn);
  const server = createServer((req, res) => {
    proxy.handle(req, res).catch((err) => {
      warn(`internal error: ${(err as Error).message}`);
      if (!res.headersSent)
        sendJson(res, 500, errorResponse(null, RPC.internalError, "assay gate: internal error"));
      else res.destroy();
    });
  });
  server.maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  reportDrops(server, server.maxConnections, warn);
  await listen(server, host, opts.port ?? 0);
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${addr.port}${upstreamUrl.pathname}`,
    close: () => {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        upstream.abortAll();
        server.closeAllConnections();
        await closed;
        await opts.sink?.close();
      })();
      return closing;
    },
  };
}

class ProxyHandler {
  private readonly sessions: GateSessions;
  private readonly origins: ReadonlySet<string>;
  private readonly src: FrameSource;
  private readonly drainMs: number;

  constructor(
    opts: HttpProxyOptions,
    private readonly upstream: Upstream,
    private readonly warn: (line: string) => void,
  ) {
    this.sessions = new GateSessions(opts);
    this.origins = new Set(opts.allowedOrigins ?? []);
    this.src = { noun: "body", from: "", maxBytes: opts.maxBodyBytes ?? DEFAULT_MAX_FRAME_BYTES, warn };
    this.drainMs = opts.timers?.drainMs ?? DRAIN_MS;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://proxy.invalid").pathname;
    if (path !== this.upstream.url.pathname) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not an MCP endpoint\n");
      return;
    }
    if (!originAllowed(singleHeader(req.headers, "origin"), this.origins)) {
      this.warn(`refused a request from origin \`${req.headers.origin}\``);
      sendJson(res, 403, errorResponse(null, RPC.invalidRequest, "assay gate: origin not allowed"));
      return;
    }
    const sid = singleHeader(req.headers, "mcp-session-id");
    if (sid === undefined && req.headers["mcp-session-id"] !== undefined) {
      sendJson(res, 400, errorResponse(null, RPC.invalidRequest, "assay gate: more than one Mcp-Session-Id"));
      return;
    }
    const gate = sid === undefined ? this.sessions.sessionless : this.sessions.get(sid);
    if (!gate) {
      // Not a session begun through this gate (or one it forgot): the client must initialize again.
      sendJson(res, 404, errorResponse(null, SESSION_NOT_FOUND, "Session not found"));
      return;
    }
    const onResponse = (status: number, headers: IncomingMessage["headers"]) =>
      this.track(req.method ?? "", sid, status, headers["mcp-session-id"]);
    switch (req.method) {
      case "POST":
        return this.post(req, res, gate, onResponse);
      case "GET":
      case "DELETE":
      case "OPTIONS":
        // No body is sent on: there is nothing in one an MCP server should read.
        return this.upstream.forward({ req, res, gate, ids: [], batch: false, onResponse });
      default:
        res.writeHead(405, { allow: "GET, POST, DELETE, OPTIONS" }).end();
    }
  }

  /** Keep the session table in step with what the upstream says. */
  private track(method: string, sid: string | undefined, status: number, issued: unknown): void {
    const ok = status >= 200 && status < 300;
    if (sid === undefined && ok && typeof issued === "string" && issued !== "") this.sessions.open(issued);
    if (sid !== undefined && (status === 404 || (method === "DELETE" && ok))) this.sessions.drop(sid);
  }

  private async post(
    req: IncomingMessage,
    res: ServerResponse,
    gate: McpGate,
    onResponse: (status: number, headers: IncomingMessage["headers"]) => void,
  ): Promise<void> {
    const body = await readBody(req, this.src.maxBytes);
    if (body.kind === "aborted") return;
    const frame = bodyFrame(body);
    // Staged with its text: the body goes on as the gate encoded it before recording anything.
    const staged = stageFrame(gate, frame, this.src);
    const step = await commitOne(gate, staged);
    if (frame.kind === "oversize") {
      // The rest of the body is not read: the connection ends after the answer.
      res.setHeader("connection", "close");
      res.on("finish", () => setTimeout(() => req.socket.destroy(), this.drainMs).unref());
    }
    if (step.why === "refused") {
      // A frame the gate refused is HTTP 400, answered even without an id to answer.
      const r = staged.refusal as NonNullable<typeof staged.refusal>;
      sendJson(res, 400, step.reply ?? errorResponse(null, r.code, `assay gate: ${r.message}`));
      return;
    }
    if (!step.forward) {
      // A denied call (or one that could not be recorded): the gate answers for the server.
      const unrecorded = unrecordedWarning(step);
      if (unrecorded !== undefined) this.warn(unrecorded);
      sendJson(res, 200, step.reply);
      return;
    }
    const msg = step.replacement;
    const ids: JsonRpcId[] = [];
    for (const m of Array.isArray(msg) ? msg : [msg]) {
      const k = classify(m);
      if (k.kind === "request") ids.push(k.id);
    }
    const out = Buffer.from(staged.line ?? encodeJson(msg), "utf8");
    return this.upstream.forward({ req, res, gate, body: out, ids, batch: Array.isArray(msg), onResponse });
  }
}

/** A POST body as a client frame: its text, or why it is refused unread. */
function bodyFrame(body: Exclude<RequestBody, { kind: "aborted" }>): Frame {
  if (body.kind === "oversize")
    return { kind: "oversize", prefix: body.prefix.toString("utf8"), bytes: body.bytes };
  const bytes = body.bytes;
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    return { kind: "line", text, bytes: bytes.length };
  } catch {
    return { kind: "undecodable", prefix: bytes.toString("utf8"), bytes: bytes.length };
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(encodeJson(body), "utf8");
  res
    .writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": bytes.length })
    .end(bytes);
}

function parseUpstream(u: string | URL): URL {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new AssayError("usage", `--upstream must be an http(s) URL, got \`${String(u)}\``);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new AssayError("usage", `--upstream must be an http(s) URL, got \`${url.href}\``);
  }
  return url;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) =>
      reject(new AssayError("usage", `cannot listen on ${host}:${port}: ${err.code ?? err.message}`));
    server.once("error", onError);
    server.listen({ host, port }, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/** Say when connections over the limit are closed: the first at once, then a count every so often. */
function reportDrops(server: Server, limit: number, warn: (line: string) => void): void {
  let unreported = 0;
  let timer: NodeJS.Timeout | undefined;
  const report = () => {
    timer = undefined;
    if (unreported === 0) return;
    warn(`closed ${unreported} connection(s) over the limit of ${limit} open at once (--max-connections)`);
    unreported = 0;
    timer = setTimeout(report, DROP_REPORT_MS).unref();
  };
  server.on("drop", () => {
    unreported++;
    if (timer === undefined) report();
  });
}
