import type { Command } from "commander";
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_FRAME_BYTES } from "../gate/gate-defaults.js";
import { addGateOptions, type GateCliOptions } from "./mcp-wrap.js";

export interface ProxyCliOptions extends GateCliOptions {
  listen: string;
  upstream: string;
  allowRemote?: boolean;
  allowOrigin?: string[];
  maxBodyBytes: string;
  maxConnections: string;
}

export function registerMcpProxy(mcp: Command, run: (fn: () => Promise<number>) => Promise<void>): void {
  addGateOptions(
    mcp
      .command("proxy")
      .description("put the policy gate in front of a remote MCP server (Streamable HTTP transport)"),
  )
    .requiredOption("--upstream <url>", "the MCP endpoint to guard, e.g. https://mcp.example.com/mcp")
    .requiredOption("--listen <addr>", "where to listen: HOST:PORT, [IPV6]:PORT or PORT (host 127.0.0.1)")
    .option(
      "--allow-remote",
      "allow --listen on an address that is not loopback (anyone who can reach it uses the upstream)",
    )
    .option("--allow-origin <origin...>", "browser origins admitted besides loopback ones (others get 403)")
    .option(
      "--max-body-bytes <n>",
      "refuse client POST bodies larger than this",
      String(DEFAULT_MAX_FRAME_BYTES),
    )
    .option(
      "--max-connections <n>",
      "client connections open at once; one more is closed at once",
      String(DEFAULT_MAX_CONNECTIONS),
    )
    .addHelpText(
      "after",
      [
        "",
        "The proxy serves the upstream's path (below: /mcp) and runs until SIGINT or SIGTERM.",
        "Every MCP session the upstream opens through it (its Mcp-Session-Id) gets a gate of its",
        "own, so session limits and sequences hold per session; requests without a session id (a",
        "stateless upstream) share one gate. Records name sessions by random ids (`<id>.<n>` with",
        "--session-id), never by the Mcp-Session-Id. A session id the proxy did not see begin is",
        "answered 404, which makes the client initialize again.",
        "Answers: a denied call, HTTP 200 from the proxy (never forwarded); an unparsable, invalid or",
        "oversize body, 400; an unreachable upstream, 502; a browser Origin that is neither loopback",
        "nor allowed, 403. --listen takes loopback addresses only, unless --allow-remote is given.",
        "",
        "Example:",
        "  assay mcp proxy --policy packs/mcp-baseline.yaml --decision-log decisions.ndjson \\",
        "    --listen 127.0.0.1:8808 --upstream https://mcp.example.com/mcp",
        "  # then point the client at http://127.0.0.1:8808/mcp",
        "",
        "Exit codes: 0 after SIGINT/SIGTERM once listening; 2 for invalid packs, unreadable files,",
        "bad flags or an address that cannot be listened on.",
      ].join("\n"),
    )
    .action((opts: ProxyCliOptions) =>
      run(async () => (await import("./actions/mcp-proxy.js")).mcpProxy(opts)),
    );
}
