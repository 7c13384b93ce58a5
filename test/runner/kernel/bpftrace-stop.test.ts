import assert from "node:assert/strict";
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import type { Cgroup } from "../../../src/runner/cgroup.js";
import type { RawKernelEvent } from "../../../src/runner/contract.js";
import type { KernelCapture, KernelCaptureResult } from "../../../src/runner/kernel/backend.js";
import { startBpftrace } from "../../../src/runner/kernel/bpftrace.js";
import { tempDir } from "../../temp-dir.js";

// How the bpftrace backend stops, against a stand-in for bpftrace (a node script given as `bin`):
// no root, no kernel, and the timing of its output is ours to choose.

const CGROUP: Cgroup = {
  path: "/sys/fs/cgroup/assay-fake",
  id: 42,
  wrap: (argv) => [...argv],
  waitEmpty: async () => true,
  remove: async () => {},
};

/** Each test's bound: a stop that waits for its (600 s) stop timer fails here instead of hanging. */
const BOUND = { timeout: 60_000 };

/**
 * A stand-in bpftrace: ready for cgroup 42 at once, every CPU's flush answered (a tick per CPU
 * that is later than any request), then `atStart`; on SIGINT, `onSigint` (JS source each). It is
 * killed when the test ends, should the test leave it running.
 */
function fakeBpftrace(t: TestContext, dir: string, onSigint: string, atStart = ""): string {
  const bin = join(dir, "fake-bpftrace.mjs");
  const pidFile = join(dir, "pid");
  const source = [
    `#!${process.execPath}`,
    `import { writeFileSync } from "node:fs";`,
    `writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));`,
    `const summary = ${SUMMARY};`,
    // Before the ready line, as bpftrace does: a SIGINT may follow it at once.
    `process.on("SIGINT", () => { ${onSigint} });`,
    `let ready = "ASSAY_READY 42\\n";`,
    `for (let cpu = 0; cpu < 1024; cpu++) ready += "ASSAY_TICK " + cpu + " 18446744073709551615\\n";`,
    "process.stdout.write(ready);",
    atStart,
    "setInterval(() => {}, 1000);",
  ].join("\n");
  writeFileSync(bin, source, { mode: 0o755 });
  t.after(() => {
    try {
      process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
    } catch {
      // Gone already, or never started.
    }
  });
  return bin;
}

/** What bpftrace prints at exit for `n` openat records: ASSAY_END and its counters. */
const SUMMARY = `(n) => {
  let out = "ASSAY_END\\n";
  for (const h of ["open", "openat", "openat2", "connect", "exec"]) {
    const c = h === "openat" ? n : 0;
    out += "@enter_" + h + ": " + c + "\\n@event_" + h + ": " + c + "\\n@lines_" + h + ": " + c + "\\n";
  }
  return out;
}`;

/** JS source: `n` whole openat records, each a path in one record. */
const records = (n: number) =>
  `(() => { let out = ""; for (let i = 0; i < ${n}; i++) out += "OPEN openat " + (1000 + i) + " 1000 " + i + " 0 0 0 0 3 0 0 \\\\x61\\n"; return out; })()`;

interface FakeRun {
  /** JS source run on SIGINT. */
  onSigint: string;
  /** JS source run once the stand-in is ready. */
  atStart?: string;
  drainMs?: number;
  stopTimeoutMs?: number;
  /** Called with the scratch directory before the capture starts. */
  prepare?: (dir: string) => void;
}

/** A capture by the bpftrace backend of a stand-in bpftrace; the rest is the test's. */
function fakeCapture(t: TestContext, run: FakeRun): Promise<KernelCapture> {
  const dir = tempDir("assay-bpftrace-stop-", t);
  run.prepare?.(dir);
  const bin = fakeBpftrace(t, dir, run.onSigint, run.atStart);
  return startBpftrace({
    cgroup: CGROUP,
    scratchDir: dir,
    bin,
    drainMs: run.drainMs ?? 0,
    ...(run.stopTimeoutMs === undefined ? {} : { stopTimeoutMs: run.stopTimeoutMs }),
  });
}

