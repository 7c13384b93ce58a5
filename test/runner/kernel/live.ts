import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { AssayError } from "../../../src/lib/errors.js";
import { type Cgroup, createCgroup } from "../../../src/runner/cgroup.js";
import type { KernelCaptureFacts, RawKernelEvent } from "../../../src/runner/contract.js";
import type { KernelCapture } from "../../../src/runner/kernel/backend.js";

/** The workload of the live tests (see its header). */
export const WORKLOAD = fileURLToPath(new URL("./workload.mjs", import.meta.url));

export interface LiveRun {
  events: RawKernelEvent[];
  facts: KernelCaptureFacts;
  /** What the backend said of its own stop (KernelCaptureResult.warnings). */
  warnings: readonly string[];
  stdout: string;
  code: number | null;
}

/**
 * Run `argv` in a fresh cgroup under the capture `start` makes, and collect everything. Skips the
 * test (returning null) only when the capture cannot be set up here: no usable cgroup, or the
 * backend missing or unable to attach; the skip message is the reason. The cgroup and the capture
 * are cleaned up whatever happens.
 */
export async function liveCapture(
  t: TestContext,
  start: (cgroup: Cgroup, scratchDir: string) => Promise<KernelCapture>,
  argv: readonly string[],
): Promise<LiveRun | null> {
  let cgroup: Cgroup;
  try {
    cgroup = await createCgroup("kernel-test");
  } catch (err) {
    if (err instanceof AssayError && err.code === "runner_kernel_unavailable") {
      t.skip(err.message);
      return null;
    }
    throw err;
  }
  // Also after the test, whatever ends it (remove is idempotent).
  t.after(() => cgroup.remove());
  const scratch = mkdtempSync(join(tmpdir(), "assay-kernel-live-"));
  let capture: KernelCapture | undefined;
  try {
    try {
      capture = await start(cgroup, scratch);
    } catch (err) {
      if (err instanceof AssayError && err.code === "runner_kernel_unavailable") {
        t.skip(err.message);
        return null;
      }
      throw err;
    }
    const [bin, ...args] = cgroup.wrap(capture.command(argv));
    // A process group of its own, as the runner starts agents: what it signals stays inside.
    const child = spawn(bin as string, args, { stdio: ["ignore", "pipe", "inherit"], detached: true });
    let stdout = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      stdout += d;
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (c) => resolve(c));
    });
    const { events, facts, warnings } = await capture.finish();
    // The runner reads the events only after other work (removing the cgroup): nothing may be lost
    // to the wait (a reader that started at finish() would have emitted its lines to no one).
    await new Promise((r) => setTimeout(r, 100));
    const all: RawKernelEvent[] = [];
    for await (const e of events) Array.isArray(e) ? all.push(...e) : all.push(e as RawKernelEvent);
    return { events: all, facts, warnings, stdout, code };
  } finally {
    await capture?.abort().catch(() => {});
    await cgroup.remove();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** A directory for the workload: tmpfs when there is one (10,000 file creations on a disk are slow and noisy). */
export function workloadDir(t: TestContext): string {
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const dir = mkdtempSync(join(base, "assay-kernel-workload-"));
  writeFileSync(join(dir, "known.txt"), "known\n");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A TCP port on loopback that nothing listens on (it was just free). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** The open events, by path. */
export function opens(
  events: readonly RawKernelEvent[],
): Map<string, Extract<RawKernelEvent, { kind: "openat" }>[]> {
  const out = new Map<string, Extract<RawKernelEvent, { kind: "openat" }>[]>();
  for (const e of events) {
    if (e.kind !== "openat" || e.path === null) continue;
    out.set(e.path, [...(out.get(e.path) ?? []), e]);
  }
  return out;
}

/**
 * What the workload (workload.mjs) did, as every backend must report it: its opens (odd paths
 * too), a failed open, connects to a closed port over IPv4 and IPv6, a worker thread's open (under
 * the process's pid), and the exec of /bin/true in a child.
 */
export function assertWorkloadEvents(run: LiveRun, dir: string, port: number): { pid: number } {
  assert.equal(run.code, 0, "the workload ran");
  const { pid, childPid } = JSON.parse(run.stdout) as { pid: number; childPid: number };
  const byPath = opens(run.events);
  const one = (path: string) => {
    const found = byPath.get(path);
    assert.ok(found && found.length === 1, `one open of ${JSON.stringify(path)}, got ${found?.length ?? 0}`);
    const e = found[0] as Extract<RawKernelEvent, { kind: "openat" }>;
    assert.equal(e.pid, pid, `pid of the open of ${JSON.stringify(path)}`);
    return e;
  };
  assert.ok(one(join(dir, "known.txt")).ret >= 0);
  assert.equal(one(join(dir, "missing.txt")).ret, -2);
  for (const name of ["with space.txt", "new\nline.txt", "bad-\ufffd\ufffd.txt", "from-thread.txt"]) {
    const e = one(join(dir, name));
    assert.ok(e.ret >= 0);
    // O_WRONLY|O_CREAT|O_TRUNC, as node's "w" opens.
    assert.equal(Number(e.flags) & 0o1101, 0o1101);
    assert.equal(e.mode, 0o666);
  }
  assert.ok(one(join(dir, "a".repeat(200), "b".repeat(200))).ret >= 0);
  const connects = run.events.filter((e) => e.kind === "connect");
  assert.deepEqual(connects, [
    { kind: "connect", pid, sockaddr: { family: 2, address: "127.0.0.1", port } },
    { kind: "connect", pid, sockaddr: { family: 10, address: "::1", port } },
  ]);
  const execs = run.events.filter((e) => e.kind === "exec");
  assert.deepEqual(execs, [
    { kind: "exec", pid, path: process.execPath },
    { kind: "exec", pid: childPid, path: "/bin/true" },
  ]);
  // The facts and the backend's warnings in the message: which hook lost what and why, should a
  // loaded machine ever make this fail.
  const facts = `${JSON.stringify(run.facts)} ${JSON.stringify(run.warnings)}`;
  assert.equal(run.facts.drops, 0, `nothing dropped: ${facts}`);
  // One parse error with no line to blame means the capture ended without bpftrace's summary.
  assert.equal(run.facts.parse_errors, 0, `no parse errors: ${facts}`);
  assert.equal(run.facts.closed_early, false, `not closed early: ${facts}`);
  assert.equal(run.facts.hooks.connect.emitted, 2);
  return { pid };
}
