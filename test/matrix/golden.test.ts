import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { buildMatrix, type MatrixOptions } from "../../src/matrix/build-matrix.js";
import { matrixFiles } from "../../src/matrix/write-matrix.js";
import { ROOT } from "../run-assay.js";

// Golden files: `UPDATE_GOLDEN=1 node --import tsx --test test/matrix/golden.test.ts` rewrites them
// (then read the diff: it is the change in what the matrix says).
const DIR = "test/fixtures/matrix/golden";
const UPDATE = process.env.UPDATE_GOLDEN === "1";

function options(registry: string): MatrixOptions {
  return {
    claims: `${DIR}/${registry}.yaml`,
    evidence: [`${DIR}/evidence`],
    disclosures: `${DIR}/disclosures.yaml`,
    window: { text: "7d", seconds: 7 * 86_400 },
    now: "2026-12-06T12:00:00Z",
    require: "ga",
    cwd: ROOT,
  };
}

function golden(name: string, actual: string): void {
  const path = join(ROOT, DIR, "expected", name);
  if (UPDATE) writeFileSync(path, actual);
  assert.equal(actual, readFileSync(path, "utf8"), `${name} differs from its golden file`);
}

const digest = (s: string) => createHash("sha256").update(s).digest("hex");

describe("golden matrices", () => {
  for (const registry of ["claims-all", "claims-ready"]) {
    test(`${registry}: matrix.md and matrix.json match their golden files`, async () => {
      const files = matrixFiles(await buildMatrix(options(registry)));
      golden(`${registry}.md`, files["matrix.md"]);
      golden(`${registry}.json`, files["matrix.json"]);
    });
  }

  test("every state, every recommendation, a failing criterion with its value and file", async () => {
    const doc = await buildMatrix(options("claims-all"));
    const by = Object.fromEntries(doc.matrix.map((r) => [r.id, r]));
    const states = (ids: string[]) => ids.map((id) => `${by[id]?.state}/${by[id]?.recommendation}`);
    assert.deepEqual(
      states([
        "REL-SOAK-01",
        "REL-SOAK-02",
        "REL-READY-01",
        "REL-LONG-01",
        "PERF-GATE-01",
        "EXT-ARM-01",
        "EXT-AUDIT-01",
      ]),
      [
        "VALIDATED/OK_DESIGN_PARTNER",
        "BETA/BETA_ONLY",
        "NOT_STARTED/NOT_STARTED",
        "NOT_STARTED/NOT_STARTED",
        "DEFER/DEFER",
        "DEFER/DEFER",
        "FUTURE_REQUIRED/FUTURE_REQUIRED",
      ],
    );
    const failing = by["PERF-GATE-01"]?.evidence[0];
    assert.equal(failing?.status, "fail");
    assert.equal(failing?.found, 0.84);
    assert.equal(failing?.path, `${DIR}/evidence/bench-gate.json`);
  });

  test("the campaign: one artifact outside the window, one with no time; Design Partner Ready lists both and the missing disclosure", async () => {
    const doc = await buildMatrix(options("claims-all"));
    const c = doc.evidence_campaign;
    assert.equal(c.holds, false);
    assert.deepEqual(
      c.outside.map((o) => o.path),
      [`${DIR}/evidence/soak-old.json`],
    );
    assert.deepEqual(
      c.missing_timestamps.map((m) => m.path),
      [`${DIR}/evidence/bench-bare.json`],
    );
    assert.deepEqual(
      doc.readiness.map((l) => [l.level, l.met, l.unmet.map((u) => u.requirement)]),
      [
        ["design_partner", false, ["evidence_campaign", "disclosure:soak_single_host"]],
        ["ga", false, ["design_partner", "REL-READY-01", "REL-LONG-01", "PERF-GATE-01", "EXT-ARM-01"]],
        ["public_production", false, ["ga", "EXT-AUDIT-01"]],
      ],
    );
    assert.deepEqual(doc.required, { level: "ga", met: false });
  });

  test("ready: Design Partner and GA met, Public Production not, for exactly the third-party claim", async () => {
    const doc = await buildMatrix(options("claims-ready"));
    assert.equal(doc.evidence_campaign.holds, true);
    assert.deepEqual(doc.design_partner_disclosures.missing, []);
    assert.deepEqual(
      doc.readiness.map((l) => [l.level, l.met, l.unmet.map((u) => u.requirement)]),
      [
        ["design_partner", true, []],
        ["ga", true, []],
        ["public_production", false, ["CORE-AUDIT-01"]],
      ],
    );
    assert.deepEqual(doc.required, { level: "ga", met: true });
  });

  test("idempotent and read-only: the same inputs give the same bytes, and the evidence is untouched", async () => {
    const before = readdirSync(join(ROOT, DIR, "evidence"))
      .sort()
      .map((f) => `${f}:${digest(readFileSync(join(ROOT, DIR, "evidence", f), "utf8"))}`);
    const a = matrixFiles(await buildMatrix(options("claims-all")));
    const b = matrixFiles(await buildMatrix(options("claims-all")));
    assert.deepEqual(Object.values(a).map(digest), Object.values(b).map(digest));
    const after = readdirSync(join(ROOT, DIR, "evidence"))
      .sort()
      .map((f) => `${f}:${digest(readFileSync(join(ROOT, DIR, "evidence", f), "utf8"))}`);
    assert.deepEqual(after, before);
  });

  test("every input is listed with its sha256", async () => {
    const doc = await buildMatrix(options("claims-ready"));
    for (const i of doc.inputs) {
      assert.equal(i.sha256, `sha256:${digest(readFileSync(join(ROOT, i.path), "utf8"))}`, i.path);
    }
    assert.deepEqual(
      doc.inputs.map((i) => i.role),
      ["registry", "disclosures", "evidence", "evidence", "evidence"],
    );
  });
});
