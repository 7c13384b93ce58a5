import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RawKernelEvent } from "../../../src/runner/contract.js";
import { splitArgs, structFields } from "../../../src/runner/kernel/strace-lines.js";
import { scanStraceLog, straceEvents, straceFacts } from "../../../src/runner/kernel/strace-parse.js";
import { recordedLines, workloadEvents } from "./recorded.js";

async function parse(lines: readonly string[]) {
  const scan = await scanStraceLog(lines);
  const events: RawKernelEvent[] = [];
  for await (const e of straceEvents(lines, scan)) events.push(e);
  return { events, scan, facts: straceFacts(scan) };
}

const hex = (s: string) => [...Buffer.from(s)].map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("");
const openat = (tid: number, path: string, ret = "3") =>
  `${tid} openat(-100, "${hex(path)}", 0x80000) = ${ret}`;

describe("strace log parser (recorded from strace 6.1)", () => {
  test("a recorded capture: the same events as bpftrace's, the thread's open under its process's pid", async () => {
    const { events, facts, scan } = await parse(recordedLines("strace-sample.log"));
    assert.deepEqual(events, workloadEvents(1681, 1683));
    // 1682 is a thread (clone3 with CLONE_THREAD) of 1681.
    assert.deepEqual([...scan.threads], [["1682#0", "1681#0"]]);
    assert.deepEqual(facts, {
      backend: "strace",
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

  test("a thread dying inside an open, and a thread's execve taking over its process's pid", async () => {
    const { events, facts } = await parse(recordedLines("strace-edge.log"));
    assert.deepEqual(events, [
      // `= ?`: the call never returned; kept, with ERESTARTSYS. Thread 1715 of process 1714.
      {
        kind: "openat",
        pid: 1714,
        path: "/tmp/assay-kfix/fifo",
        flags: 0o2000000,
        mode: 0,
        resolve: 0,
        ret: -512,
      },
      // Thread 1717 of 1716 executed /bin/true, which runs as 1716 (strace's bogus `-1 (errno
      // 18446744073709551359)` for that execve is not a failure).
      { kind: "exec", pid: 1716, path: "/bin/true" },
      {
        kind: "openat",
        pid: 1716,
        path: "/lib/x86_64-linux-gnu/libc.so.6",
        flags: 0o2000000,
        mode: 0,
        resolve: 0,
        ret: 3,
      },
    ]);
    assert.equal(facts.parse_errors, 0);
    assert.equal(facts.closed_early, false);
  });

  test("a log without the first process's end (strace killed) is closed early", async () => {
    const lines = recordedLines("strace-sample.log");
    assert.match(lines.at(-1) as string, /^1681 +\+\+\+ exited with 0 \+\+\+$/);
    const { facts } = await parse(lines.slice(0, -1));
    assert.equal(facts.closed_early, true);
    assert.equal(
      (await parse([])).facts.closed_early,
      true,
      "nothing traced: the agent never started, not a complete layer",
    );
  });

  test("calls split by other threads' lines are joined; a thread's events before its creator's clone returns map to the creator", async () => {
    const { events, facts } = await parse([
      '100 execve("\\x2f\\x61", ["\\x61"], 0x7ffd /* 1 var */) = 0',
      "100 clone3({flags=0x3d0f00, child_tid=0x1, parent_tid=0x1, exit_signal=0, stack=0x1, stack_size=0x1, tls=0x1} <unfinished ...>",
      openat(101, "/early"),
      "100 <... clone3 resumed> => {parent_tid=[101]}, 88) = 101",
      '100 openat(-100, "\\x2f\\x73\\x6c\\x6f\\x77", 0x80000 <unfinished ...>',
      openat(101, "/meanwhile", "-1 ENOENT (No such file or directory)"),
      "100 <... openat resumed>)          = 4",
      "101 +++ exited with 0 +++",
      "100 +++ exited with 0 +++",
    ]);
    assert.deepEqual(
      events.map((e) => [e.kind, e.pid, "path" in e ? e.path : null, "ret" in e ? e.ret : null]),
      [
        ["exec", 100, "/a", null],
        ["openat", 100, "/early", 3],
        ["openat", 100, "/meanwhile", -2],
        ["openat", 100, "/slow", 4],
      ],
    );
    assert.equal(facts.parse_errors, 0);
  });

  test("a tid reused after its thread ended is a process of its own; a thread of a thread maps to the process", async () => {
    const { events } = await parse([
      "100 clone(child_stack=0x1, flags=0x3d0f00, parent_tid=0x1, tls=0x1, child_tidptr=0x1) = 101",
      "101 clone(child_stack=0x1, flags=0x3d0f00, parent_tid=0x1, tls=0x1, child_tidptr=0x1) = 102",
      openat(102, "/grandchild-thread"),
      "102 +++ exited with 0 +++",
      "100 vfork()                         = 102",
      openat(102, "/reused"),
      "102 +++ exited with 0 +++",
      "101 +++ exited with 0 +++",
      "100 +++ exited with 0 +++",
    ]);
    assert.deepEqual(
      events.map((e) => [e.pid, (e as { path: string }).path]),
      [
        [100, "/grandchild-thread"],
        [102, "/reused"],
      ],
    );
  });

  test("the tid column is padded to pid_max's width", async () => {
    const { events } = await parse([`1112  ${openat(1112, "/x").slice(5)}`]);
    assert.deepEqual(
      events.map((e) => e.pid),
      [1112],
    );
  });

  test("failed execs are no events; unreadable paths are null; numbers as -X raw prints them", async () => {
    const { events, facts } = await parse([
      '5 execve("\\x2f\\x6e\\x6f", ["\\x6e\\x6f"], 0x7ffd /* 3 vars */) = -1 ENOENT (No such file or directory)',
      "5 openat(-100, 0x1, 0) = -1 EFAULT (Bad address)",
      "5 open(NULL, 0x241, 0644) = -1 EFAULT (Bad address)",
      '5 openat2(3, "\\x78", {flags=0x41, mode=0600, resolve=0x8}, 24) = 4',
      "5 connect(3, 0x7ffd1234, 16) = -1 EFAULT (Bad address)",
      '5 connect(3, {sa_family=0x2, sin_port="\\x01\\xbb", sin_addr="\\x0a\\x00\\x00\\x01"}, 16) = 0',
      `5 openat(-100, "${hex("/long")}"..., 0x0) = -1 ENAMETOOLONG (File name too long)`,
    ]);
    assert.deepEqual(events, [
      { kind: "openat", pid: 5, path: null, flags: 0, mode: 0, resolve: 0, ret: -14 },
      { kind: "openat", pid: 5, path: null, flags: 0x241, mode: 0o644, resolve: 0, ret: -14 },
      { kind: "openat", pid: 5, path: "x", flags: 0x41, mode: 0o600, resolve: 8, ret: 4 },
      { kind: "connect", pid: 5, sockaddr: null },
      { kind: "connect", pid: 5, sockaddr: { family: 2, address: "10.0.0.1", port: 443 } },
      { kind: "openat", pid: 5, path: "/long", flags: 0, mode: 0, resolve: 0, ret: -36 },
    ]);
    assert.equal(facts.parse_errors, 0);
  });

  test("what it cannot read is a parse error, never skipped", async () => {
    const { events, facts } = await parse([
      "garbage",
      '5 openat(-100, "\\x2f", O_RDONLY) = 3',
      '5 openat(-100, "\\x2f", 0) = -1 EWHATEVER (Unknown)',
      "5 <... openat resumed>) = 3",
      "5 mmap(NULL, 8192) = 0x7f00",
      openat(5, "/fine"),
    ]);
    assert.equal(events.length, 1);
    assert.equal(facts.parse_errors, 5);
  });

  test("argument splitting keeps strings, structs, arrays and comments whole", () => {
    assert.deepEqual(splitArgs('-100, "\\x2c\\x20", {a=1, b=[2, 3]}, 0x7f /* 2 vars, */'), [
      "-100",
      '"\\x2c\\x20"',
      "{a=1, b=[2, 3]}",
      "0x7f /* 2 vars, */",
    ]);
    assert.deepEqual(
      [...(structFields("{flags=0x3d0f00, stack=0x1} => {parent_tid=[7]}") ?? [])],
      [
        ["flags", "0x3d0f00"],
        ["stack", "0x1"],
      ],
    );
  });
});
