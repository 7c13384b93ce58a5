import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { schemaValidator } from "../../src/lib/schema-validator.js";
import type { KernelEventLine, RawKernelEvent } from "../../src/runner/contract.js";
import { normalizeKernel } from "../../src/runner/kernel-normalize.js";
import { connect, exec, normalized, open, stream } from "./kernel-events.js";

const validLine = schemaValidator("runner-kernel-event");

describe("normalizeKernel: lines (contract §6)", () => {
  test("each line is JSON.stringify of the event with keys in the contract's emit order", async () => {
    const { lines } = await normalized([
      open("/tmp/work/out.txt", { pid: 7, flags: 0o1101, mode: 0o644, ret: 4 }),
      connect(2, "203.0.113.10", 443, 8),
      exec("/usr/bin/node", 9),
      open("/tmp/work/missing.txt", { pid: 7, flags: 0, ret: -2, resolve: 0x08 }),
      open("/tmp/work/append.log", { pid: 7, flags: 0o2301, mode: 0o600, ret: 5 }),
    ]);
    const want: KernelEventLine[] = [
      {
        schema: "assay.runner.kernel_event.v0",
        run_id: "run_test",
        seq: 0,
        pid: 7,
        event_type: 1,
        kind: "openat",
        value: "/tmp/work/out.txt",
        flags: 0o1101,
        mode: 0o644,
        return_value: 4,
        access_mode: "write",
        operation_flags: ["create", "truncate"],
        status: "success",
      },
      {
        schema: "assay.runner.kernel_event.v0",
        run_id: "run_test",
        seq: 1,
        pid: 8,
        event_type: 2,
        kind: "connect",
        value: "203.0.113.10:443",
      },
      {
        schema: "assay.runner.kernel_event.v0",
        run_id: "run_test",
        seq: 2,
        pid: 9,
        event_type: 4,
        kind: "exec",
        value: "/usr/bin/node",
      },
      {
        schema: "assay.runner.kernel_event.v0",
        run_id: "run_test",
        seq: 3,
        pid: 7,
        event_type: 1,
        kind: "openat",
        value: "/tmp/work/missing.txt",
        flags: 0,
        mode: 0,
        resolve: 8,
        return_value: -2,
        access_mode: "read",
        status: "error",
      },
      {
        schema: "assay.runner.kernel_event.v0",
        run_id: "run_test",
        seq: 4,
        pid: 7,
        event_type: 1,
        kind: "openat",
        value: "/tmp/work/append.log",
        flags: 0o2301,
        mode: 0o600,
        return_value: 5,
        access_mode: "write",
        operation_flags: ["create", "append", "exclusive"],
        status: "success",
      },
    ];
    assert.deepEqual(
      lines,
      want.map((w) => JSON.stringify(w)),
    );
    for (const l of lines) assert.ok(validLine(JSON.parse(l)), JSON.stringify(validLine.errors));
  });

  test("values are escaped as serde_json escapes them; empty and unreadable values are null", async () => {
    const odd = 'a"b\\c\n\t\u0001é/☃/😀';
    const { parsed, lines, result } = await normalized([
      open(odd),
      open(""),
      open(null, { flags: 1 }),
      exec(""),
      exec(null),
      { kind: "connect", pid: 1, sockaddr: null },
    ]);
    assert.equal(lines[0]?.includes('"value":"a\\"b\\\\c\\n\\t\\u0001é/☃/😀"'), true);
    assert.deepEqual(
      parsed.map((l) => l.value),
      [odd, null, null, null, null, null],
    );
    assert.deepEqual(result.surface, { filesystem_paths: [odd], network_endpoints: [], process_execs: [] });
    assert.deepEqual(result.emitted, { openat: 3, connect: 1, exec: 2 });
  });

  test("u64 flags, mode and resolve beyond 2^53 are written exactly; the flags' low bits still drive the hints", async () => {
    // openat2 with how.flags = 1<<63 | O_WRONLY|O_CREAT (the kernel refuses it with EINVAL).
    const flags = (2n ** 63n + 0o101n).toString();
    const { lines, parsed } = await normalized([
      open("/tmp/w", { flags, mode: "18446744073709551615", resolve: "9007199254740993", ret: -22 }),
    ]);
    assert.match(
      lines[0] ?? "",
      /"flags":9223372036854775873,"mode":18446744073709551615,"resolve":9007199254740993,/,
    );
    assert.equal(parsed[0]?.access_mode, "write");
    assert.deepEqual(parsed[0]?.operation_flags, ["create"]);
    assert.equal(parsed[0]?.status, "error");
    await assert.rejects(normalized([open("/tmp/x", { flags: "18446744073709551616" })]), {
      code: "internal",
    });
  });

  test("the run id is written as given, JSON-escaped", async () => {
    const { parsed } = await normalized([exec("/bin/sh")], "run_A-z_09");
    assert.equal(parsed[0]?.run_id, "run_A-z_09");
  });

  test("a non-integer field is refused rather than written into a line", async () => {
    await assert.rejects(normalized([open("/tmp/x", { flags: Number.NaN })]), { code: "internal" });
  });
});

