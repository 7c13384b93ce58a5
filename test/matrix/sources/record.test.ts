import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { Clock } from "../../../src/lib/clock.js";
import { AssayError } from "../../../src/lib/errors.js";
import { jsonOutput, recordCommand } from "../../../src/matrix/record.js";
import { readArtifact } from "../../../src/matrix/sources/read-artifact.js";
import { s5 } from "../../runner/contract-fixtures.js";
import { suiteTempDir } from "../../temp-dir.js";

/** A clock that reads 08:00:00.000, then 08:00:02.500, ... (the command runs in between). */
function ticking(): Clock {
  let n = 0;
  return {
    nowIso: () => new Date(Date.parse("2026-12-07T08:00:00Z") + 2500 * n++).toISOString(),
    monotonicNs: () => 0n,
  };
}

const node = (script: string) => [process.execPath, "-e", script];

async function rejectsWith(p: Promise<unknown>, code: string): Promise<AssayError> {
  let caught: unknown;
  await p.catch((err: unknown) => {
    caught = err;
  });
  assert.ok(caught instanceof AssayError, String(caught));
  assert.equal(caught.code, code, caught.message);
  return caught;
}

describe("recordCommand (`assay matrix record`)", () => {
  const dir = suiteTempDir("assay-matrix-record-");

  test("records a bench's last JSON line with the command and its times; the matrix reads it back", async () => {
    const out = join(dir, "bench.json");
    const command = node(
      'console.log("warming up"); console.log(JSON.stringify({ ops_per_sec: 1234, p99_us: 5.5 })); console.log("")',
    );
    const { exitCode, record } = await recordCommand({ kind: "bench", command, out, clock: ticking() });
    assert.equal(exitCode, 0);
    assert.deepEqual(record, {
      schema_version: "assay.recorded-output.v1",
      kind: "bench",
      command,
      started_at_utc: "2026-12-07T08:00:00.000Z",
      recorded_at_utc: "2026-12-07T08:00:02.500Z",
      exit_code: 0,
      output: { ops_per_sec: 1234, p99_us: 5.5 },
    });
    assert.equal(readFileSync(out, "utf8"), `${JSON.stringify(record, null, 2)}\n`);
    const a = await readArtifact("bench", out, "bench.json");
    assert.equal(a.timestamp, "2026-12-07T08:00:02.500Z");
    assert.equal(a.timestamp_source, "recorded_at_utc");
    assert.deepEqual(a.data, { ops_per_sec: 1234, p99_us: 5.5 });
    const { output: _o, ...meta } = record;
    assert.deepEqual(a.recorded, meta);
  });

  test("a whole-stdout JSON document (pretty, several lines) is the output; a non-zero exit is recorded", async () => {
    const out = join(dir, "verify.json");
    const failure = {
      valid: false,
      code: "events_hash_mismatch",
      class: "integrity",
      message: "x",
      warnings: [],
    };
    const command = node(
      `process.stdout.write(JSON.stringify(${JSON.stringify(failure)}, null, 2) + "\\n"); process.exit(1)`,
    );
    const { exitCode, record } = await recordCommand({
      kind: "evidence_verify",
      command,
      out,
      clock: ticking(),
    });
    assert.equal(exitCode, 1);
    assert.equal(record.exit_code, 1);
    assert.deepEqual(record.output, failure);
    assert.equal((await readArtifact("evidence_verify", out, "verify.json")).data.valid, false);
  });

  test("a signal's exit is 128 + its number", async () => {
    const out = join(dir, "killed.json");
    const command = node(
      'console.log(JSON.stringify({ ms: 1 })); process.kill(process.pid, "SIGTERM"); setTimeout(() => {}, 5000)',
    );
    const { exitCode } = await recordCommand({ kind: "bench", command, out });
    assert.equal(exitCode, 143);
  });

  test("no JSON, or output that is not the kind: refused and nothing written", async () => {
    const before = readdirSync(dir).sort();
    const none = await rejectsWith(
      recordCommand({
        kind: "bench",
        command: node('console.log("ok: 3 runs"); console.log("[1, 2]x")'),
        out: join(dir, "none.json"),
      }),
      "matrix_artifact_invalid",
    );
    assert.match(none.message, /printed no JSON/);
    await rejectsWith(
      recordCommand({
        kind: "audit_kit_verify",
        command: node("console.log(JSON.stringify({ ops: 3 }))"),
        out: join(dir, "wrong.json"),
      }),
      "matrix_artifact_invalid",
    );
    await rejectsWith(
      recordCommand({
        kind: "bench",
        command: node("console.log(JSON.stringify({ valid: true }))"),
        out: join(dir, "v.json"),
      }),
      "matrix_artifact_invalid",
    );
    assert.deepEqual(readdirSync(dir).sort(), before);
    assert.ok(!existsSync(join(dir, "none.json")));
  });

  test("a command that cannot start, a kind that is not JSON output, no command", async () => {
    const missing = await rejectsWith(
      recordCommand({
        kind: "bench",
        command: ["./no-such-program-here", "--json"],
        out: join(dir, "x.json"),
        cwd: dir,
      }),
      "input_invalid",
    );
    assert.match(missing.message, /`\.\/no-such-program-here`/);
    await rejectsWith(
      recordCommand({ kind: "junit", command: node("1"), out: join(dir, "x.json") }),
      "usage",
    );
    await rejectsWith(recordCommand({ kind: "bench", command: [], out: join(dir, "x.json") }), "usage");
    assert.ok(!existsSync(join(dir, "x.json")));
  });

  test("a capture's health report (`assay runner capture --json`) recorded as runner_archive gets a time", async () => {
    const out = join(dir, "capture.json");
    const { health } = s5();
    const command = node(`console.log(${JSON.stringify(JSON.stringify(health))})`);
    await recordCommand({ kind: "runner_archive", command, out, clock: ticking() });
    const a = await readArtifact("runner_archive", out, "capture.json");
    assert.equal(a.timestamp, "2026-12-07T08:00:02.500Z");
    assert.equal(a.timestamp_source, "recorded_at_utc");
    assert.deepEqual(a.data, { observation_health: health });
    // Anything else printed is refused, as for every kind.
    await rejectsWith(
      recordCommand({ kind: "runner_archive", command: node('console.log("{}")'), out: join(dir, "y.json") }),
      "matrix_artifact_invalid",
    );
    assert.ok(!existsSync(join(dir, "y.json")));
  });

  test("jsonOutput: the whole stdout, else the last line that is a JSON object", () => {
    assert.deepEqual(jsonOutput('{"a": 1}'), { value: { a: 1 } });
    assert.deepEqual(jsonOutput("[1]\n"), { value: [1] });
    assert.deepEqual(jsonOutput('x\n{"a": 1}\n{"b": 2}\ndone\n\n'), { value: { b: 2 } });
    assert.deepEqual(jsonOutput('{"a": 1}\n{"b": oops}\n'), { value: { a: 1 } });
    assert.equal(jsonOutput("no json\n[1, 2]\n"), undefined);
    assert.equal(jsonOutput(""), undefined);
  });
});
