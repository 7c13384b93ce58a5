import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { JsonRpcId } from "../records/decision-event.js";
import { encodeJson } from "./exact-json.js";
import { parseServerText, serverText } from "./frame-step.js";
import type { McpGate } from "./gate.js";
import { errorText, type GateStep } from "./gate-step.js";
import { charsetOf, downstreamHeaders, mediaType, upstreamHeaders } from "./http-headers.js";
import { errorResponse, RPC, withoutBom } from "./jsonrpc.js";
import { SerialLane } from "./serial-lane.js";
import { type SseEvent, SseSplitter, writeEvent } from "./sse-splitter.js";

/** Server messages are not policed, only bounded so a broken upstream cannot exhaust memory. */
const MAX_SERVER_JSON_BYTES = 256 * 1024 * 1024;
const MAX_SERVER_EVENT_CHARS = 256 * 1024 * 1024;

/** One client request on its way to the upstream. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  /** The gate of the request's session: every server message of the answer goes through it. */
  gate: McpGate;
  /** The body to send (POST); GET and DELETE send none. */
  body?: Buffer;
  /** Ids of the requests in the body, to answer when the upstream cannot be reached. */
  ids: readonly JsonRpcId[];
  batch: boolean;
  /** Sees the upstream's status and headers before anything reaches the client. */
  onResponse?: (status: number, headers: IncomingHttpHeaders) => void;
}

/** What the gate passes on is UTF-8, and says so whatever the upstream said. */
const JSON_TYPE = "application/json; charset=utf-8";
const SSE_TYPE = "text/event-stream; charset=utf-8";

/**
 * The upstream MCP endpoint. Forwards requests, and passes every server message of the answer
 * (a JSON body or each `data:` of an SSE stream) through the session's gate; SSE events are
 * written anew from the fields the gate read, and a message the gate did not change keeps its
 * text. A client that goes away aborts its upstream request.
 */
export class Upstream {
  private readonly inflight = new Set<AbortController>();
  private readonly agent: http.Agent;

