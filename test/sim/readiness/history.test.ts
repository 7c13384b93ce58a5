import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AssayError } from "../../../src/lib/errors.js";
import { readHistory } from "../../../src/sim/readiness/history.js";
import { type SoakReport, serializeSoakReport } from "../../../src/sim/soak/report.js";
import { runSoak } from "../../../src/sim/soak/run.js";
import { loadBundle } from "../../../src/sim/target/load.js";
import { tempDir } from "../../temp-dir.js";
import { DEMO, soakReports, steadyBundle, writeHistory } from "./fixtures.js";

let steady: SoakReport[] = [];
let dir = "";

before(async () => {
  dir = tempDir("assay-readiness-");
  steady = await soakReports(steadyBundle(dir), 3);
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe("readHistory", () => {
  test("reads every *.json in name order and nothing else", async (t) => {
    const dir = await writeHistory(join(tempDir("assay-readiness-", t), "h"), steady.slice(0, 3));
    writeFileSync(join(dir, "notes.txt"), "not a report");
    const h = await readHistory(dir);
    assert.deepEqual(
      h.map((x) => x.file),
      ["run-00.json", "run-01.json", "run-02.json"],
    );
    assert.equal(h[0]?.report.run.seed, 1n);
  });

  test("a corrupt, invalid or shard report, or a missing directory: an error naming the file", async (t) => {
    const base = tempDir("assay-readiness-", t);
    const fails = async (dir: string, codeWanted: string, where: string) => {
      await assert.rejects(readHistory(dir), (err: unknown) => {
        assert.ok(err instanceof AssayError);
        assert.equal(err.code, codeWanted);
        assert.equal(err.where, where);
        return true;
      });
    };
    const corrupt = await writeHistory(join(base, "corrupt"), steady.slice(0, 2));
    writeFileSync(join(corrupt, "run-01.json"), "{ truncated");
    await fails(corrupt, "input_invalid", join(corrupt, "run-01.json"));

    const invalid = await writeHistory(join(base, "invalid"), steady.slice(0, 2), {
      edit: (r, i) => {
        if (i === 1) (r as { summary: unknown }).summary = { pass_rate: "high" };
      },
    });
    await fails(invalid, "input_invalid", join(invalid, "run-01.json"));

    const b = await loadBundle(DEMO);
    const { report: shard } = await runSoak({
      bundle: b,
      iterations: 50,
      seed: 1n,
      assayVersion: "test",
      shard: { index: 1, count: 2 },
    });
    const shards = join(base, "shards");
    await writeHistory(shards, steady.slice(0, 1));
    writeFileSync(join(shards, "shard-1.json"), serializeSoakReport(shard));
    await fails(shards, "input_invalid", join(shards, "shard-1.json"));

    await fails(join(base, "nope"), "input_unreadable", join(base, "nope"));
  });
});
