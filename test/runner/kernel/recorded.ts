import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { RawKernelEvent } from "../../../src/runner/contract.js";

const FIXTURES = fileURLToPath(new URL("../../fixtures/runner/kernel/", import.meta.url));

/** The lines of a recorded backend output (test/fixtures/runner/kernel/README.md says how each was made). */
export function recordedLines(name: string): string[] {
  const lines = readFileSync(`${FIXTURES}${name}`, "latin1").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

const D = "/tmp/assay-kfix";
const RDONLY_CLOEXEC = 0o2000000;
const CREATE_TRUNC = 0o2000000 | 0o1 | 0o100 | 0o1000; // O_CLOEXEC|O_WRONLY|O_CREAT|O_TRUNC
const CREATE = 0o2000000 | 0o1 | 0o100; // O_CLOEXEC|O_WRONLY|O_CREAT

/**
 * What record-workload.py does, as either backend must report it: `pid` the workload's process,
 * `child` the one it forked to exec /bin/true. One table for both parsers.
 */
export function workloadEvents(pid: number, child: number): RawKernelEvent[] {
  const open = (
    path: string | null,
    flags: number,
    mode: number,
    ret: number,
    resolve = 0,
  ): RawKernelEvent => ({
    kind: "openat",
    pid,
    path,
    flags,
    mode,
    resolve,
    ret,
  });
  return [
    open(`${D}/known.txt`, RDONLY_CLOEXEC, 0, 3),
    open(`${D}/missing.txt`, RDONLY_CLOEXEC, 0, -2),
    open(`${D}/with space.txt`, CREATE_TRUNC, 0o600, 3),
    open(`${D}/new\nline.txt`, CREATE_TRUNC, 0o600, 3),
    // bad-\xff\xfe.txt: each invalid byte becomes U+FFFD.
    open(`${D}/bad-\ufffd\ufffd.txt`, CREATE_TRUNC, 0o600, 3),
    open(`${D}/back\\x41slash.txt`, CREATE_TRUNC, 0o600, 3),
    // 366 bytes: four bpftrace records.
    open(`${D}/${"a".repeat(200)}/${"b".repeat(150)}`, CREATE, 0o644, 3),
    // Legacy open(2): O_WRONLY|O_CREAT|O_APPEND, no O_CLOEXEC.
    open(`${D}/legacy.txt`, 0o1 | 0o100 | 0o2000, 0o600, 3),
    // openat2 with RESOLVE_NO_SYMLINKS.
    open(`${D}/known.txt`, 0, 0, 3, 0x04),
    open(D, RDONLY_CLOEXEC | 0o200000, 0, 3),
    // openat2 relative to a directory fd, O_WRONLY|O_CREAT, RESOLVE_BENEATH.
    open("o2.txt", 0o1 | 0o100, 0o600, 4, 0x08),
    // openat2 with a size (8) below open_how's: refused before it was read.
    open(`${D}/known.txt`, 0, 0, -22),
    { kind: "connect", pid, sockaddr: { family: 2, address: "127.0.0.1", port: 9 } },
    { kind: "connect", pid, sockaddr: { family: 10, address: "::1", port: 9 } },
    { kind: "connect", pid, sockaddr: { family: 10, address: "::ffff:127.0.0.1", port: 443 } },
    // AF_UNIX: not an endpoint.
    { kind: "connect", pid, sockaddr: null },
    // Opened by a thread: the process's pid, not the thread's tid.
    open(`${D}/from-thread.txt`, CREATE, 0o640, 3),
    { kind: "exec", pid: child, path: "/bin/true" },
    { ...open("/etc/ld.so.cache", RDONLY_CLOEXEC, 0, 3), pid: child },
    { ...open("/lib/x86_64-linux-gnu/libc.so.6", RDONLY_CLOEXEC, 0, 3), pid: child },
  ];
}
