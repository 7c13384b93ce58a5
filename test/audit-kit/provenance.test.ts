import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { before, describe, test } from "node:test";
import { appliedPacks } from "../../src/audit-kit/manifest.js";
import {
  buildSoakProvenance,
  finishedOn,
  provenanceProblem,
  SOAK_BUILD_TYPE,
  SOAK_BUILDER_ID,
} from "../../src/audit-kit/provenance.js";
import { canonicalJson } from "../../src/lib/canonical-json.js";
import { AssayError } from "../../src/lib/errors.js";
import type { SoakReport } from "../../src/sim/soak/report.js";
import { parseSoakReport } from "../../src/sim/soak/report.js";
import type { Bundle } from "../../src/sim/target/load.js";
import { assertStoredText } from "../stored-bytes.js";
import { demoSoak } from "./helpers.js";

let bundle: Bundle;
let report: SoakReport;

before(async () => {
  const soak = await demoSoak({ deterministic: false });
  bundle = soak.bundle;
  report = parseSoakReport(soak.reportBytes.toString("utf8"));
});

function provenance() {
  return buildSoakProvenance({
    report,
    bundleDigest: bundle.digest,
    packs: appliedPacks(bundle),
    builderVersion: "9.9.9",
  });
}

describe("SLSA provenance v1 of a soak run", () => {
  test("externalParameters: the seed (exact, as a string), iterations and the target", () => {
    const p = provenance();
    assert.equal(p.buildDefinition.buildType, SOAK_BUILD_TYPE);
    assert.deepEqual(p.buildDefinition.externalParameters, {
      seed: "12345678901234567890",
      iterations: 40,
      time_budget_seconds: report.run.time_budget_seconds,
      evaluation_unit: report.run.evaluation_unit,
      target: { bundle_id: "demo-agent@1.0.0", bundle_digest: bundle.digest },
    });
  });

  test("internalParameters: assay version, decision policy, policy digest, pack ids", () => {
    const p = provenance().buildDefinition.internalParameters;
    assert.equal(p.assay_version, "0.0.0-test");
    assert.deepEqual(p.decision_policy, report.decision_policy);
    assert.equal(p.policy_digest, bundle.policy.digest);
    assert.deepEqual(p.pack_ids, ["demo-guard"]);
  });

  test("resolvedDependencies: the bundle first, then every pack with the sha256 of its file", () => {
    const deps = provenance().buildDefinition.resolvedDependencies;
    assert.equal(deps.length, 1 + bundle.packs.length);
    assert.equal(deps[0]?.name, "target");
    assert.equal(`sha256:${deps[0]?.digest.sha256}`, bundle.digest);
    bundle.target.packs.forEach((path, i) => {
      const dep = deps[i + 1];
      const bytes = bundle.files.get(path) as Buffer;
      assert.equal(dep?.name, path);
      assert.equal(dep?.digest.sha256, createHash("sha256").update(bytes).digest("hex"));
      assert.equal(dep?.uri, `assay:pack/${bundle.packs[i]?.doc.id}@${bundle.packs[i]?.doc.version}`);
    });
  });

  test("runDetails: builder id and version, invocationId = run_id, startedOn/finishedOn from the report", () => {
    const r = provenance().runDetails;
    assert.deepEqual(r.builder, { id: SOAK_BUILDER_ID, version: { assay: "9.9.9" } });
    assert.equal(r.metadata.invocationId, report.run.run_id);
    assert.equal(r.metadata.startedOn, report.run.started_at_utc);
    assert.equal(
      Date.parse(r.metadata.finishedOn) - Date.parse(r.metadata.startedOn),
      report.run.duration_seconds * 1000,
    );
  });

  test("deterministic: a seeded --deterministic soak gives the stored predicate, byte for byte", async () => {
    // The predicate is signed as RFC 8785 canonical JSON: those are the bytes a kit holds.
    const soak = await demoSoak({ deterministic: true });
    const p = buildSoakProvenance({
      report: parseSoakReport(soak.reportBytes.toString("utf8")),
      bundleDigest: soak.bundle.digest,
      packs: appliedPacks(soak.bundle),
      builderVersion: "9.9.9",
    });
    assertStoredText("audit-kit/demo-soak-provenance.jcs", `${canonicalJson(p)}\n`);
  });

  test("finishedOn adds whole seconds and writes no fraction", () => {
    assert.equal(finishedOn("1970-01-01T00:00:00Z", 0), "1970-01-01T00:00:00Z");
    assert.equal(finishedOn("2026-01-02T23:59:30Z", 45), "2026-01-03T00:00:15Z");
  });

  test("checked against the schema before signing: a bad digest is refused", () => {
    assert.throws(
      () => buildSoakProvenance({ report, bundleDigest: "md5:abc", packs: [], builderVersion: "1" }),
      (e: unknown) => e instanceof AssayError && e.code === "input_invalid",
    );
    assert.match(provenanceProblem({ buildDefinition: {} }) ?? "", /required|runDetails/);
  });
});
