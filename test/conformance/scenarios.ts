/**
 * What the harness declares about the suite's scenarios (read from the scenario sources of
 * @modelcontextprotocol/conformance 0.1.16, the version runner/package.json pins), so that what
 * a deny should change is known before anything runs.
 */

/**
 * The tools each scenario names: `calls` it calls with `tools/call`; `finds` it looks up by name
 * in `tools/list` (a tool the policy denies by name is filtered out of that list). Scenarios not
 * listed name no tool; `tools-list` and `server-sse-multiple-streams` list tools but check only
 * the list's shape, so no single tool decides them.
 */
export const SCENARIO_TOOLS: Readonly<
  Record<string, { calls?: readonly string[]; finds?: readonly string[] }>
> = {
  "tools-call-simple-text": { calls: ["test_simple_text"] },
  "tools-call-image": { calls: ["test_image_content"] },
  "tools-call-audio": { calls: ["test_audio_content"] },
  "tools-call-embedded-resource": { calls: ["test_embedded_resource"] },
  "tools-call-mixed-content": { calls: ["test_multiple_content_types"] },
  "tools-call-with-logging": { calls: ["test_tool_with_logging"] },
  "tools-call-error": { calls: ["test_error_handling"] },
  "tools-call-with-progress": { calls: ["test_tool_with_progress"] },
  "tools-call-sampling": { calls: ["test_sampling"] },
  "tools-call-elicitation": { calls: ["test_elicitation"] },
  "elicitation-sep1034-defaults": { calls: ["test_elicitation_sep1034_defaults"] },
  "elicitation-sep1330-enums": { calls: ["test_elicitation_sep1330_enums"] },
  "server-sse-polling": { calls: ["test_reconnection"] },
  "json-schema-2020-12": { finds: ["json_schema_2020_12_tool"] },
};

/** Every tool name the suite calls. */
export const CALLED_TOOLS: readonly string[] = [
  ...new Set(Object.values(SCENARIO_TOOLS).flatMap((t) => t.calls ?? [])),
].sort();

/** The scenarios that call or look up `tool`. */
export function scenariosUsing(tool: string): string[] {
  return Object.entries(SCENARIO_TOOLS)
    .filter(([, t]) => t.calls?.includes(tool) === true || t.finds?.includes(tool) === true)
    .map(([s]) => s)
    .sort();
}

/**
 * Where the gate is expected to do better than the server alone, with why. Each must be seen
 * (a run where it is not fails, so the protection is tested, not just allowed for).
 */
export interface GateAddition {
  server: string;
  via: "proxy" | "wrap";
  scenario: string;
  direct: string;
  gated: string;
  why: string;
}

export const GATE_ADDITIONS: readonly GateAddition[] = [
  {
    server: "everything",
    via: "proxy",
    scenario: "dns-rebinding-protection",
    direct: "fail",
    gated: "pass",
    why: "server-everything's own HTTP transport checks neither Host nor Origin (and answers any origin via CORS *); assay mcp proxy refuses a non-loopback browser Origin with 403",
  },
];
