import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { ARTIFACT_KINDS } from "../../../src/matrix/artifact.js";
import type { DenyResult, Finding } from "../../conformance/compare.js";
import { suiteTempDir } from "../../temp-dir.js";
import { metadata, readAs, recording, refused } from "./helpers.js";

const finding: Finding = {
  kind: "difference",
  server: "fixture",
  via: "proxy",
  scenario: "tools-call",
  text: "pass → fail",
};
const deny: DenyResult = {
  via: "proxy",
  expected: ["tools-call-sampling"],
  changed: [{ scenario: "tools-call-sampling", from: "pass", to: "fail" }],
  deniedTools: ["test_sampling (deny)"],
  findings: [],
};

/** A report shaped as scripts/conformance.ts's `toJson` writes it. */
function report() {
  const statuses = () => ({ "server-initialize": "pass", "tools-call": "fail" });
  return {
    schema_version: "assay.conformance.v1",
    conformance: "0.1.9",
    node: "v22.12.0",
    exit_code: 1,
    started_at_utc: "2026-12-06T20:27:54.101Z",
    recorded_at_utc: "2026-12-06T20:31:54.603Z",
    duration_ms: 240502,
    servers: [
      {
        name: "fixture",
        columns: { direct: statuses(), proxy: statuses(), bridge: statuses(), wrap: statuses() },
        findings: [finding],
        declared_tools: "ok",
        deny: [deny],
      },
      {
        name: "everything",
        columns: { direct: {}, proxy: {}, bridge: {}, wrap: {} },
        findings: [],
        declared_tools: "ok",
      },
    ],
  };
}

describe("conformance", () => {
  const dir = suiteTempDir("assay-matrix-conformance-");

  test("timed when its results were written; the report as data", async () => {
    const a = await readAs("conformance", dir, "conformance.json", report());
    assert.equal(a.timestamp, "2026-12-06T20:31:54.603Z");
    assert.equal(a.timestamp_source, "recorded_at_utc");
    assert.deepEqual(a.data, report());
    const rec = recording("conformance", report());
    const b = await readAs("conformance", dir, "rec.json", rec);
    assert.equal(b.timestamp, "2026-12-06T20:31:54.603Z");
    assert.equal(b.timestamp_source, "output.recorded_at_utc");
    assert.deepEqual(b.recorded, metadata(rec));
  });

  test("refused: the old report without a schema_version, a schema fault with its pointer, a syntax error", async () => {
    const { schema_version: _s, started_at_utc: _a, recorded_at_utc: _b, ...old } = report();
    await refused("conformance", dir, "old.json", old, "old.json#");
    const r = report();
    (r.servers[0] as { columns: { proxy: Record<string, string> } }).columns.proxy["tools-call"] = "flaky";
    await refused("conformance", dir, "bad.json", r, "bad.json#/servers/0/columns/proxy/tools-call");
    await refused(
      "conformance",
      dir,
      "bad-time.json",
      { ...report(), recorded_at_utc: "2026-12-06" },
      "bad-time.json#/recorded_at_utc",
    );
    await refused(
      "conformance",
      dir,
      "syntax.json",
      '{"schema_version": "assay.conformance.v1",}',
      "syntax.json:1:43",
    );
  });
});

describe("schemas", () => {
  test("a recording's `kind` is exactly ARTIFACT_KINDS", () => {
    const schema = JSON.parse(
      readFileSync(new URL("../../../schemas/recorded-output.schema.json", import.meta.url), "utf8"),
    );
    assert.equal(schema.$id, "https://assay.dev/schemas/recorded-output.schema.json");
    assert.deepEqual(schema.properties.kind.enum, [...ARTIFACT_KINDS]);
    const conformance = JSON.parse(
      readFileSync(new URL("../../../schemas/conformance-report.schema.json", import.meta.url), "utf8"),
    );
    assert.equal(conformance.$id, "https://assay.dev/schemas/conformance-report.schema.json");
  });

  test("scripts/conformance.ts writes the fields its schema requires", () => {
    const script = readFileSync(new URL("../../../scripts/conformance.ts", import.meta.url), "utf8");
    const schema = JSON.parse(
      readFileSync(new URL("../../../schemas/conformance-report.schema.json", import.meta.url), "utf8"),
    );
    for (const key of schema.required as string[]) assert.match(script, new RegExp(`\\b${key}:`), key);
    assert.match(script, /schemaValidator\("conformance-report"\)/);
  });
});
