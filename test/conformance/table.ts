import {
  type ColumnName,
  type DenyResult,
  type Finding,
  PAIRS,
  type ServerResult,
  scenarioOrder,
} from "./compare.js";
import { byScenario, describeRefusals } from "./gate-records.js";
import { GATE_ADDITIONS } from "./scenarios.js";

/**
 * The printed tables. A cell is the scenario's status (pass, warn, fail, error: the suite threw
 * before saving its checks) with a mark: `!` it differs from the column it must equal, `*` the
 * gate refused something in it under the allow-all pack, `+` a declared gate addition.
 */
const COLUMNS: readonly ColumnName[] = ["direct", "proxy", "bridge", "wrap"];

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

export function serverTable(server: ServerResult): string[] {
  const scenarios = scenarioOrder(server);
  const width = Math.max(8, ...scenarios.map((s) => s.length)) + 2;
  const lines = [`${pad("scenario", width)}${COLUMNS.map((c) => pad(c, 8)).join("")}notes`];
  for (const scenario of scenarios) {
    const notes: string[] = [];
    const cells = COLUMNS.map((name) => {
      const col = server.columns[name];
      const st = col.run.statuses.get(scenario) ?? "-";
      const pair = PAIRS.find((p) => p.gated === name);
      if (pair === undefined) return st;
      const base = server.columns[pair.base].run.statuses.get(scenario) ?? "-";
      const refused = describeRefusals(byScenario(col.records ?? [], col.run.starts).get(scenario) ?? []);
      const addition = GATE_ADDITIONS.find(
        (a) => a.server === server.name && a.via === name && a.scenario === scenario,
      );
      let mark = "";
      if (addition !== undefined && st === addition.gated && base === addition.direct) {
        mark = "+";
        notes.push(`${name} adds: ${addition.why}`);
      } else if (st !== base) mark = "!";
      if (refused.length > 0) {
        mark += "*";
        notes.push(`${name}: ${refused.join(", ")}`);
      }
      return st + mark;
    });
    lines.push(`${pad(scenario, width)}${cells.map((c) => pad(c, 8)).join("")}${notes.join("; ")}`.trimEnd());
  }
  return lines;
}

export function denyLines(
  server: string,
  tool: string,
  pack: string,
  results: readonly DenyResult[],
): string[] {
  const lines = [`deny check (${server}): ${pack} denies \`${tool}\``];
  for (const r of results) {
    const changed = r.changed.map((c) => `${c.scenario} ${c.from}→${c.to}`).join(", ") || "nothing";
    const ok = r.findings.length === 0 ? "ok" : "MISMATCH";
    lines.push(
      `  via ${pad(r.via, 5)} expected to change: ${r.expected.join(", ") || "nothing"}; changed: ${changed}; refused: ${r.deniedTools.join(", ") || "nothing"}  ${ok}`,
    );
  }
  return lines;
}

export function findingLines(findings: readonly Finding[]): string[] {
  return findings.map((f) => `  ${f.server} ${f.via} ${f.scenario}: ${f.kind}: ${f.text}`);
}
