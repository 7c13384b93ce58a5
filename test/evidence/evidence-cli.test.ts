import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ASSAY_BIN } from "../run-assay.js";
import { suiteTempDir } from "../temp-dir.js";
import { bundleOf, goodLines } from "./craft.js";

const dir = suiteTempDir("assay-evidence-");
const LOG = "test/fixtures/evidence/decision-log.ndjson";

function assay(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [ASSAY_BIN, "evidence", ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("assay evidence bundle / verify (CLI)", () => {
  test("bundle then verify: exit 0; --json summaries agree", () => {
    const out = join(dir, "b.tar.gz");
    const b = assay(["bundle", "--events", LOG, "--out", out, "--json"]);
    assert.equal(b.code, 0, b.stderr);
    const summary = JSON.parse(b.stdout);
    assert.equal(summary.event_count, 4);
    const v = assay(["verify", out, "--json"]);
    assert.equal(v.code, 0, v.stderr);
    const result = JSON.parse(v.stdout);
    assert.equal(result.valid, true);
    assert.equal(result.bundle_id, summary.bundle_id);
    const human = assay(["verify", out]);
    assert.match(human.stdout, /^valid: .*: 4 events, run run-[0-9a-f]{16}, bundle sha256:[0-9a-f]{64}\n$/);
  });

  test("an invalid bundle: exit 1 with code and class; --json", () => {
    const path = join(dir, "bad.tar.gz");
    const lines = goodLines(2);
    writeFileSync(
      path,
      bundleOf(lines, (m) => {
        m.event_count = 3;
      }),
    );
    const v = assay(["verify", path, "--json"]);
    assert.equal(v.code, 1);
    const r = JSON.parse(v.stdout);
    assert.deepEqual([r.valid, r.code, r.class], [false, "event_count_mismatch", "integrity"]);
    const human = assay(["verify", path]);
    assert.equal(human.code, 1);
    assert.match(human.stdout, /^invalid: .*: integrity\/event_count_mismatch: 2 events, manifest says 3/);
  });

  test("unreadable input: exit 2; usage errors: exit 2; a bad decision log: exit 2, located", () => {
    const missing = assay(["verify", join(dir, "nope.tar.gz")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read bundle: ENOENT/);
    assert.equal(assay(["verify", dir]).code, 2);
    assert.equal(assay(["bundle", "--out", join(dir, "x.tar.gz")]).code, 2);
    const log = join(dir, "dup.ndjson");
    const first = readFileSync(LOG, "utf8").split("\n")[0] ?? "";
    writeFileSync(log, `${first.slice(0, -1)},"time":"x"}\n`);
    const b = assay(["bundle", "--events", log, "--out", join(dir, "y.tar.gz")]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /^assay: .*dup\.ndjson:1:\d+: duplicate key `time`\n$/);
  });

  test("any CloudEvents: bundled and verified; a line that is not a CloudEvent or loses a number: exit 2, located, nothing written", () => {
    const ev = (i: number, data: string) =>
      `{"specversion":"1.0","id":"t${i}","source":"urn:assay:soak:demo","type":"assay.soak.trial","data":${data}}\n`;
    const good = join(dir, "trials.ndjson");
    writeFileSync(good, ev(0, '{"outcome":"pass"}') + ev(1, '{"outcome":"fail","seed":7}'));
    const out = join(dir, "trials.tar.gz");
    const b = assay(["bundle", "--events", good, "--out", out]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(
      b.stdout,
      /^wrote .*trials\.tar\.gz: 2 events, run run-[0-9a-f]{16}, bundle sha256:[0-9a-f]{64}\n$/,
    );
    assert.equal(assay(["verify", out]).code, 0);

    const notCe = join(dir, "not-ce.ndjson");
    writeFileSync(
      notCe,
      `${ev(0, "1")}{"specversion":"1.0","id":"x","source":"relative/path","type":"t","data":1}\n`,
    );
    const r1 = assay(["bundle", "--events", notCe, "--out", join(dir, "not-ce.tar.gz")]);
    assert.equal(r1.code, 2);
    assert.match(r1.stderr, /^assay: .*not-ce\.ndjson:2: `\/source`: `source` `relative\/path` has no `:`/);
    assert.throws(() => readFileSync(join(dir, "not-ce.tar.gz")));

    const lossy = join(dir, "lossy.ndjson");
    writeFileSync(lossy, ev(0, '{"scores":[1,0.10000000000000001]}'));
    const r2 = assay(["bundle", "--events", lossy, "--out", join(dir, "lossy.tar.gz")]);
    assert.equal(r2.code, 2);
    assert.match(
      r2.stderr,
      /^assay: .*lossy\.ndjson:1:\d+: number `0\.10000000000000001` at `\/data\/scores\/1` would be bundled as `0\.1`/,
    );
    assert.throws(() => readFileSync(join(dir, "lossy.tar.gz")));
  });
});