describe("normalizeKernel: deduplication and seq", () => {
  test("only the first open per (path, flags) is kept, whichever process opened it", async () => {
    const { parsed, result } = await normalized([
      open("/tmp/a", { pid: 1 }),
      open("/tmp/a", { pid: 2 }),
      open("/tmp/a", { pid: 1, flags: 1, ret: -13 }),
      open("/tmp/a", { pid: 1, flags: 1 }),
      open("/tmp/a", { pid: 3, flags: 2 }),
      open("/tmp/a", { pid: 3, flags: 1 }),
      open("", { pid: 1 }),
      open(null, { pid: 1 }),
    ]);
    assert.deepEqual(
      parsed.map((l) => [l.pid, l.value, l.flags, l.status]),
      [
        [1, "/tmp/a", 0o2000000, "success"],
        [1, "/tmp/a", 1, "error"],
        [3, "/tmp/a", 2, "success"],
        [1, null, 0o2000000, "success"],
      ],
    );
    assert.equal(result.retained, 4);
  });

  test("connects and execs are never deduplicated", async () => {
    const { result } = await normalized([
      exec("/bin/sh"),
      exec("/bin/sh"),
      connect(2, "10.0.0.1", 80),
      connect(2, "10.0.0.1", 80),
    ]);
    assert.equal(result.retained, 4);
    assert.deepEqual(result.surface.network_endpoints, ["10.0.0.1:80"]);
  });

  test("seq counts retained events 0, 1, 2… in arrival order, skipping filtered and repeated opens", async () => {
    const { parsed, result } = await normalized([
      open("/etc/ld.so.cache"),
      open("/tmp/a"),
      open("/tmp/a"),
      open("/proc/self/stat"),
      connect(10, "::ffff:10.1.2.3", 8443),
      open("/usr/lib/x.so"),
      exec("/usr/bin/python3"),
      open("/tmp/b", { ret: -2 }),
    ]);
    assert.deepEqual(
      parsed.map((l) => [l.seq, l.kind, l.value]),
      [
        [0, "openat", "/tmp/a"],
        [1, "connect", "[::ffff:10.1.2.3]:8443"],
        [2, "exec", "/usr/bin/python3"],
        [3, "openat", "/tmp/b"],
      ],
    );
    assert.equal(result.retained, 4);
    assert.equal(result.filtered, 3);
    // Failed opens are part of the surface (contract §4).
    assert.deepEqual(result.surface.filesystem_paths, ["/tmp/a", "/tmp/b"]);
  });

  test("surface sets are deduplicated and in UTF-8 byte order", async () => {
    const { result } = await normalized([
      open("/w/\u{1F600}"),
      open("/w/\uFFFD"),
      open("/w/b"),
      open("/w/b", { flags: 1 }),
      open("/w/B"),
      connect(2, "10.0.0.2", 80),
      connect(10, "2001:db8::1", 80),
      connect(2, "10.0.0.10", 80),
    ]);
    assert.deepEqual(result.surface.filesystem_paths, ["/w/B", "/w/b", "/w/\uFFFD", "/w/\u{1F600}"]);
    assert.deepEqual(result.surface.network_endpoints, ["10.0.0.10:80", "10.0.0.2:80", "[2001:db8::1]:80"]);
  });

  test("no events: nothing written, an empty result", async () => {
    let writes = 0;
    const result = await normalizeKernel((async function* () {})(), "run_test", () => {
      writes++;
    });
    assert.equal(writes, 0);
    assert.deepEqual(result, {
      retained: 0,
      filtered: 0,
      filteredTop: [],
      surface: { filesystem_paths: [], network_endpoints: [], process_execs: [] },
      emitted: { openat: 0, connect: 0, exec: 0 },
    });
  });
});

/** The lines of `text` as V8 slices of it, as a line parser cuts them. */
function lines(text: string): string[] {
  const out: string[] = [];
  for (let at = 0, nl = text.indexOf("\n"); nl >= 0; at = nl + 1, nl = text.indexOf("\n", at))
    out.push(text.slice(at, nl));
  return out;
}

