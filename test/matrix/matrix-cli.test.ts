import assert from "node:assert/strict";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ROOT, runAssay } from "../run-assay.js";
import { suiteTempDir } from "../temp-dir.js";

// The CLI once per behaviour; what the matrix judges is tested in process (golden.test.ts).
const G = join(ROOT, "test/fixtures/matrix/golden");
const args = (registry: string, out: string, ...more: string[]) => [
  "matrix",
  "--claims",
  join(G, `${registry}.yaml`),
  "--evidence",
  join(G, "evidence"),
  "--disclosures",
  join(G, "disclosures.yaml"),
  "--now",
  "2026-12-06T12:00:00Z",
  "--out",
  out,
  ...more,
];

describe("assay matrix (the CLI)", () => {
  const dir = suiteTempDir("assay-matrix-cli-");

  test("--require ga not met: exit 1, the three files written, stdout is matrix.md", () => {
    const out = join(dir, "all");
    const r = runAssay(args("claims-all", out, "--require", "ga"));
    assert.equal(r.code, 1, r.err);
    for (const f of ["matrix.json", "matrix.md", "matrix.html"]) assert.ok(existsSync(join(out, f)), f);
    assert.equal(r.out, readFileSync(join(out, "matrix.md"), "utf8"));
    assert.match(r.out, /### GA Ready: NOT MET/);
  });

  test("--require ga met: exit 0; --json prints matrix.json", () => {
    const out = join(dir, "ready");
    const r = runAssay(args("claims-ready", out, "--require", "ga", "--json"));
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, readFileSync(join(out, "matrix.json"), "utf8"));
    assert.deepEqual(JSON.parse(r.out).required, { level: "ga", met: true });
  });

  test("an artifact that fails its schema: exit 2, one line naming the file and the pointer, nothing written", () => {
    const evidence = join(dir, "bad-evidence");
    cpSync(join(G, "evidence"), evidence, { recursive: true });
    const soak = JSON.parse(readFileSync(join(evidence, "soak-a.json"), "utf8"));
    soak.summary.pass_rate = "high";
    writeFileSync(join(evidence, "soak-a.json"), JSON.stringify(soak));
    const out = join(dir, "bad");
    const r = runAssay([
      "matrix",
      "--claims",
      join(G, "claims-ready.yaml"),
      "--evidence",
      evidence,
      "--out",
      out,
    ]);
    assert.equal(r.code, 2);
    assert.equal(r.err.trim().split("\n").length, 1, r.err);
    assert.match(r.err, /soak-a\.json#\/summary\/pass_rate/);
    assert.ok(!existsSync(out));
  });

  test("--out inside an evidence directory is refused before anything is read or written", () => {
    const r = runAssay(args("claims-ready", join(G, "evidence", "matrix")));
    assert.equal(r.code, 2);
    assert.match(r.err, /inside evidence directory/);
    assert.ok(!existsSync(join(G, "evidence", "matrix")));
  });

  test("matrix record: writes the recording (exit 0), refuses output with no JSON (exit 2)", () => {
    const out = join(dir, "bench.json");
    const ok = runAssay([
      "matrix",
      "record",
      "--kind",
      "bench",
      "--out",
      out,
      "--",
      process.execPath,
      "-e",
      'console.log("x"); console.log(JSON.stringify({ ops: 5 }))',
    ]);
    assert.equal(ok.code, 0, ok.err);
    const rec = JSON.parse(readFileSync(out, "utf8"));
    assert.equal(rec.schema_version, "assay.recorded-output.v1");
    assert.deepEqual(rec.output, { ops: 5 });
    const none = runAssay([
      "matrix",
      "record",
      "--kind",
      "bench",
      "--out",
      join(dir, "none.json"),
      "--",
      process.execPath,
      "-e",
      "1",
    ]);
    assert.equal(none.code, 2);
    assert.ok(!existsSync(join(dir, "none.json")));
  });
});
