import { shapeCall } from "../policy/call-shape.js";
import type { DecisionContext } from "../policy/decide.js";
import type { CompiledPolicy } from "../policy/ir.js";
import { toolDeniedOutright } from "../policy/tool-verdict.js";
import { type GateStep, PASS } from "./gate-step.js";
import { ambiguousKey } from "./key-folding.js";
import { TOOL_KEYS } from "./message-shape.js";
import type { ListedTool, PinSet, PinsDoc } from "./pins.js";

export interface ToolListOptions {
  policy: CompiledPolicy;
  context: DecisionContext;
  /** Remove tools the policy denies outright (default true). */
  filterTools?: boolean;
  pins?: PinSet;
  onPinsAdded?: (doc: PinsDoc) => Promise<void>;
}

/**
 * The tool lists one gate session sees: each is pinned and filtered before it reaches the
 * client, and what it declared is remembered for the answers to denied calls.
 */
export class ToolLists {
  /** Tools whose last listing declared an outputSchema: a deny result must not carry structuredContent. */
  private readonly withOutputSchema = new Set<string>();

  constructor(private readonly opts: ToolListOptions) {}

  /** Whether `tool`'s last listing declared an outputSchema. */
  hasOutputSchema(tool: string): boolean {
    return this.withOutputSchema.has(tool);
  }

  /**
   * A server message carrying a tool list (`result.tools`): pinned, and passed on without the
   * tools the client must not be offered. Synchronous unless new pins must be saved first.
   */
  step(msg: { result?: { tools?: unknown } }): GateStep | Promise<GateStep> {
    const tools = msg.result?.tools;
    if (!Array.isArray(tools)) return PASS;
    const listed = tools.filter(
      (t): t is ListedTool =>
        typeof t === "object" && t !== null && typeof (t as ListedTool).name === "string",
    );
    for (const t of listed) {
      if ((t as { outputSchema?: unknown }).outputSchema !== undefined) this.withOutputSchema.add(t.name);
      else this.withOutputSchema.delete(t.name);
    }
    const { pins, onPinsAdded, policy, context } = this.opts;
    let saving: Promise<void> | undefined;
    if (pins) {
      pins.observe(listed);
      // Every pin not stored yet, this listing's and any an earlier save failed to store.
      const unsaved = pins.unsaved();
      if (unsaved.length > 0 && onPinsAdded)
        saving = onPinsAdded(pins.toDoc()).then(() => pins.saved(unsaved));
    }
    // A drifted tool is hidden even when filtering is off: its changed description is the attack.
    const filter = this.opts.filterTools !== false;
    const kept = tools.filter((t) => {
      if (typeof t !== "object" || t === null || typeof (t as ListedTool).name !== "string") return !filter;
      // A tool whose keys a case-insensitive client could read otherwise (`Description`) is hidden.
      if (ambiguousKey(t, TOOL_KEYS) !== undefined) return false;
      const name = (t as ListedTool).name;
      // A name no call can carry (empty, too long) is a tool no call could be allowed for.
      if (!shapeCall({ tool: name }, policy.limits).ok) return false;
      if (pins?.drift(name)) return false;
      return !filter || toolDeniedOutright(policy, name, context) === undefined;
    });
    // Always the gate's own encoding of the list, never the server's bytes: a key given twice
    // ({"description": "evil", "description": "ok"}) must reach the client as the gate read it.
    const step: GateStep = {
      forward: true,
      why: "rewritten",
      replacement: kept.length === tools.length ? msg : { ...msg, result: { ...msg.result, tools: kept } },
    };
    return saving ? saving.then(() => step) : step;
  }
}
