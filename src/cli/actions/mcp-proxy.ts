import { startHttpProxy } from "../../gate/http-proxy.js";
import { AssayError, EXIT } from "../../lib/errors.js";
import type { ProxyCliOptions } from "../mcp-proxy.js";
import { integerOption } from "../options.js";
import { refuseDecisionLogOverInputs } from "./decision-log-path.js";
import { gateSetup } from "./gate-setup.js";
import { keepYoungGenerationSmall } from "./long-lived-heap.js";

/** `assay mcp proxy`: serve the gate over HTTP in front of the upstream until SIGINT or SIGTERM. */
export async function mcpProxy(opts: ProxyCliOptions): Promise<number> {
  keepYoungGenerationSmall();
  refuseDecisionLogOverInputs(opts);
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
