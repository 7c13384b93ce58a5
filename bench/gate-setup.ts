import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// What bench:gate and bench:gate-counts share: the server they put hops in front of, and the packs
// the gated setups run with.

/** The repository's root. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

const requireHere = createRequire(import.meta.url);

/** @modelcontextprotocol/server-everything over stdio, started by this node (tool `echo`). */
export const EVERYTHING_SERVER = [
  process.execPath,
  join(dirname(requireHere.resolve("@modelcontextprotocol/server-everything/package.json")), "dist/index.js"),
  "stdio",
];

/** The application's allow-list pack the gated setups run with, beside packs/mcp-baseline.yaml. */
export const APP_PACK = join(ROOT, "bench/fixtures/bench-app.yaml");

/** The gated setups' packs, in order. */
export const GATE_PACKS = [join(ROOT, "packs/mcp-baseline.yaml"), APP_PACK];
