import {
  type Call,
  type CallDoc,
  DEFAULT_COMMAND_TIMEOUT_SECONDS,
  DEFAULT_DECISION_POLICY,
  type Driver,
  type Target,
  type TargetDoc,
} from "./types.js";

/**
 * The target with every default written out, paths in bundle form (`resolvePath` gives the
 * normalized path of each reference, already checked to exist), deeply frozen.
 */
export function normalizeTarget(doc: TargetDoc, resolvePath: (path: string) => string): Target {
  const target: Target = {
    id: doc.id,
    version: doc.version,
    description: doc.description ?? "",
    packs: doc.packs.map(resolvePath),
    scenarios: doc.scenarios.map((s, k) => ({
      id: s.id,
      dimension: s.dimension,
      description: s.description ?? "",
      input: s.input === undefined ? {} : structuredClone(s.input),
      context: structuredClone(s.context ?? {}),
      expect: [...(s.expect ?? [])],
      script: (s.script ?? []).map((step) => ({
        choices: step.choices.map((c) => ({ p: c.p, call: normalizeCall(c.call) })),
      })),
      trace: replayTrace(doc, s.trace, k, resolvePath),
    })),
    canaries: doc.canaries.map((c) => ({
      id: c.id,
      description: c.description ?? "",
      expect: c.expect,
      rules: [...(c.rules ?? [])],
      context: structuredClone(c.context ?? {}),
      trace: c.trace.map(normalizeCall),
    })),
    decision_policy: { ...DEFAULT_DECISION_POLICY, ...doc.decision_policy },
    driver: normalizeDriver(doc, resolvePath),
  };
  return deepFreeze(target);
}

/** The trace a replayed scenario uses: its own `trace`, else traces[k mod T]; null for other drivers. */
function replayTrace(
  doc: TargetDoc,
  named: string | undefined,
  k: number,
  resolvePath: (path: string) => string,
): string | null {
  if (doc.driver.kind !== "replay") return null;
  const traces = doc.driver.replay.traces;
  return resolvePath(named ?? (traces[k % traces.length] as string));
}

function normalizeCall(call: CallDoc): Call {
  return {
    tool: call.tool,
    arguments: structuredClone(call.arguments ?? {}),
    ...(call.context === undefined ? {} : { context: structuredClone(call.context) }),
  };
}

function normalizeDriver(doc: TargetDoc, resolvePath: (path: string) => string): Driver {
  const driver = doc.driver;
  switch (driver.kind) {
    case "scripted":
      return { kind: "scripted" };
    case "command":
      return {
        kind: "command",
        command: {
          run: [...driver.command.run],
          timeout_seconds: driver.command.timeout_seconds ?? DEFAULT_COMMAND_TIMEOUT_SECONDS,
          env: { ...driver.command.env },
          workspace:
            driver.command.workspace === undefined
              ? null
              : resolvePath(driver.command.workspace).replace(/\/+$/, ""),
          mcp_servers: Object.fromEntries(
            Object.entries(driver.command.mcp_servers ?? {}).map(([name, s]) => [
              name,
              { command: [...s.command], env: { ...s.env } },
            ]),
          ),
        },
      };
    case "replay":
      return {
        kind: "replay",
        replay: {
          traces: driver.replay.traces.map(resolvePath),
          mutations: [...(driver.replay.mutations ?? [])],
          mutated: driver.replay.mutated ?? "judge",
        },
      };
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
