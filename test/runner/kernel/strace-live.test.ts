import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { startKernelCapture } from "../../../src/runner/kernel/backend.js";
import { startStrace } from "../../../src/runner/kernel/strace.js";
import { KernelBackendUnavailable } from "../../../src/runner/kernel/unavailable.js";
import { tempDir } from "../../temp-dir.js";
import { assertWorkloadEvents, closedPort, liveCapture, opens, WORKLOAD, workloadDir } from "./live.js";

const OPENS = 10_000;

describe("strace capture, live (skips only when strace is missing or cannot trace)", () => {
  test("every event of the workload arrives, with the right pid (a thread's too) and values", async (t) => {
    const dir = workloadDir(t);
    const port = await closedPort();
    const run = await liveCapture(
      t,
      (cgroup, scratchDir) => startKernelCapture("strace", { cgroup, scratchDir }),
      [process.execPath, WORKLOAD, dir, String(port), "0"],
    );
    if (run === null) return;
    assertWorkloadEvents(run, dir, port);
  });

  test(`${OPENS} opens of distinct files: exactly ${OPENS} events`, async (t) => {
    const dir = workloadDir(t);
    const port = await closedPort();
    const run = await liveCapture(
      t,
      (cgroup, scratchDir) => startKernelCapture("strace", { cgroup, scratchDir }),
      [process.execPath, WORKLOAD, dir, String(port), String(OPENS)],
    );
    if (run === null) return;
    const { pid } = assertWorkloadEvents(run, dir, port);
    const many = [...opens(run.events)].filter(([path]) => path.startsWith(join(dir, "many", "f-")));
    assert.equal(many.length, OPENS, "distinct paths");
    assert.ok(many.every(([, evs]) => evs.length === 1 && evs[0]?.pid === pid && (evs[0]?.ret ?? -1) >= 0));
    assert.equal(run.facts.drops, 0);
    t.diagnostic(
      `strace: ${many.length} of ${OPENS} opens, ${run.facts.hooks.openat.emitted} openat events in all`,
    );
  });

  test("strace killed with its agent leaves a log without the end: closed early", async (t) => {
    const run = await liveCapture(
      t,
      (cgroup, scratchDir) => startKernelCapture("strace", { cgroup, scratchDir }),
      // strace runs as this shell's child in the same process group; the shell kills the group.
      ["/bin/sh", "-c", "cat /dev/null; kill -KILL 0"],
    );
    if (run === null) return;
    assert.equal(run.facts.closed_early, true);
  });

  test("strace that never ran leaves no log: closed early, and the runner is told why", async (t) => {
    let capture: Awaited<ReturnType<typeof startStrace>>;
    try {
      capture = await startStrace({ scratchDir: tempDir("assay-strace-", t) });
    } catch (err) {
      if (err instanceof KernelBackendUnavailable) return t.skip(err.message);
      throw err;
    }
    // The agent (strace) is never started.
    const { facts, warnings } = await capture.finish();
    assert.equal(facts.closed_early, true);
    assert.deepEqual(warnings, ["strace wrote no log: it could not start, or was killed at once"]);
  });

  test("a missing strace is a typed error: kernel backend unavailable", async (t) => {
    await assert.rejects(
      startStrace({ scratchDir: tempDir("assay-strace-", t), bin: "/nonexistent/strace" }),
      (err: unknown) =>
        err instanceof KernelBackendUnavailable &&
        err.code === "runner_kernel_unavailable" &&
        err.message === "kernel_backend_unavailable: strace is not installed",
    );
  });
});