describe("normalizeKernel: streaming", () => {
  test("200,000 events: lines leave in ~64 KiB chunks as they are made and the heap does not hold them", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const N = 200_000;
    let written = 0;
    let writes = 0;
    let largest = 0;
    let writesAtHalf = -1;
    let heapAtStart = 0;
    let heapGrowth = 0;
    async function* events(): AsyncGenerator<RawKernelEvent> {
      gc();
      heapAtStart = process.memoryUsage().heapUsed;
      for (let i = 0; i < N; i++) {
        if (i === N / 2) writesAtHalf = writes;
        // Connects are never deduplicated, so every event is a line; 16 distinct endpoints.
        yield connect(2, `10.0.0.${i % 16}`, 443, 1000 + (i % 7));
      }
      gc();
      heapGrowth = process.memoryUsage().heapUsed - heapAtStart;
    }
    const result = await normalizeKernel(events(), "run_stream", async (chunk) => {
      writes++;
      written += chunk.length;
      largest = Math.max(largest, chunk.length);
      assert.ok(chunk.endsWith("\n"));
    });
    assert.equal(result.retained, N);
    assert.ok(written > 25_000_000, `${written} characters written`);
    // Written while the events were still coming, not at the end.
    assert.ok(writesAtHalf >= Math.floor(written / 2 / 65_536) - 1, `${writesAtHalf} writes by half-way`);
    assert.ok(largest < 64 * 1024 + 256, `largest chunk ${largest}`);
    assert.ok(writes >= Math.floor(written / (64 * 1024 + 256)));
    // The lines (over 25 MB) were not kept: the heap grew by far less.
    assert.ok(heapGrowth < 8 * 1024 * 1024, `heap grew by ${heapGrowth} bytes`);
    assert.equal(result.surface.network_endpoints.length, 16);
  });

  test("a path sliced out of a large read does not keep that read alive", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    async function* events(): AsyncGenerator<RawKernelEvent> {
      for (let i = 0; i < 400; i++) {
        // What a line parser gives: a V8 slice whose parent is a whole 64 KiB read.
        const read =
          `${"x".repeat(64 * 1024)}\n/tmp/work/distinct-${i}.txt\n/proc/${i}/stat\n/bin/tool-${i}\n`.slice(0);
        const [, path, proc, tool] = lines(read);
        yield open(path as string);
        yield open(proc as string);
        yield exec(tool as string);
      }
    }
    const result = await normalizeKernel(events(), "run_slices", () => {});
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    assert.equal(result.surface.filesystem_paths.length, 400);
    assert.equal(result.surface.process_execs.length, 400);
    assert.equal(result.filtered, 400);
    // 400 reads of 64 KiB (twice that as UTF-16) would be 50 MiB.
    assert.ok(grown < 4 * 1024 * 1024, `heap grew by ${grown} bytes`);
  });

  test("write is called one chunk at a time, and its failure is normalizeKernel's", async () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => connect(2, "10.0.0.1", i % 65536));
    let inFlight = 0;
    let calls = 0;
    await normalizeKernel(stream(many(20_000)), "run_w", async () => {
      calls++;
      assert.equal(inFlight, 0, "a write while the previous one was pending");
      inFlight++;
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
    });
    assert.ok(calls > 10);
    const boom = new Error("disk full");
    let failedCalls = 0;
    await assert.rejects(
      normalizeKernel(stream(many(20_000)), "run_w", async () => {
        failedCalls++;
        if (failedCalls === 2) throw boom;
      }),
      boom,
    );
    await assert.rejects(
      normalizeKernel(stream(many(10)), "run_w", () => {
        throw boom;
      }),
      boom,
    );
  });

  test("a write that returns nothing (synchronous) is fine too, and every line arrives once, in order", async () => {
    const chunks: string[] = [];
    const events: RawKernelEvent[] = [];
    for (let i = 0; i < 5000; i++) events.push(open(`/tmp/f${i}`));
    const result = await normalizeKernel(
      (async function* () {
        yield* events;
      })(),
      "run_sync",
      (c) => {
        chunks.push(c);
      },
    );
    const lines = chunks.join("").split("\n").slice(0, -1);
    assert.equal(lines.length, 5000);
    assert.ok(chunks.length > 1);
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as KernelEventLine).seq),
      lines.map((_, i) => i),
    );
    assert.equal(result.surface.filesystem_paths.length, 5000);
  });
});
