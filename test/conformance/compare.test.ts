import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkDeclaredTools, judgeDeny, judgeServer, type ServerResult } from "./compare.js";
import { byScenario, type GateRecord } from "./gate-records.js";
import { CALLED_TOOLS, scenariosUsing } from "./scenarios.js";
import { type Check, type Status, type SuiteRun, scenarioStatus } from "./suite.js";

/**
 * The conformance harness's judgement (scripts/conformance.ts runs the suite; this checks how
 * its results are compared), on made-up suite runs: no process is started here.
 */
const T0 = Date.parse("2026-01-01T00:00:00.000Z");

function suite(statuses: Record<string, Status>): SuiteRun {
  const names = Object.keys(statuses);
  return {
    statuses: new Map(Object.entries(statuses)),
    checks: new Map(
      names.map((n) => [n, [{ id: n, status: statuses[n] === "fail" ? "FAILURE" : "SUCCESS" }]]),
    ),
    starts: names.map((scenario, i) => ({ scenario, at: T0 + i * 1000 })),
    exitCode: 0,
    durationMs: 1,
  };
}

function decision(at: number, tool: string, effect = "allow", reason = "allowed"): GateRecord {
  return {
    at,
    type: "assay.tool.decision",
    tool,
    effect,
    reason,
    outcome: effect === "deny" ? "denied" : "forwarded",
  };
}

const ALL_PASS = {
  "tools-list": "pass",
  "tools-call-simple-text": "pass",
  "tools-call-image": "pass",
} as const;

function server(
  name: string,
  cols: Partial<Record<"direct" | "proxy" | "bridge" | "wrap", Record<string, Status>>>,
  records: { proxy?: GateRecord[]; wrap?: GateRecord[] } = {},
): ServerResult {
  const col = (k: "direct" | "proxy" | "bridge" | "wrap") => suite(cols[k] ?? ALL_PASS);
  return {
    name,
    label: name,
    columns: {
      direct: { run: col("direct") },
      proxy: { run: col("proxy"), records: records.proxy ?? [] },
      bridge: { run: col("bridge") },
      wrap: { run: col("wrap"), records: records.wrap ?? [] },
    },
  };
}

describe("scenarioStatus", () => {
  test("a FAILURE fails, else a WARNING warns, else it passes", () => {
    const c = (...s: string[]): Check[] => s.map((status, i) => ({ id: String(i), status }));
    assert.equal(scenarioStatus(c("SUCCESS", "WARNING", "FAILURE")), "fail");
    assert.equal(scenarioStatus(c("INFO", "WARNING")), "warn");
    assert.equal(scenarioStatus(c("INFO", "SUCCESS")), "pass");
    assert.equal(scenarioStatus([]), "pass");
  });
});

describe("judgeServer", () => {
  test("equal statuses and no refusals: nothing to report", () => {
    assert.deepEqual(judgeServer(server("fixture", {})), []);
  });

  test("a status the gate changed is a difference, and the gate's refusal is its own finding", () => {
    const f = judgeServer(
      server(
        "fixture",
        { proxy: { ...ALL_PASS, "tools-call-image": "fail" } },
        { proxy: [decision(T0 + 2100, "test_image_content", "deny", "tool_drift")] },
      ),
    );
    assert.deepEqual(
      f.map((x) => [x.kind, x.via, x.scenario]),
      [
        ["difference", "proxy", "tools-call-image"],
        ["refused", "proxy", "tools-call-image"],
      ],
    );
    assert.equal(f[0]?.text, "direct pass, proxy fail");
    assert.equal(f[1]?.text, "under the allow-all pack: test_image_content denied (tool_drift)");
  });

  test("a refusal the status hides is reported anyway (a deny result reads as a text result)", () => {
    const f = judgeServer(
      server("fixture", {}, { wrap: [decision(T0 + 1500, "test_simple_text", "deny", "tool_drift")] }),
    );
    assert.deepEqual(
      f.map((x) => [x.kind, x.via, x.scenario]),
      [["refused", "wrap", "tools-call-simple-text"]],
    );
  });

  test("the wrap is compared with the bridge, not with direct", () => {
    const f = judgeServer(
      server("fixture", {
        bridge: { ...ALL_PASS, "tools-list": "warn" },
        wrap: { ...ALL_PASS, "tools-list": "warn" },
      }),
    );
    assert.deepEqual(f, []);
  });

  test("a declared gate addition must be seen", () => {
    const dns = (direct: Status, proxy: Status) =>
      server("everything", {
        direct: { "dns-rebinding-protection": direct },
        proxy: { "dns-rebinding-protection": proxy },
        bridge: { "dns-rebinding-protection": "pass" },
        wrap: { "dns-rebinding-protection": "pass" },
      });
    assert.deepEqual(judgeServer(dns("fail", "pass")), []);
    assert.deepEqual(
      judgeServer(dns("fail", "fail")).map((x) => x.kind),
      ["addition-missing"],
    );
  });
});

describe("judgeDeny", () => {
  const allow = { run: suite({ ...ALL_PASS, "tools-call-sampling": "pass" }), records: [] };

  test("exactly the scenarios using the tool change, and only it is refused", () => {
    const deny = {
      run: suite({ ...ALL_PASS, "tools-call-sampling": "fail" }),
      records: [decision(T0 + 3100, "test_sampling", "deny", "tool_denied")],
    };
    const r = judgeDeny("fixture", "test_sampling", { via: "proxy", allow, deny });
    assert.deepEqual(r.findings, []);
    assert.deepEqual(r.expected, ["tools-call-sampling"]);
    assert.deepEqual(r.deniedTools, ["test_sampling (tool_denied)"]);
  });

  test("an unchanged user, a changed bystander and another refusal are each reported", () => {
    const deny = {
      run: suite({ ...ALL_PASS, "tools-call-image": "fail", "tools-call-sampling": "pass" }),
      records: [decision(T0 + 2100, "test_image_content", "deny", "tool_drift")],
    };
    const r = judgeDeny("fixture", "test_sampling", { via: "wrap", allow, deny });
    assert.deepEqual(r.findings.map((f) => f.scenario).sort(), [
      "tools-call-image",
      "tools-call-image",
      "tools-call-sampling",
    ]);
  });
});

describe("the declared scenario map", () => {
  test("names who uses a tool, by call or by lookup", () => {
    assert.deepEqual(scenariosUsing("test_sampling"), ["tools-call-sampling"]);
    assert.deepEqual(scenariosUsing("json_schema_2020_12_tool"), ["json-schema-2020-12"]);
    assert.deepEqual(scenariosUsing("no_such_tool"), []);
  });

  test("is checked against the tools the gate saw called", () => {
    const all = CALLED_TOOLS.map((t, i) => decision(T0 + i, t));
    assert.equal(checkDeclaredTools(all), undefined);
    assert.match(
      checkDeclaredTools([...all, decision(T0, "test_new_tool")]) ?? "",
      /undeclared tools test_new_tool/,
    );
    assert.match(checkDeclaredTools(all.slice(1)) ?? "", /not the declared/);
  });
});

describe("byScenario", () => {
  test("a record belongs to the last scenario that started before it", () => {
    const starts = [
      { scenario: "a", at: T0 },
      { scenario: "b", at: T0 + 100 },
    ];
    const got = byScenario([decision(T0 - 1, "x"), decision(T0 + 50, "y"), decision(T0 + 100, "z")], starts);
    assert.deepEqual(
      [...got].map(([s, r]) => [s, r.map((x) => x.tool)]),
      [
        ["a", ["y"]],
        ["b", ["z"]],
      ],
    );
  });
});
