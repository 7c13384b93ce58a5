import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/sdk/types.js";
import { startHttpHost } from "./http-host.js";

/**
 * Serves a stdio MCP server over Streamable HTTP, one child process per MCP session, relaying
 * messages between the SDK's own transports (StreamableHTTPServerTransport on the HTTP side,
 * StdioClientTransport on the child's). The conformance suite speaks HTTP only; this puts a
 * stdio server (or `assay mcp wrap -- <server>`) in front of it, and the same bridge without the
 * gate is what the gate is compared with.
 *
 *   tsx test/conformance/stdio-bridge.ts [--log-dir <dir>] -- <command> [args...]
 *
 * `{session}` in the arguments becomes the session's number (1, 2, ...), e.g. to give each
 * `assay mcp wrap` its own decision log. Prints `listening <url>` on stdout when ready.
 *
 * Over stdio nothing says which client request a server message belongs to, while Streamable
 * HTTP sends a message on the stream of the request it relates to. So: a progress notification
 * goes with the request that carried its progress token; any other server notification or
 * request goes with the client's only unanswered request when there is exactly one (what the
 * SDK's servers do when a tool handler logs, samples or elicits), else on the GET stream.
 */

function isResponse(m: JSONRPCMessage): m is JSONRPCMessage & { id: RequestId } {
  return "id" in m && ("result" in m || "error" in m);
}

function isRequest(m: JSONRPCMessage): m is JSONRPCMessage & { id: RequestId; method: string } {
  return "id" in m && "method" in m;
}

/** Wire one HTTP session to one child; the result closes the child. */
export async function bridgeSession(
  http: StreamableHTTPServerTransport,
  command: string,
  args: string[],
  stderr?: WriteStream,
): Promise<() => Promise<void>> {
  const child = new StdioClientTransport({
    command,
    args,
    env: process.env as Record<string, string>,
    stderr: stderr === undefined ? "ignore" : "pipe",
  });
  if (stderr !== undefined) child.stderr?.pipe(stderr);
  const unanswered = new Set<RequestId>();
  const progress = new Map<string | number, RequestId>();

  http.onmessage = (m) => {
    if (isRequest(m)) {
      unanswered.add(m.id);
      const token = (m as { params?: { _meta?: { progressToken?: string | number } } }).params?._meta
        ?.progressToken;
      if (token !== undefined) progress.set(token, m.id);
    }
    child.send(m).catch((err: unknown) => stderr?.write(`bridge: to child: ${(err as Error).message}\n`));
  };
  child.onmessage = (m) => {
    let related: RequestId | undefined;
    if (isResponse(m)) {
      unanswered.delete(m.id);
      for (const [token, id] of progress) if (id === m.id) progress.delete(token);
    } else if ("method" in m && m.method === "notifications/progress") {
      related = progress.get((m.params as { progressToken: string | number }).progressToken);
    } else if (unanswered.size === 1) {
      related = [...unanswered][0];
    }
    http
      .send(m, related === undefined ? undefined : { relatedRequestId: related })
      .catch((err: unknown) => stderr?.write(`bridge: to client: ${(err as Error).message}\n`));
  };
  child.onclose = () => void http.close();
  http.onclose = () => void child.close();
  child.onerror = (err) => stderr?.write(`bridge: child: ${err.message}\n`);
  await child.start();
  return () => child.close();
}

async function main(argv: string[]): Promise<void> {
  const dash = argv.indexOf("--");
  const [command, ...args] = dash < 0 ? [] : argv.slice(dash + 1);
  const logAt = argv.indexOf("--log-dir");
  const logDir = logAt >= 0 && logAt < dash ? argv[logAt + 1] : undefined;
  if (command === undefined) {
    process.stderr.write("usage: stdio-bridge.ts [--log-dir <dir>] -- <command> [args...]\n");
    process.exit(2);
  }
  let n = 0;
  const host = await startHttpHost({
    openSession: async (transport) => {
      const session = String(++n);
      const stderr =
        logDir === undefined ? undefined : createWriteStream(join(logDir, `child-${session}.log`));
      const close = await bridgeSession(
        transport,
        command,
        args.map((a) => a.replaceAll("{session}", session)),
        stderr,
      );
      return async () => {
        await close();
        stderr?.end();
      };
    },
    log: (line) => process.stderr.write(`bridge: ${line}\n`),
  });
  process.stdout.write(`listening ${host.url}\n`);
  const stop = () => void host.close().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main(process.argv.slice(2));