  constructor(
    readonly url: URL,
    private readonly warn: (line: string) => void,
  ) {
    this.agent =
      url.protocol === "https:" ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  /** Resolves when the client's response is over (answered, failed or abandoned). */
  forward(x: Exchange): Promise<void> {
    // The client left while the gate was deciding: nothing is sent on its behalf.
    if (x.req.socket.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const ac = new AbortController();
      this.inflight.add(ac);
      x.res.on("close", () => {
        // The client left (or the answer is complete): nothing more is read from the upstream.
        if (!x.res.writableFinished) ac.abort();
        this.inflight.delete(ac);
        // Answers to this exchange's requests can only come on this exchange: stop waiting.
        for (const id of x.ids) x.gate.forget(id);
        resolve();
      });
      const request = this.url.protocol === "https:" ? https.request : http.request;
      const up = request(this.url, {
        method: x.req.method ?? "GET",
        headers: upstreamHeaders(x.req.headers, x.body),
        signal: ac.signal,
        agent: this.agent,
      });
      up.on("response", (ur) => {
        this.relay(x, ur).catch((err) => {
          if (ac.signal.aborted || x.res.headersSent) {
            x.res.destroy();
            return;
          }
          const why = `the upstream's answer broke off: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
          this.failed(x, why).catch(() => x.res.destroy());
        });
      });
      up.on("error", (err: NodeJS.ErrnoException) => {
        if (ac.signal.aborted) return;
        if (x.res.headersSent) {
          x.res.destroy();
          return;
        }
        this.unreachable(x, err.code ?? err.message).catch(() => x.res.destroy());
      });
      up.end(x.body);
    });
  }

  /** Abort every request in flight (the proxy is closing). */
  abortAll(): void {
    for (const ac of this.inflight) ac.abort();
    this.inflight.clear();
    this.agent.destroy();
  }

  private async relay(x: Exchange, ur: IncomingMessage): Promise<void> {
    const status = ur.statusCode ?? 502;
    x.onResponse?.(status, ur.headers);
    const type = mediaType(ur.headers["content-type"]);
    const inspected = type === "application/json" || type === "text/event-stream";
    const encoding = (ur.headers["content-encoding"] ?? "identity").trim().toLowerCase();
    if (inspected && encoding !== "identity") {
      // Fail closed: messages the gate cannot read are not passed on.
      ur.destroy();
      await this.failed(x, `the upstream answered with content-encoding \`${encoding}\``);
      return;
    }
    const charset = charsetOf(ur.headers["content-type"]);
    if (inspected && charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
      // The gate reads UTF-8; a client told another charset would read other messages than the gate.
      ur.destroy();
      await this.failed(
        x,
        `the upstream answered with charset \`${charset}\`; the gate passes on UTF-8 only`,
      );
      return;
    }
    if (status >= 300 && status < 400) {
      // A client that follows it would go around the gate.
      ur.destroy();
      await this.failed(x, `the upstream answered with a redirect (${status})`);
      return;
    }
    if (type === "text/event-stream") return this.relaySse(x, ur, status);
    if (type === "application/json") return this.relayJson(x, ur, status);
    if (status >= 200 && status < 300) return this.relayEmpty(x, ur, status, type);
    // An error status: its body is not read as messages by clients (SDKs report it as text).
    x.res.writeHead(status, downstreamHeaders(ur.headers, true));
    ur.pipe(x.res);
  }

  /**
   * A success answer that is neither JSON nor SSE may only be empty (202 to a notification):
   * with a body, whatever it holds could be read as messages the gate never saw (the SDK
   * reads a GET stream as SSE whatever its type), so the answer becomes a 502.
   */
  private async relayEmpty(x: Exchange, ur: IncomingMessage, status: number, type: string): Promise<void> {
    for await (const chunk of ur as AsyncIterable<Buffer>) {
      if (chunk.length === 0) continue;
      ur.destroy();
      await this.failed(
        x,
        `the upstream answered ${status} with a \`${type || "untyped"}\` body, neither JSON nor SSE`,
      );
      return;
    }
    x.res.writeHead(status, downstreamHeaders(ur.headers, false)).end();
  }

  private async relayJson(x: Exchange, ur: IncomingMessage, status: number): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ur as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_SERVER_JSON_BYTES) {
        ur.destroy();
        await this.failed(x, `the upstream's answer is over ${MAX_SERVER_JSON_BYTES} bytes`);
        return;
      }
      chunks.push(chunk);
    }
    let out = Buffer.concat(chunks, size);
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(out);
    } catch {
      // Clients differ on bytes that are not UTF-8 (replace, refuse, or guess another charset).
      await this.failed(x, "the upstream answered with JSON that is not valid UTF-8");
      return;
    }
    const json = withoutBom(text);
    const msg = parseServerText(json);
    if (msg === undefined && size > 0) {
      // Fail closed: an answer the gate cannot parse could be a tool list it cannot filter.
      await this.failed(x, "the upstream answered with JSON the gate cannot parse");
      return;
    }
    if (msg !== undefined) {
      const step = await x.gate.stepFromServer(msg);
      if (!step.forward) {
        // Nothing goes on (a batch none of whose members goes on included): no body at all.
        x.res.writeHead(202, downstreamHeaders(ur.headers, false)).end();
        return;
      }
      // Bytes the gate did not change go on as they came: re-encoding every answer would round
      // large integers (64-bit ids) to doubles. A tool list is always changed (re-encoded) by the gate.
      if (step.replacement !== undefined)
        out = Buffer.from(serverText(step, msg, json, false) as string, "utf8");
    }
    const headers = downstreamHeaders(ur.headers, false);
    headers["content-type"] = JSON_TYPE;
    headers["content-length"] = out.length;
    x.res.writeHead(status, headers).end(out);
  }

