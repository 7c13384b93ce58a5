import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { verifyAuditKit } from "../../../src/audit-kit/verify.js";
import { writeBundle } from "../../../src/evidence/bundle-writer.js";
import { verifyBundle } from "../../../src/evidence/verify-bundle.js";
import type { ArtifactKind } from "../../../src/matrix/artifact.js";
import { demoSoak, ed25519, writeKit } from "../../audit-kit/helpers.js";
import { ROOT } from "../../run-assay.js";
import { suiteTempDir } from "../../temp-dir.js";
import { metadata, RECORDED_AT, readAs, recording, refused } from "./helpers.js";

/** What `assay evidence verify --json` prints for a result (src/cli/actions/evidence-verify.ts). */
function evidenceJson(r: Awaited<ReturnType<typeof verifyBundle>>): object {
  return r.valid ? r : { valid: false, ...r.failure, warnings: r.warnings };
}

/** What `assay audit-kit verify --json` prints (src/cli/actions/audit-kit.ts). */
function kitJson(dir: string, r: Awaited<ReturnType<typeof verifyAuditKit>>): object {
  return { dir, valid: r.verdict === "valid", ...r };
}

const BENCH = { decisions_per_sec: 812345, p50_us: 1.234, p99_us: 4.5, ratio_vs_cedar: 3.1 };

describe("command outputs: bench, audit_kit_verify, evidence_verify", () => {
  const dir = suiteTempDir("assay-matrix-outputs-");
  const out: Record<string, object> = {};

  before(async () => {
    const bundle = join(dir, "bundle.tar.gz");
    await writeBundle({ events: join(ROOT, "test/fixtures/evidence/decision-log.ndjson"), out: bundle });
    out.evidenceValid = evidenceJson(await verifyBundle(bundle));
    writeFileSync(join(dir, "broken.tar.gz"), "not a gzip file");
    out.evidenceInvalid = evidenceJson(await verifyBundle(join(dir, "broken.tar.gz")));
    const { bundle: target, reportBytes } = await demoSoak();
    const { privateKey, publicKey } = ed25519();
    const kit = join(dir, "kit");
    await writeKit(kit, reportBytes, target, privateKey);
    out.kitValid = kitJson("kit", await verifyAuditKit(kit, publicKey));
    out.kitInvalid = kitJson("kit", await verifyAuditKit(kit, ed25519().publicKey));
  });

  const cases: Array<{ kind: ArtifactKind; doc: () => object }> = [
    { kind: "bench", doc: () => BENCH },
    { kind: "evidence_verify", doc: () => out.evidenceValid as object },
    { kind: "evidence_verify", doc: () => out.evidenceInvalid as object },
    { kind: "audit_kit_verify", doc: () => out.kitValid as object },
    { kind: "audit_kit_verify", doc: () => out.kitInvalid as object },
  ];

  test("bare: the output as data, no time and why", async () => {
    for (const [i, { kind, doc }] of cases.entries()) {
      const a = await readAs(kind, dir, `bare-${i}.json`, doc());
      assert.deepEqual(a.data, JSON.parse(JSON.stringify(doc())));
      assert.equal(a.timestamp, null);
      assert.equal(
        a.timestamp_source,
        `a bare ${kind} output records no time; wrap it with \`assay matrix record\``,
      );
      assert.equal(a.recorded, null);
    }
  });

  test("the real outputs are what the kinds expect (valid and invalid verifications alike)", async () => {
    assert.equal((out.evidenceValid as { valid: boolean }).valid, true);
    assert.equal((out.evidenceInvalid as { valid: boolean }).valid, false);
    assert.equal((out.kitValid as { valid: boolean }).valid, true);
    assert.equal((out.kitInvalid as { valid: boolean }).valid, false);
  });

  test("recorded: the recording's time, the output as data, the envelope as `recorded`", async () => {
    for (const [i, { kind, doc }] of cases.entries()) {
      const rec = recording(kind, doc(), { exit_code: i % 2 });
      const a = await readAs(kind, dir, `rec-${i}.json`, rec);
      assert.equal(a.timestamp, RECORDED_AT);
      assert.equal(a.timestamp_source, "recorded_at_utc");
      assert.deepEqual(a.data, JSON.parse(JSON.stringify(doc())));
      assert.deepEqual(a.recorded, metadata(rec));
    }
  });

  test("a file of another kind is refused at the field that tells", async () => {
    const soakish = { schema_version: "soak-report-v1", run: { iterations: 3 } };
    await refused("bench", dir, "x1.json", soakish, "x1.json#/schema_version");
    await refused("bench", dir, "x2.json", out.kitValid as object, "x2.json#/valid");
    await refused("bench", dir, "x3.json", [1, 2], "x3.json#");
    await refused("bench", dir, "x4.json", { note: "no figures" }, "x4.json#");
    // A missing property is reported at the object that lacks it (schemas/*-verify-result.schema.json).
    const e5 = await refused("evidence_verify", dir, "x5.json", BENCH, "x5.json#");
    assert.match(e5.message, /required property `valid`/);
    const e6 = await refused("evidence_verify", dir, "x6.json", out.kitValid as object, "x6.json#");
    assert.match(e6.message, /required property `bundle_id`/);
    const e7 = await refused("audit_kit_verify", dir, "x7.json", out.evidenceValid as object, "x7.json#");
    assert.match(e7.message, /required property `dir`/);
    await refused("audit_kit_verify", dir, "x8.json", BENCH, "x8.json#");
    await refused(
      "audit_kit_verify",
      dir,
      "x9.json",
      recording("evidence_verify", out.evidenceValid),
      "x9.json#/kind",
    );
  });

  test("a shape fault names its pointer, inside a recording too", async () => {
    const kit = structuredClone(out.kitValid) as { rows: { status: string }[]; valid: boolean };
    (kit.rows[1] as { status: string }).status = "maybe";
    await refused("audit_kit_verify", dir, "s1.json", kit, "s1.json#/rows/1/status");
    await refused(
      "audit_kit_verify",
      dir,
      "s2.json",
      recording("audit_kit_verify", kit),
      "s2.json#/output/rows/1/status",
    );
    const liar = { ...(out.kitInvalid as object), valid: true };
    await refused("audit_kit_verify", dir, "s3.json", liar, "s3.json#/valid");
    const ev = { ...(out.evidenceValid as object), event_count: "4" };
    await refused("evidence_verify", dir, "s4.json", ev, "s4.json#/event_count");
    const envelope = { ...recording("bench", BENCH), exit_code: "0" };
    await refused("bench", dir, "s5.json", envelope, "s5.json#/exit_code");
    await refused("bench", dir, "s6.json", '{"a": 1,\n"b": 2\n', "s6.json:3:1");
  });
});
