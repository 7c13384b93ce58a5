import type { Command } from "commander";
import { DEFAULT_MAX_CONNECTIONS, startHttpProxy } from "../gate/http-proxy.js";
import { DEFAULT_MAX_FRAME_BYTES } from "../gate/stdio-gate.js";
import { AssayError, EXIT } from "../lib/errors.js";
import { addGateOptions, type GateCliOptions, gateSetup, integerOption } from "./mcp-wrap.js";

interface ProxyCliOptions extends GateCliOptions {
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
        "Exit codes: 0 after SIGINT/SIGTERM; 2 for invalid packs, unreadable files, bad flags",
        "or an address that cannot be listened on.",
      ].join("\n"),
    )
    .action((opts: ProxyCliOptions) =>
      run(async () => {
        const maxBodyBytes = integerOption("--max-body-bytes", opts.maxBodyBytes, 1024);
        const maxConnections = integerOption("--max-connections", opts.maxConnections, 1);
        const { host, port } = parseListen(opts.listen);
        let upstream: URL;
        try {
          upstream = new URL(opts.upstream);
        } catch {
          throw new AssayError("usage", `--upstream must be an http(s) URL, got \`${opts.upstream}\``);
        }
        const setup = await gateSetup(opts, upstream.host || "mcp");
        const proxy = await startHttpProxy({
          ...setup,
          upstream,
          host,
          port,
          allowRemote: opts.allowRemote === true,
          allowedOrigins: opts.allowOrigin ?? [],
          maxBodyBytes,
          maxConnections,
        }).catch(async (err) => {
          await setup.sink?.close();
          throw err;
        });
        process.stderr.write(`assay mcp proxy: listening on ${proxy.url}, upstream ${upstream.href}\n`);
        const signal = await new Promise<NodeJS.Signals>((resolve) => {
          process.once("SIGINT", () => resolve("SIGINT"));
          process.once("SIGTERM", () => resolve("SIGTERM"));
        });
        process.stderr.write(`assay mcp proxy: ${signal}: closing\n`);
        await proxy.close();
        return EXIT.ok;
      }),
    );
}

/** `127.0.0.1:8808`, `[::1]:8808`, `localhost:8808` or `8808`. */
export function parseListen(addr: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(addr) ?? /^()()(\d{1,5})$/.exec(addr);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65535) {
    throw new AssayError("usage", `--listen must be HOST:PORT, [IPV6]:PORT or PORT, got \`${addr}\``);
  }
  return { host: m[1] || m[2] || "127.0.0.1", port };
}
