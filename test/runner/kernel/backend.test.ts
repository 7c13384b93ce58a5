import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { RawKernelEvent } from "../../../src/runner/contract.js";
import { probeKernelBackends } from "../../../src/runner/kernel/backend.js";
import { EventFileWriter, readEventFile } from "../../../src/runner/kernel/event-file.js";
import { ensureTracefs } from "../../../src/runner/tracefs.js";
import { tempDir } from "../../temp-dir.js";

describe("kernel backends", () => {
  test("the probe names both backends, in order of preference, each usable or with a one-line reason", async (t) => {
    const probes = await probeKernelBackends();
    assert.deepEqual(
      probes.map((p) => p.backend),
      ["bpftrace", "strace"],
    );
    for (const p of probes) {
      if (p.available) assert.equal(p.reason, undefined);
      else assert.match(p.reason ?? "", /^[^\n]+$/);
    }
    t.diagnostic(probes.map((p) => `${p.backend}: ${p.available ? "available" : p.reason}`).join("; "));
  });

  test("tracefs: mounted where bpftrace looks for it, or a reason", async () => {
    const status = await ensureTracefs();
    if (status.available)
      assert.ok(["/sys/kernel/tracing", "/sys/kernel/debug/tracing"].includes(status.mountPoint));
    else assert.match(status.reason, /^[^\n]+$/);
  });

  test("raw events go to disk and stream back as written, any path text included", async (t) => {
    const path = join(tempDir("assay-events-", t), "events.ndjson");
    const events: RawKernelEvent[] = [
      { kind: "openat", pid: 1, path: "new\nline \u2028 \ufffd", flags: 0, mode: 0, resolve: 0, ret: -2 },
      { kind: "connect", pid: 2, sockaddr: { family: 10, address: "::1", port: 9 } },
      { kind: "exec", pid: 3, path: null },
    ];
    const writer = new EventFileWriter(path);
    await writer.write(events.slice(0, 1));
    await writer.write(events.slice(1));
    await writer.close();
    const back: RawKernelEvent[] = [];
    for await (const e of readEventFile(path)) back.push(e);
    assert.deepEqual(back, events);
    assert.equal(writer.count, 3);
  });

  test("a write after close fails at once, rather than waiting for a drain that never comes", async (t) => {
    const writer = new EventFileWriter(join(tempDir("assay-events-", t), "events.ndjson"));
    await writer.close();
    const late = writer.write([{ kind: "exec", pid: 3, path: null }]);
    assert.ok(late instanceof Promise);
    await assert.rejects(late, {
      code: "runner_capture_failed",
      message: /cannot write the raw kernel events: the file was already closed/,
    });
    await assert.rejects(writer.close(), { code: "runner_capture_failed" });
  });
});
