import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { startKernelCapture } from "../../../src/runner/kernel/backend.js";
import { startBpftrace } from "../../../src/runner/kernel/bpftrace.js";
import { KernelBackendUnavailable } from "../../../src/runner/kernel/unavailable.js";
import { tempDir } from "../../temp-dir.js";
import { assertWorkloadEvents, closedPort, liveCapture, opens, WORKLOAD, workloadDir } from "./live.js";

const OPENS = 10_000;

describe("bpftrace capture, live (skips only when bpftrace is missing or cannot attach)", () => {
  test("every event of the workload arrives, with the right pid and values", async (t) => {
    const dir = workloadDir(t);
    const port = await closedPort();
    const run = await liveCapture(
      t,
      (cgroup, scratchDir) => startKernelCapture("bpftrace", { cgroup, scratchDir }),
      [process.execPath, WORKLOAD, dir, String(port), "0"],
    );
    if (run === null) return;
    assertWorkloadEvents(run, dir, port);
    assert.deepEqual(run.warnings, []);
  });

  test(`${OPENS} opens of distinct files: exactly ${OPENS} events, nothing dropped`, async (t) => {
    const dir = workloadDir(t);
    const port = await closedPort();
    const run = await liveCapture(
      t,
      (cgroup, scratchDir) => startKernelCapture("bpftrace", { cgroup, scratchDir }),
      [process.execPath, WORKLOAD, dir, String(port), String(OPENS)],
    );
    if (run === null) return;
    const { pid } = assertWorkloadEvents(run, dir, port);
    const many = [...opens(run.events)].filter(([path]) => path.startsWith(join(dir, "many", "f-")));
    assert.equal(many.length, OPENS, "distinct paths");
    assert.ok(many.every(([, evs]) => evs.length === 1 && evs[0]?.pid === pid && (evs[0]?.ret ?? -1) >= 0));
    assert.equal(run.facts.drops, 0);
    assert.equal(run.facts.hooks.openat.dropped, 0);
    t.diagnostic(
      `bpftrace: ${many.length} of ${OPENS} opens, ${run.facts.hooks.openat.emitted} openat events in all`,
    );
  });

  test("with a one-page perf buffer records are lost, and counted exactly: received + dropped = emitted", async (t) => {
    const burst = 3000;
    const program = `const fs = require("fs"); for (let i = 0; i < ${burst}; i++) { try { fs.openSync("/nonexistent/" + i); } catch {} }`;
    const run = await liveCapture(
      t,
      (cgroup, scratchDir) => startBpftrace({ cgroup, scratchDir, perfPages: 1 }),
      [process.execPath, "-e", program],
    );
    if (run === null) return;
    const received = run.events.filter((e) => e.kind === "openat").length;
    const { emitted, dropped } = run.facts.hooks.openat;
    // Paths here fit one record each, so records and events count alike.
    assert.ok(
      run.events.every((e) => e.kind !== "openat" || e.path === null || Buffer.byteLength(e.path) < 103),
    );
    assert.equal(received + dropped, emitted);
    assert.ok(emitted >= burst);
    assert.equal(
      run.facts.drops,
      dropped + run.facts.hooks.openat2.dropped + run.facts.hooks.connect.dropped,
    );
    t.diagnostic(
      `one page per CPU: ${emitted} openat events emitted, ${received} received, ${dropped} dropped`,
    );
  });

  test("bpftrace dying during the capture is a stream closed early", async (t) => {
    const run = await liveCapture(
      t,
      async (cgroup, scratchDir) => {
        const capture = await startKernelCapture("bpftrace", { cgroup, scratchDir });
        await killBpftraceOf(join(scratchDir, "capture.bt"));
        return capture;
      },
      ["/bin/true"],
    );
    if (run === null) return;
    assert.equal(run.facts.closed_early, true);
    assert.deepEqual(run.warnings, ["bpftrace ended before the capture did (signal SIGKILL)"]);
  });

  test("bpftrace killed when it outlasts the stop timer: counters unknown, and the runner is told why", async (t) => {
    // bpftrace takes ~0.8 s to detach its probes after SIGINT; 1 ms is never enough.
    const run = await liveCapture(
      t,
      (cgroup, scratchDir) => startBpftrace({ cgroup, scratchDir, stopTimeoutMs: 1 }),
      ["/bin/true"],
    );
    if (run === null) return;
    assert.equal(run.facts.closed_early, false);
    assert.equal(run.facts.parse_errors, 1, JSON.stringify(run.facts));
    assert.deepEqual(run.warnings, [
      "bpftrace did not exit within 0.001 s of SIGINT and was killed: its counters are unknown",
    ]);
  });

  test("a flush that times out is said, and the capture still ends cleanly", async (t) => {
    const run = await liveCapture(
      t,
      (cgroup, scratchDir) => startBpftrace({ cgroup, scratchDir, flushTimeoutMs: 0 }),
      ["/bin/true"],
    );
    if (run === null) return;
    assert.deepEqual(run.warnings, [
      "bpftrace did not read every CPU's buffer within 0 s of the flush request: records still queued may be lost (counted as drops)",
    ]);
    assert.equal(run.facts.parse_errors, 0, JSON.stringify(run.facts));
  });

  test("a cgroup bpftrace cannot resolve fails to attach, with bpftrace's reason", async (t) => {
    const fake = {
      path: "/sys/fs/cgroup/no-such-assay-cgroup",
      id: 1,
      wrap: (a: readonly string[]) => [...a],
      waitEmpty: async () => true,
      remove: async () => {},
    };
    const err = await startBpftrace({ cgroup: fake, scratchDir: tempDir("assay-bpftrace-", t) }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof KernelBackendUnavailable, String(err));
    if (err.reason === "bpftrace is not installed") {
      t.skip(err.reason);
      return;
    }
    assert.match(err.reason, /^bpftrace failed to attach: /);
    assert.equal(err.code, "runner_kernel_unavailable");
  });

  test("a missing bpftrace is a typed error: kernel backend unavailable", async (t) => {
    const fake = {
      path: join(tmpdir(), "x"),
      id: 1,
      wrap: (a: readonly string[]) => [...a],
      waitEmpty: async () => true,
      remove: async () => {},
    };
    await assert.rejects(
      startBpftrace({
        cgroup: fake,
        scratchDir: tempDir("assay-bpftrace-", t),
        bin: "/nonexistent/bpftrace",
      }),
      (err: unknown) =>
        err instanceof KernelBackendUnavailable &&
        err.code === "runner_kernel_unavailable" &&
        err.message === "kernel_backend_unavailable: bpftrace is not installed",
    );
  });
});

/** SIGKILL the bpftrace running `script` (found by its command line; only that process). */
async function killBpftraceOf(script: string): Promise<void> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    const argv = cmdline.split("\0");
    if (argv[0]?.endsWith("bpftrace") && argv.includes(script)) {
      process.kill(Number(entry), "SIGKILL");
      // Wait until it is gone, so the capture sees its stream close.
      for (let i = 0; i < 500; i++) {
        const alive = await readFile(`/proc/${entry}/cmdline`, "utf8").then(
          (c) => c.length > 0,
          () => false,
        );
        if (!alive) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      return;
    }
  }
  throw new Error(`no bpftrace running ${script}`);
}