  private relaySse(x: Exchange, ur: IncomingMessage, status: number): Promise<void> {
    x.res.writeHead(status, { ...downstreamHeaders(ur.headers, false), "content-type": SSE_TYPE });
    x.res.flushHeaders();
    // Events are handled strictly in order (synchronously unless one has to wait); a slow
    // client pauses the upstream.
    let waiting = false;
    const write = (text: string | undefined) => {
      if (text === undefined || x.res.destroyed) return;
      if (!x.res.write(text) && !waiting) {
        waiting = true;
        ur.pause();
        x.res.once("drain", () => {
          waiting = false;
          ur.resume();
        });
      }
    };
    const lane = new SerialLane((err) => {
      this.warn(`internal error relaying an upstream event: ${errorText(err)}`);
      x.res.destroy();
    });
    const relay: SseRelay = { gate: x.gate, res: x.res, write };
    const splitter = new SseSplitter(MAX_SERVER_EVENT_CHARS, {
      event: (e) => lane.runWith(relayEvent, relay, e),
      oversize: (bytes) => this.warn(`dropped a ${bytes} byte event from the upstream`),
    });
    return new Promise<void>((resolve) => {
      let settled = false;
      const settle = (end: boolean) => {
        if (settled) return;
        settled = true;
        lane
          .idle()
          .then(() => {
            if (end) x.res.end();
            else x.res.destroy();
          })
          .finally(resolve);
      };
      ur.on("data", (chunk: Buffer) => splitter.push(chunk));
      ur.on("end", () => {
        splitter.end();
        settle(true);
      });
      // The upstream dropped the stream: so does the proxy; the client may resume (Last-Event-ID).
      ur.on("error", () => settle(false));
      ur.on("close", () => settle(false));
    });
  }

  private async unreachable(x: Exchange, why: string): Promise<void> {
    await this.failed(x, `the upstream ${this.url.origin} could not be reached: ${why}`);
  }

  /** Answer 502 with a JSON-RPC error for each request of the exchange (the gate forgets them). */
  private async failed(x: Exchange, why: string): Promise<void> {
    this.warn(why);
    const message = `assay gate: ${why}`;
    const replies = x.ids.map((id) => errorResponse(id, RPC.serverGone, message));
    for (const r of replies) await x.gate.fromServer(r);
    if (x.res.headersSent || x.res.destroyed) {
      x.res.destroy();
      return;
    }
    const body =
      x.batch && replies.length > 0 ? replies : (replies[0] ?? errorResponse(null, RPC.serverGone, message));
    const bytes = Buffer.from(encodeJson(body), "utf8");
    x.res.writeHead(502, { "content-type": JSON_TYPE, "content-length": bytes.length }).end(bytes);
  }
}

/** One SSE exchange's relay: the session's gate and where its events go. */
interface SseRelay {
  gate: McpGate;
  res: ServerResponse;
  /** Write an event's text (none: nothing to write). */
  write: (text: string | undefined) => void;
}

/**
 * One SSE event through the gate. The event is written anew from the fields the gate parsed
 * (never the upstream's bytes): a line the gate did not read as a field cannot be read as one
 * by a client whose parser differs.
 */
function relayEvent(relay: SseRelay, e: SseEvent): void | Promise<void> {
  if (relay.res.destroyed) return;
  // An event without a message (a priming event, `id:`/`retry:` only, comments) passes re-written.
  if (e.data === undefined || e.data.trim() === "") {
    relay.write(writeEvent(e.fields, e.data));
    return;
  }
  const json = withoutBom(e.data);
  const msg = parseServerText(json);
  // Fail closed: data the gate cannot read could be a tool list it cannot filter.
  if (msg === undefined) return;
  const step = relay.gate.stepFromServer(msg);
  if (step instanceof Promise) return step.then((s) => sseOut(relay, e, msg, json, s));
  sseOut(relay, e, msg, json, step);
}

/**
 * Unchanged data goes on as the text the gate parsed; what it changed keeps the numbers it did
 * not change as written (large integers keep their digits); nothing goes on when it drops it.
 */
function sseOut(relay: SseRelay, e: SseEvent, msg: unknown, json: string, step: GateStep): void {
  if (!step.forward) return;
  const data = step.replacement === undefined ? e.data : serverText(step, msg, json, false);
  relay.write(writeEvent(e.fields, data));
}
