import { byScenario, describeRefusals, type GateRecord, isRefusal } from "./gate-records.js";
import { CALLED_TOOLS, GATE_ADDITIONS, scenariosUsing } from "./scenarios.js";
import type { Check, Status, SuiteRun } from "./suite.js";

/**
 * The judgement of a conformance run, as pure functions over what the suite found and what the
 * gate recorded. Through the gate (allow-all pack) each scenario must end as it ends without it:
 * the proxy is compared with the server served directly, the wrap with the same stdio bridge
 * without the gate. And since a denied call is answered with a tool result (`isError` and a text
 * saying why), which some scenarios accept as a result, the gate must also have refused nothing.
 */
export type ColumnName = "direct" | "proxy" | "bridge" | "wrap";

export interface Column {
  run: SuiteRun;
  /** The gate's records (gated columns only). */
  records?: GateRecord[];
}

export interface ServerResult {
  name: string;
  label: string;
  columns: Record<ColumnName, Column>;
}

/** Each gated column and the column it must equal. */
export const PAIRS: ReadonlyArray<{ gated: "proxy" | "wrap"; base: "direct" | "bridge" }> = [
  { gated: "proxy", base: "direct" },
  { gated: "wrap", base: "bridge" },
];

export interface Finding {
  kind: "difference" | "refused" | "addition-missing" | "deny-check";
  server: string;
  via: string;
  scenario: string;
  text: string;
}

function firstFailure(checks: readonly Check[] | undefined): string {
  const c = checks?.find((x) => x.status === "FAILURE") ?? checks?.find((x) => x.status === "WARNING");
  return c === undefined ? "" : `${c.id}: ${(c.errorMessage ?? c.status).split("\n")[0]}`;
}

export function scenarioOrder(server: ServerResult): string[] {
  const seen = new Set<string>();
  for (const c of Object.values(server.columns)) for (const s of c.run.statuses.keys()) seen.add(s);
  return [...seen];
}

function status(col: Column, scenario: string): Status | "-" {
  return col.run.statuses.get(scenario) ?? "-";
}

/** Findings for one server: status differences, refusals under the allow-all pack, additions. */
export function judgeServer(server: ServerResult): Finding[] {
  const findings: Finding[] = [];
  for (const scenario of scenarioOrder(server)) {
    for (const { gated, base } of PAIRS) {
      const g = server.columns[gated];
      const b = server.columns[base];
      const gs = status(g, scenario);
      const bs = status(b, scenario);
      const refusals = describeRefusals(byScenario(g.records ?? [], g.run.starts).get(scenario) ?? []);
      const addition = GATE_ADDITIONS.find(
        (a) => a.server === server.name && a.via === gated && a.scenario === scenario,
      );
      if (addition !== undefined && (bs !== addition.direct || gs !== addition.gated)) {
        findings.push({
          kind: "addition-missing",
          server: server.name,
          via: gated,
          scenario,
          text: `expected ${base} ${addition.direct} and ${gated} ${addition.gated} (${addition.why}), got ${bs} and ${gs}`,
        });
      } else if (addition === undefined && gs !== bs) {
        // a refusal explains itself in its own finding
        const why = refusals.length > 0 ? "" : firstFailure(g.run.checks.get(scenario));
        findings.push({
          kind: "difference",
          server: server.name,
          via: gated,
          scenario,
          text: `${base} ${bs}, ${gated} ${gs}${why === "" ? "" : `: ${why}`}`,
        });
      }
      if (refusals.length > 0) {
        findings.push({
          kind: "refused",
          server: server.name,
          via: gated,
          scenario,
          text: `under the allow-all pack: ${refusals.join(", ")}`,
        });
      }
    }
  }
  return findings;
}

/**
 * The tool names the gate saw called under the allow-all pack must be the ones the declared
 * scenario map says the suite calls; otherwise the map (and so the deny check) is out of date.
 */
export function checkDeclaredTools(records: readonly GateRecord[]): string | undefined {
  const seen = new Set(
    records.filter((r) => r.type === "assay.tool.decision").map((r) => r.tool ?? "(none)"),
  );
  const unexpected = [...seen].filter((t) => !CALLED_TOOLS.includes(t)).sort();
  const unseen = CALLED_TOOLS.filter((t) => !seen.has(t));
  if (unexpected.length === 0 && unseen.length === 0) return undefined;
  return `the suite called ${unexpected.length > 0 ? `undeclared tools ${unexpected.join(", ")}` : ""}${unexpected.length > 0 && unseen.length > 0 ? " and " : ""}${unseen.length > 0 ? `not the declared ${unseen.join(", ")}` : ""}: update SCENARIO_TOOLS in test/conformance/scenarios.ts`;
}

export interface DenyRun {
  via: "proxy" | "wrap";
  allow: Column;
  deny: Column;
}

export interface DenyResult {
  via: string;
  expected: string[];
  changed: Array<{ scenario: string; from: string; to: string }>;
  deniedTools: string[];
  findings: Finding[];
}

/** With one tool denied, exactly the scenarios that use it change, and only it is refused. */
export function judgeDeny(server: string, tool: string, run: DenyRun): DenyResult {
  const expected = scenariosUsing(tool);
  const changed: DenyResult["changed"] = [];
  for (const [scenario, to] of run.deny.run.statuses) {
    const from = run.allow.run.statuses.get(scenario) ?? "-";
    if (from !== to) changed.push({ scenario, from, to });
  }
  const refusals = (run.deny.records ?? []).filter(isRefusal);
  const deniedTools = [...new Set(refusals.map((r) => `${r.tool ?? "(frame)"} (${r.reason ?? "?"})`))].sort();
  const findings: Finding[] = [];
  const changedNames = changed.map((c) => c.scenario);
  for (const s of changedNames.filter((s) => !expected.includes(s))) {
    findings.push({
      kind: "deny-check",
      server,
      via: run.via,
      scenario: s,
      text: `changed, but does not use \`${tool}\``,
    });
  }
  for (const s of expected.filter((s) => !changedNames.includes(s))) {
    findings.push({
      kind: "deny-check",
      server,
      via: run.via,
      scenario: s,
      text: `uses \`${tool}\` but did not change (${run.allow.run.statuses.get(s) ?? "-"} both times)`,
    });
  }
  const others = refusals.filter((r) => r.tool !== tool);
  if (others.length > 0) {
    const where = byScenario(others, run.deny.run.starts);
    for (const [scenario, recs] of where) {
      findings.push({
        kind: "deny-check",
        server,
        via: run.via,
        scenario,
        text: `refused besides \`${tool}\`: ${describeRefusals(recs).join(", ")}`,
      });
    }
  }
  return { via: run.via, expected, changed, deniedTools, findings };
}
