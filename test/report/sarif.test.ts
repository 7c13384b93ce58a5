import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import { soakSarif } from "../../src/report/sarif.js";
import { runSoak } from "../../src/sim/soak/run.js";
import { loadBundle } from "../../src/sim/target/load.js";
import { ROOT } from "../run-assay.js";
import { assertStoredText } from "../stored-bytes.js";

const DEMO = join(ROOT, "examples/demo-agent");

// The SARIF 2.1.0 schema as @microsoft/jest-sarif ships it (sarif-2.1.0-rtm.5, the Microsoft build
// of the 2.1.0 schema; `version` is `2.1.0`). It is draft-04: its `$schema` and `id` are dropped
// so ajv's draft-07 class compiles it; it uses no keyword whose meaning differs between the two.
const schemaPath = createRequire(import.meta.url).resolve(
  "@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json",
);
const { $schema: _s, id: _id, ...schema } = JSON.parse(readFileSync(schemaPath, "utf8"));
// The schema's `language` pattern is not valid with the `u` flag (a stray `]`), hence unicodeRegExp: false.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
(addFormats as unknown as (a: Ajv) => void)(ajv);
const validateSarif = ajv.compile(schema);

// biome-ignore lint/suspicious/noExplicitAny: a parsed log the schema has just checked; tests read into it freely
function valid(text: string): Record<string, any> {
  const log = JSON.parse(text);
  const errors = validateSarif(log) ? [] : (validateSarif.errors ?? []).slice(0, 5);
  assert.deepEqual(errors, []);
  return log;
}

async function demoSoak(seed: bigint) {
  const bundle = await loadBundle(DEMO);
  const { report } = await runSoak({
    bundle,
    iterations: 500,
    seed,
    assayVersion: "0.0.0-test",
    deterministic: true,
  });
  return { bundle, report };
}

describe("soakSarif", () => {
  test("the demo soak is valid SARIF 2.1.0: one run, a rule per policy rule, a result per violation", async () => {
    const { bundle, report } = await demoSoak(1n);
    const log = valid(
      soakSarif(report, bundle.policy.rules, { targetUri: "examples/demo-agent/assay-target.yaml" }),
    );
    assert.equal(log.version, "2.1.0");
    assert.equal(log.runs.length, 1);
    const run = log.runs[0];
    assert.equal(run.tool.driver.name, "assay");
    assert.equal(run.tool.driver.version, "0.0.0-test");
    assert.equal(run.automationDetails.id, "assay/soak/demo-agent/");
    assert.deepEqual(
      run.tool.driver.rules.map((r: { id: string }) => r.id),
      bundle.policy.rules.map((r) => r.id),
    );
    assert.ok((report.violations ?? []).length > 0);
    assert.equal(run.results.length, report.violations?.length);
    for (const [i, v] of (report.violations ?? []).entries()) {
      const r = run.results[i];
      assert.equal(r.ruleId, v.rule_id);
      assert.equal(run.tool.driver.rules[r.ruleIndex].id, v.rule_id);
      assert.equal(r.properties.count, v.count);
      assert.deepEqual(r.properties.examples, v.examples);
      assert.match(r.message.text, new RegExp(`${v.count} violation`));
      assert.ok(r.message.text.includes(v.examples?.[0] as string));
      const loc = r.locations[0].physicalLocation.artifactLocation;
      assert.deepEqual(loc, { uri: "examples/demo-agent/assay-target.yaml", uriBaseId: "%SRCROOT%" });
    }
  });

  test("levels follow severity, tags carry dimension and mappings, help names them", async () => {
    const { bundle, report } = await demoSoak(1n);
    const run = valid(soakSarif(report, bundle.policy.rules, { targetUri: "t.yaml" })).runs[0];
    const egress = run.tool.driver.rules.find((r: { id: string }) => r.id === "no-private-egress");
    assert.equal(egress.defaultConfiguration.level, "error");
    assert.deepEqual(egress.properties.tags, ["security", "OWASP-MCP-Top10:MCP05"]);
    assert.match(egress.help.text, /dimension: security; severity: critical/);
    assert.match(egress.help.text, /OWASP-MCP-Top10:MCP05/);
    const rules = [
      { id: "c", dimension: "safety", severity: "critical", message: undefined, mappings: [] },
      { id: "h", dimension: "safety", severity: "high", message: "m", mappings: [] },
      { id: "m", dimension: "control", severity: "medium", message: "m", mappings: [] },
      { id: "l", dimension: "control", severity: "low", message: "m", mappings: [] },
      { id: "i", dimension: "control", severity: "info", message: "m", mappings: [] },
    ] as const;
    const levels = valid(soakSarif(report, rules, { targetUri: "t.yaml" }))
      .runs[0].tool.driver.rules.slice(0, 5)
      .map((r: { defaultConfiguration: { level: string } }) => r.defaultConfiguration.level);
    assert.deepEqual(levels, ["error", "error", "warning", "note", "note"]);
    // No message: the id describes the rule.
    const c = valid(soakSarif(report, rules, { targetUri: "t.yaml" })).runs[0].tool.driver.rules[0];
    assert.equal(c.shortDescription.text, "c");
  });

  test("a violation with no policy rule of its own gets a descriptor", async () => {
    const { bundle, report } = await demoSoak(1n);
    const r = {
      ...report,
      violations: [{ rule_id: "call_invalid", dimension: "safety" as const, count: 2, examples: ["x"] }],
    };
    const run = valid(soakSarif(r, bundle.policy.rules, { targetUri: "t.yaml" })).runs[0];
    assert.equal(run.tool.driver.rules[run.results[0].ruleIndex].id, "call_invalid");
    assert.equal(run.results[0].level, "error");
  });

  test("deterministic (the stored log, byte for byte), and fingerprints are stable across runs", async () => {
    const a = await demoSoak(1n);
    const b = await demoSoak(2n);
    const opts = { targetUri: "t.yaml" };
    assertStoredText("report/demo-soak-500.sarif", soakSarif(a.report, a.bundle.policy.rules, opts));
    const prints = (text: string) =>
      new Map(
        JSON.parse(text).runs[0].results.map(
          (r: { ruleId: string; partialFingerprints: Record<string, string> }) => [
            r.ruleId,
            r.partialFingerprints["assaySoakViolation/v1"],
          ],
        ),
      );
    const pa = prints(soakSarif(a.report, a.bundle.policy.rules, opts));
    const pb = prints(soakSarif(b.report, b.bundle.policy.rules, opts));
    const shared = [...pa.keys()].filter((k) => pb.has(k));
    assert.ok(shared.length > 0);
    for (const k of shared) assert.equal(pa.get(k), pb.get(k));
    assert.equal(new Set(pa.values()).size, pa.size);
  });

  test("the schema does check: a bad level or a missing message is refused", async () => {
    const { bundle, report } = await demoSoak(1n);
    const log = JSON.parse(soakSarif(report, bundle.policy.rules, { targetUri: "t.yaml" }));
    log.runs[0].results[0].level = "fatal";
    assert.equal(validateSarif(log), false);
    log.runs[0].results[0].level = "error";
    assert.equal(validateSarif(log), true);
    delete log.runs[0].results[0].message;
    assert.equal(validateSarif(log), false);
  });

  test("a clean soak has no results and is still valid", async () => {
    const { bundle, report } = await demoSoak(1n);
    const log = valid(soakSarif({ ...report, violations: [] }, bundle.policy.rules, { targetUri: "t.yaml" }));
    assert.deepEqual(log.runs[0].results, []);
  });
});