/** Every event of a finished capture. */
async function allEvents(events: KernelCaptureResult["events"]): Promise<RawKernelEvent[]> {
  const all: RawKernelEvent[] = [];
  for await (const batch of events) all.push(...(Array.isArray(batch) ? batch : [batch as RawKernelEvent]));
  return all;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A stand-in stuck on SIGINT with a record whose path goes on in a next record (more = 1). */
const HALF_PRINTED: FakeRun = {
  onSigint: "",
  atStart: `process.stdout.write("OPEN openat 7 7 1 0 0 0 0 3 0 1 \\\\x61\\n");`,
};

/** An aborted capture of HALF_PRINTED: the half-printed path is emitted as it is. */
async function assertAbortedWithOneEvent({ events, facts, warnings }: KernelCaptureResult): Promise<void> {
  assert.deepEqual(warnings, ["the capture was aborted: bpftrace was killed"]);
  assert.equal(facts.closed_early, true);
  assert.equal((await allEvents(events)).length, 1);
}

describe("bpftrace backend: stopping", () => {
  test(
    "output still in the pipe when bpftrace exits is read before the stop is judged: a clean stop says nothing",
    BOUND,
    async (t) => {
      // On SIGINT a burst of records (more than one read's worth), then the summary, then exit 0:
      // the process is gone while its last lines are still on their way.
      const capture = await fakeCapture(t, {
        onSigint: `process.stdout.write(${records(3000)} + summary(3000), () => process.exit(0));`,
      });
      const { events, facts, warnings } = await capture.finish();
      assert.deepEqual(warnings, []);
      assert.equal(facts.parse_errors, 0, JSON.stringify(facts));
      assert.equal(facts.drops, 0, JSON.stringify(facts));
      assert.equal((await allEvents(events)).length, 3000);
    },
  );

  test("abort() after the SIGINT kills bpftrace at once, rather than at the stop timer", BOUND, async (t) => {
    // A bpftrace stuck detaching: SIGINT changes nothing.
    const capture = await fakeCapture(t, { onSigint: "", stopTimeoutMs: 600_000 });
    const finished = capture.finish();
    // The flush is answered at once, so the SIGINT goes out right away (6–62 ms, measured).
    await sleep(200);
    await capture.abort();
    const { facts, warnings } = await finished;
    assert.deepEqual(warnings, ["the capture was aborted: bpftrace was killed"]);
    assert.equal(facts.parse_errors, 1, JSON.stringify(facts));
  });

  test(
    "abort() during the drain, with a path half printed: finish() still settles with what was read",
    BOUND,
    async (t) => {
      const capture = await fakeCapture(t, { ...HALF_PRINTED, drainMs: 2000 });
      const finished = capture.finish();
      await sleep(200);
      await capture.abort();
      await assertAbortedWithOneEvent(await finished);
    },
  );

  test(
    "finish() after abort(), with a path half printed: it settles with what was read",
    BOUND,
    async (t) => {
      // As when a signal's cleanup aborts the capture while the runner goes on to finish() it.
      const capture = await fakeCapture(t, HALF_PRINTED);
      await sleep(200);
      await capture.abort();
      await assertAbortedWithOneEvent(await capture.finish());
    },
  );

  test("bpftrace that ended by itself is not said to be aborted by a later abort()", BOUND, async (t) => {
    const capture = await fakeCapture(t, {
      onSigint: "",
      atStart: "process.stdout.write(summary(0), () => process.exit(0));",
      drainMs: 1000,
    });
    const finished = capture.finish();
    // Within the drain: the stand-in is gone by then (it exits as soon as it is ready).
    await sleep(500);
    await capture.abort();
    const { warnings } = await finished;
    assert.deepEqual(warnings, ["bpftrace ended before the capture did (exit 0)"]);
  });

  test(
    "an events file that cannot be written fails the capture without waiting for the stop timer",
    BOUND,
    async (t) => {
      const capture = await fakeCapture(t, {
        // The events go to /dev/full: every write fails (ENOSPC).
        prepare: (dir) => symlinkSync("/dev/full", join(dir, "bpftrace-events.ndjson")),
        // Far more than a pipe holds, at once; on SIGINT the summary, and exit once all of it is read.
        atStart: `process.stdout.write(${records(20_000)});`,
        onSigint: "process.stdout.write(summary(0), () => process.exit(0));",
        stopTimeoutMs: 600_000,
      });
      await assert.rejects(capture.finish(), { code: "runner_capture_failed" });
    },
  );
});
