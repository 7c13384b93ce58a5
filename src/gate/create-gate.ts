import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { AssayError } from "../lib/errors.js";
import { McpGate } from "./gate.js";
import type { GateOptions } from "./gate-options.js";
import { GatedTransport } from "./gated-transport.js";
import { PinSet } from "./pins.js";

/** The in-process gate: one configuration, and one gated connection per `wrap`. */
export interface Gate {
  /**
   * Put the gate between an MCP client and `transport`, the client's connection to one server.
   * Each wrapped transport is its own gate session (limits, sequences, session id, what was
   * listed and what drifted); the sink, the pins themselves and the rest of the options are shared.
   */
  wrap(transport: Transport): GatedTransport;
}

/**
 * The gate of `assay mcp wrap`, in-process: same decisions, same records.
 *
 * ```ts
 * const gate = createGate({ policy, sink: await FileDecisionLog.open("decisions.ndjson") });
 * await client.connect(gate.wrap(new StdioClientTransport({ command: "my-server" })));
 * ```
 *
 * Without `pins`, each connection pins its tools on the first `tools/list` (as `assay mcp wrap`
 * does without `--pins`). The sink is the caller's: the gate never closes it.
 */
export function createGate(options: GateOptions): Gate {
  if (typeof options?.policy !== "object" || options.policy === null) {
    throw new AssayError("usage", "createGate needs a compiled `policy` (see compilePolicy)");
  }
  let wrapped = 0;
  return {
    wrap(transport) {
      if (options.sessionId !== undefined && wrapped > 0) {
        throw new AssayError(
          "usage",
          `a gate with the fixed session id \`${options.sessionId}\` wraps one transport: call createGate again for another connection`,
        );
      }
      wrapped++;
      // Given pins are shared, but each connection compares its own listings with them.
      const pins = options.pins ? options.pins.session() : new PinSet();
      return new GatedTransport(transport, new McpGate({ ...options, pins }));
    },
  };
}
