import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RawKernelEvent } from "../../../src/runner/contract.js";
import { BpftraceParser, bpftraceFacts } from "../../../src/runner/kernel/bpftrace-parse.js";
import { bpftraceScript } from "../../../src/runner/kernel/bpftrace-script.js";
import { recordedLines, workloadEvents } from "./recorded.js";

function parse(lines: readonly string[]): { events: RawKernelEvent[]; parser: BpftraceParser } {
  const parser = new BpftraceParser();
  const events: RawKernelEvent[] = [];
  for (const line of lines) events.push(...parser.line(line));
  events.push(...parser.end());
  return { events, parser };
}

const hex = (s: string | Buffer) =>
  [...Buffer.from(s)].map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("");
/** One OPEN record the way the script prints it (104-byte buffer, zero-filled). */
function openRecord(o: {
  tid: number;
  ts: number;
  chunk: number;
  more: 0 | 1;
  bytes: Buffer | string;
  syscall?: string;
}) {
  const buf = Buffer.alloc(104);
  Buffer.from(o.bytes).copy(buf);
  return `OPEN ${o.syscall ?? "openat"} ${o.tid} ${o.tid} ${o.ts} 524288 0 0 24 3 ${o.chunk} ${o.more} ${hex(buf)}`;
}

describe("bpftrace output parser (recorded from bpftrace 0.17)", () => {
  test("a recorded capture: every event, with odd paths, openat2, connects, a thread and an exec", () => {
    const { events, parser } = parse(recordedLines("bpftrace-sample.out"));
    assert.deepEqual(events, workloadEvents(1512, 1514));
    const counts = parser.counts();
    assert.equal(counts.readyCgroupId, 63);
    assert.equal(counts.ended, true);
    // The 366-byte path took four records.
    assert.equal(counts.hooks.openat.lines, 14);
    assert.deepEqual(bpftraceFacts(counts, true, false), {
      backend: "bpftrace",
      drops: 0,
      hooks: {
        openat: { emitted: 12, dropped: 0 },
        openat2: { emitted: 3, dropped: 0 },
        connect: { emitted: 4, dropped: 0 },
      },
      parse_errors: 0,
      closed_early: false,
    });
  });

  test("lost records: bpftrace's `Lost N events` and its counters agree, per hook", () => {
    const { events, parser } = parse(recordedLines("bpftrace-lost.out"));
    assert.equal(parser.counts().lostReported, 380);
    assert.equal(events.length, 25);
    assert.ok(
      events.every((e) => e.kind === "openat" && e.ret === -2 && e.path?.startsWith("/nonexistent/")),
    );
    const facts = bpftraceFacts(parser.counts(), true, false);
    assert.equal(facts.drops, 380);
    assert.deepEqual(facts.hooks.openat, { emitted: 405, dropped: 380 });
    assert.equal(facts.parse_errors, 0);
  });

  test("a loss the kernel never reported (no record followed it) is still counted, from the counters", () => {
    const { events, parser } = parse(recordedLines("bpftrace-lost-unreported.out"));
    assert.equal(parser.counts().lostReported, 0);
    assert.equal(events.length, 20);
    const facts = bpftraceFacts(parser.counts(), true, false);
    assert.equal(facts.drops, 380);
    assert.deepEqual(facts.hooks.openat, { emitted: 400, dropped: 380 });
  });

  test("a lost middle record of a long path: the event stays, its path is null, the loss is counted", () => {
    const lines = recordedLines("bpftrace-sample.out");
    const second = lines.findIndex((l) => / 3 1 1 \\x61/.test(l));
    assert.ok(second > 0, "the sample holds the long path's second record");
    const { events, parser } = parse(lines.filter((_, i) => i !== second));
    // The long path is the only one opened with mode 0644.
    const long = events.filter((e) => e.kind === "openat" && e.mode === 0o644);
    assert.deepEqual(
      long.map((e) => (e as { path: unknown }).path),
      [null],
    );
    assert.equal(bpftraceFacts(parser.counts(), true, false).hooks.openat.dropped, 1);
  });

  test("a path whose last record never came is emitted at the end with what arrived", () => {
    const { events } = parse([
      openRecord({ tid: 7, ts: 100, chunk: 0, more: 1, bytes: "a".repeat(103) }),
      openRecord({ tid: 7, ts: 100, chunk: 1, more: 1, bytes: "/tail" }),
    ]);
    assert.equal(events.length, 1);
    assert.equal((events[0] as { path: string }).path, `${"a".repeat(103)}/tail`);
  });

  test("records of two threads interleaved are joined by (tid, ts)", () => {
    const { events } = parse([
      openRecord({ tid: 7, ts: 100, chunk: 0, more: 1, bytes: "x".repeat(103) }),
      openRecord({ tid: 8, ts: 100, chunk: 0, more: 0, bytes: "/other" }),
      openRecord({ tid: 7, ts: 100, chunk: 1, more: 0, bytes: "/end" }),
    ]);
    assert.deepEqual(
      events.map((e) => [e.pid, (e as { path: string }).path]),
      [
        [8, "/other"],
        [7, `${"x".repeat(103)}/end`],
      ],
    );
  });

  test("without the END marker and map dump (bpftrace killed) the counters are unknown: one parse error", () => {
    const lines = recordedLines("bpftrace-sample.out");
    const end = lines.indexOf("ASSAY_END");
    const { parser } = parse(lines.slice(0, end));
    assert.equal(parser.counts().ended, false);
    assert.equal(bpftraceFacts(parser.counts(), false, false).parse_errors, 1);
  });

  test("lines it does not know, malformed records and bad hex are parse errors, never skipped", () => {
    const good = openRecord({ tid: 1, ts: 1, chunk: 0, more: 0, bytes: "/ok" });
    const { events, parser } = parse([
      "Attaching 13 probes...",
      "something unexpected",
      good.replace("\\x2f", "\\x2"),
      good.replace(" 524288 ", " 5x4288 "),
      "OPEN openat 1 1",
      "CONNECT 1 1 0 2 16 zz",
      "@inflight_openat[123]: (1, 140737488355328, 0, 0)",
      "@flushed[0]: 123",
      "@event_bogus: 3",
      good,
    ]);
    assert.equal(events.length, 1);
    assert.equal(parser.counts().parseErrors, 6);
  });

  test("flush ticks are read per CPU as 64-bit request times", () => {
    const { parser } = parse([
      "ASSAY_TICK 0 32154283222138",
      "ASSAY_TICK 1 32154283222138",
      "ASSAY_TICK 0 5",
    ]);
    assert.deepEqual(
      [...parser.counts().ticks],
      [
        [0, 32154283222138n],
        [1, 32154283222138n],
      ],
    );
  });

  test("the script filters on the cgroup, takes flush requests by token, prints 64-bit values as %lld/%llu", () => {
    const script = bpftraceScript("/sys/fs/cgroup/unified/assay-runner/x-1", 2 ** 29 + 7);
    assert.match(script, /\/cgroup == cgroupid\("\/sys\/fs\/cgroup\/unified\/assay-runner\/x-1"\)\//);
    // -(2^29 + 7) as a 32-bit pid_t.
    assert.match(script, /sys_enter_kill \/\(args->pid & 0xffffffff\) == 3758096377 && args->sig == 0\//);
    assert.ok(script.includes('"OPEN openat %d %d %llu %lld %lld 0 24 %lld %d %d %rx\\n"'));
    assert.ok(script.includes('"EXEC %d %d %llu %d %d %rx\\n"'));
    assert.throws(() => bpftraceScript('/x"y', 2 ** 29));
    assert.throws(() => bpftraceScript("/x", 4242), /flush token/);
  });
});
