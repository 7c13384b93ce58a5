import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { Cgroup } from "../../../src/runner/cgroup.js";
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

/** A stand-in bpftrace: ready at once, every CPU's flush answered, then `onSigint` (JS source). */
function fakeBpftrace(dir: string, onSigint: string): string {
  const bin = join(dir, "fake-bpftrace.mjs");
  writeFileSync(
    bin,
    `#!${process.execPath}
// Ready for cgroup 42; a tick per CPU that answers any flush request.
let out = "ASSAY_READY 42\\n";
for (let cpu = 0; cpu < 1024; cpu++) out += \`ASSAY_TICK \${cpu} 18446744073709551615\\n\`;
process.stdout.write(out);
process.on("SIGINT", () => { ${onSigint} });
setInterval(() => {}, 1000);
`,
    { mode: 0o755 },
  );
  return bin;
}

/** What bpftrace prints at exit for `n` openat records: ASSAY_END and its counters. */
const SUMMARY = `(n) => {
  let out = "ASSAY_END\\n";
  for (const h of ["open", "openat", "openat2", "connect", "exec"]) {
    const c = h === "openat" ? n : 0;
    out += \`@enter_\${h}: \${c}\\n@event_\${h}: \${c}\\n@lines_\${h}: \${c}\\n\`;
  }
  return out;
}`;

describe("bpftrace backend: stopping", () => {
  test("output still in the pipe when bpftrace exits is read before the stop is judged: a clean stop says nothing", async (t) => {
    const dir = tempDir("assay-bpftrace-stop-", t);
    // On SIGINT a burst of records (more than one read's worth), then the summary, then exit 0:
    // the process is gone while its last lines are still on their way.
    const bin = fakeBpftrace(
      dir,
      `const n = 3000; let out = "";
       for (let i = 0; i < n; i++) out += \`OPEN openat \${1000 + i} 1000 \${i} 0 0 0 0 3 0 0 \\\\x61\\n\`;
       process.stdout.write(out + (${SUMMARY})(n), () => process.exit(0));`,
    );
    const capture = await startBpftrace({ cgroup: CGROUP, scratchDir: dir, bin, drainMs: 0 });
    const { events, facts, warnings } = await capture.finish();
    let received = 0;
    for await (const batch of events) received += Array.isArray(batch) ? batch.length : 1;
    assert.deepEqual(warnings, []);
    assert.equal(facts.parse_errors, 0, JSON.stringify(facts));
    assert.equal(facts.drops, 0, JSON.stringify(facts));
    assert.equal(received, 3000);
  });

  test("abort() during a stop kills bpftrace at once, rather than after the stop timer", async (t) => {
    const dir = tempDir("assay-bpftrace-stop-", t);
    // A bpftrace stuck detaching: SIGINT changes nothing.
    const bin = fakeBpftrace(dir, "");
    const capture = await startBpftrace({
      cgroup: CGROUP,
      scratchDir: dir,
      bin,
      drainMs: 0,
      stopTimeoutMs: 600_000,
    });
    const finished = capture.finish();
    // Until the SIGINT is out: the flush is answered at once, so that is right after the drain.
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await capture.abort();
    const { facts, warnings } = await finished;
    // Bounded, not timed: without the fix this waits for the 600 s stop timer.
    assert.ok(Date.now() - started < 60_000);
    assert.deepEqual(warnings, ["bpftrace failed at its exit (signal SIGKILL)"]);
    assert.equal(facts.parse_errors, 1, JSON.stringify(facts));
  });
});
