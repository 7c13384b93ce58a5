import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ROOT } from "../run-assay.js";

const BLOCKED = "test/fixtures/run-tests/blocked.test.ts";
const PASSES = "test/fixtures/run-tests/passes.test.ts";

/** `node scripts/run-tests.mjs <files>`, killed if it outlives `guardMs` (then the test fails). */
function runTests(files: string[], env: Record<string, string>, guardMs = 60_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve) => {
    const started = Date.now();
    // Without the variable that tells node --test it runs inside a test (it would skip the files).
    const { NODE_TEST_CONTEXT: _, ...outer } = process.env;
    const child = spawn(process.execPath, ["scripts/run-tests.mjs", ...files], {
      cwd: ROOT,
      env: { ...outer, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString("utf8");
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString("utf8");
    });
    const done = (code: number | null) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    };
    // Past the guard the script failed to stop the run: it and the fixtures' processes are killed
    // here (they would hold its output open, so it would never close) and the test fails.
    const guard = setTimeout(() => {
      child.kill("SIGKILL");
      killFixtures();
      done(null);
    }, guardMs);
    child.on("close", done);
  });
}

/** Processes (Linux /proc) whose command line names `file` (node --test passes its absolute path). */
function running(file: string): number[] {
  const path = join(ROOT, file);
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0").includes(path);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Kill whatever still runs a fixture file, so a failed test leaves nothing behind. */
function killFixtures(): void {
  for (const pid of [...running(BLOCKED), ...running(PASSES)]) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
}

describe("scripts/run-tests.mjs", () => {
  test("a test file whose thread is blocked is named, killed, and the run exits 2 at its time limit", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "assay-run-tests-"));
    t.after(() => {
      killFixtures();
      rmSync(dir, { recursive: true, force: true });
    });
    const junit = join(dir, "junit.xml");
    const r = await runTests([BLOCKED, PASSES], {
      ASSAY_TEST_TIMEOUT_S: "3",
      ASSAY_TEST_CONCURRENCY: "2",
      ASSAY_TEST_JUNIT: junit,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^run-tests: the tests ran past 3 s \(ASSAY_TEST_TIMEOUT_S\); still running: test\/fixtures\/run-tests\/blocked\.test\.ts; stopped$/m,
    );
    assert.ok(r.ms < 30_000, `stopped after ${r.ms} ms`);
    assert.deepEqual(running(BLOCKED), [], "nothing of the blocked file is left running");
    // No JUnit file for a run cut short, and no raw one left behind.
    assert.match(r.stderr, /cannot write the JUnit file .*: the run was stopped before it finished$/m);
    assert.deepEqual(readdirSync(dir), []);
  });

  test("under the limit the run ends as node --test does; a bad limit is a usage error", async () => {
    const ok = await runTests([PASSES], { ASSAY_TEST_TIMEOUT_S: "60" });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /✔ passes/);
    for (const limit of ["soon", "-1", "2147484"]) {
      const bad = await runTests([PASSES], { ASSAY_TEST_TIMEOUT_S: limit });
      assert.equal(bad.code, 2, limit);
      assert.equal(
        bad.stderr,
        "run-tests: ASSAY_TEST_TIMEOUT_S must be a whole number of seconds up to 2147483, 0 for no limit\n",
        limit,
      );
    }
  });
});
