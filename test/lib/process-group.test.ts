import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  hasExited,
  ProcessGroups,
  STOP_SIGNALS,
  signalGroup,
  stopGroup,
  stopGroupsOnSignals,
} from "../../src/lib/process-group.js";

import { tempDir } from "../temp-dir.js";
import { within } from "../within.js";

const PROCESS_GROUP_TS = fileURLToPath(new URL("../../src/lib/process-group.ts", import.meta.url));

/** How a process of a test group answers what the supervisor does to it. */
type OnTerm = "exit" | "ignore";

/**
 * A grandchild: in its parent's process group; says `ready` once its SIGTERM handler is set.
 * argv: [onTerm].
 */
const GRANDCHILD = `
if (process.argv[1] === "ignore") process.on("SIGTERM", () => {});
process.stdout.write("ready\\n");
setInterval(() => {}, 1000);
`;

/**
 * A group leader that starts one grandchild, then prints its pid once both are ready. It exits
 * when its input ends only if told to. argv: [leaderOnTerm, grandchildOnTerm, onInputEnd].
 */
const LEADER = `
const { spawn } = require("node:child_process");
const [onTerm, grandOnTerm, onEnd] = process.argv.slice(1);
if (onTerm === "ignore") process.on("SIGTERM", () => {});
process.stdin.on("end", () => { if (onEnd === "exit") process.exit(0); });
process.stdin.resume();
const g = spawn(process.execPath, ["-e", ${JSON.stringify(GRANDCHILD)}, grandOnTerm], { stdio: ["ignore", "pipe", "inherit"] });
g.stdout.once("data", () => process.stdout.write(g.pid + "\\n"));
setInterval(() => {}, 1000);
`;

interface Group {
  leader: ChildProcess;
  grandchild: number;
  /** Resolves with how the leader ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A leader in a process group of its own with one grandchild, both ready; killed after the test. */
async function group(
  t: TestContext,
  opts: { leader?: OnTerm; grandchild?: OnTerm; onInputEnd?: "exit" | "stay" } = {},
): Promise<Group> {
  const leader = spawn(
    process.execPath,
    ["-e", LEADER, opts.leader ?? "exit", opts.grandchild ?? "exit", opts.onInputEnd ?? "stay"],
    { stdio: ["pipe", "pipe", "inherit"], detached: true },
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    leader.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const pid = await within(
    5000,
    "the group to start",
    new Promise<number>((resolve, reject) => {
      leader.stdout?.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      leader.once("error", reject);
    }),
  );
  t.after(() => {
    for (const target of [-(leader.pid as number), pid]) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // Gone.
      }
    }
  });
  return { leader, grandchild: pid, exited };
}

/** Whether `pid` runs (a zombie does not: it is only waiting to be reaped). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return existsSync(`/proc/${pid}`);
  }
}

/** Resolve once `pid` no longer runs; reject after `ms`. */
async function gone(pid: number, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (running(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still runs after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("signalGroup", () => {
  test("reaches the whole group: the leader and what it started", async (t) => {
    const g = await group(t);
    signalGroup(g.leader, "SIGTERM");
    assert.deepEqual(await within(5000, "the leader to exit", g.exited), { code: null, signal: "SIGTERM" });
    await gone(g.grandchild);
  });

  test("falls back to the child alone when it leads no group, and leaves a child that never started alone", async () => {
    // Not detached: the child is in this process's group, and there is no group of its pid.
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    const exited = new Promise((r) => child.once("exit", (_code, signal) => r(signal)));
    await new Promise((r) => child.once("spawn", r));
    signalGroup(child, "SIGTERM");
    assert.equal(await within(5000, "the child to exit", exited), "SIGTERM");
    // Once it has exited, signalling it again does nothing (its pid may be someone else's by now).
    signalGroup(child, "SIGKILL");

    const never = spawn("/nonexistent/assay-no-such-binary", [], { stdio: "ignore", detached: true });
    await new Promise((r) => never.once("error", r));
    assert.equal(never.pid, undefined);
    signalGroup(never, "SIGKILL");
  });
});

describe("stopGroup (close input, SIGTERM after a grace, SIGKILL after another)", () => {
  const grace = { termMs: 150, killMs: 150 };

  test("a child that exits when its input closes gets no signal", async (t) => {
    const g = await group(t, { onInputEnd: "exit" });
    stopGroup(g.leader, grace);
    assert.deepEqual(await within(5000, "the leader to exit", g.exited), { code: 0, signal: null });
    // Nothing was sent to the group: the grandchild outlives its leader.
    await sleep(grace.termMs + grace.killMs + 100);
    assert.ok(running(g.grandchild), "the group was signalled although the child had exited");
  });

  test("a child that stays after its input closes gets SIGTERM after the first grace, its group too", async (t) => {
    const g = await group(t);
    const started = performance.now();
    stopGroup(g.leader, grace);
    assert.deepEqual(await within(5000, "the leader to exit", g.exited), { code: null, signal: "SIGTERM" });
    assert.ok(performance.now() - started >= grace.termMs - 5, "SIGTERM came before the grace ended");
    await gone(g.grandchild);
  });

  test("a child that ignores SIGTERM gets SIGKILL after the second grace, its group too", async (t) => {
    const g = await group(t, { leader: "ignore", grandchild: "ignore" });
    const started = performance.now();
    stopGroup(g.leader, grace);
    assert.deepEqual(await within(5000, "the leader to exit", g.exited), { code: null, signal: "SIGKILL" });
    assert.ok(performance.now() - started >= grace.termMs + grace.killMs - 5, "SIGKILL came early");
    await gone(g.grandchild);
  });

  test("termMs 0 sends SIGTERM at once; cancel() drops the signals not sent yet", async (t) => {
    const g = await group(t, { leader: "ignore" });
    const stop = stopGroup(g.leader, { termMs: 0, killMs: 500 });
    // The grandchild took the SIGTERM the leader ignored.
    await gone(g.grandchild, 1000);
    stop.cancel();
    await sleep(700);
    assert.ok(!hasExited(g.leader) && running(g.leader.pid as number), "SIGKILL came after cancel()");
  });

  test("a child that has already exited is left alone", async (t) => {
    const g = await group(t, { onInputEnd: "exit" });
    g.leader.stdin?.end();
    await within(5000, "the leader to exit", g.exited);
    assert.ok(hasExited(g.leader));
    stopGroup(g.leader, { termMs: 0, killMs: 0 });
    await sleep(100);
    assert.ok(running(g.grandchild), "the group of an exited child was signalled");
  });
});

describe("ProcessGroups", () => {
  test("stopAll: SIGTERM to every group, then SIGKILL to each, even one whose leader has exited", async (t) => {
    const groups = new ProcessGroups();
    // One leader that goes on SIGTERM but leaves a grandchild that ignores it; one that ignores it.
    const a = await group(t, { grandchild: "ignore" });
    const b = await group(t, { leader: "ignore" });
    groups.add(a.leader);
    groups.add(b.leader);
    assert.equal(groups.size, 2);
    const started = performance.now();
    await groups.stopAll(150);
    assert.ok(performance.now() - started >= 145);
    assert.equal((await within(5000, "a to exit", a.exited)).signal, "SIGTERM");
    assert.equal((await within(5000, "b to exit", b.exited)).signal, "SIGKILL");
    await gone(a.grandchild);
    await gone(b.grandchild);
  });

  test("killAll sends SIGKILL at once; a deleted child is not signalled; stopAll of none returns at once", async (t) => {
    const groups = new ProcessGroups();
    const a = await group(t, { leader: "ignore", grandchild: "ignore" });
    const kept = await group(t);
    groups.add(a.leader);
    groups.add(kept.leader);
    groups.delete(kept.leader);
    groups.killAll();
    assert.equal((await within(5000, "a to exit", a.exited)).signal, "SIGKILL");
    await gone(a.grandchild);
    assert.ok(running(kept.leader.pid as number) && running(kept.grandchild));
    const started = performance.now();
    await new ProcessGroups().stopAll(10_000);
    assert.ok(performance.now() - started < 1000);
  });
});

describe("stopGroupsOnSignals", () => {
  const counts = () => [...STOP_SIGNALS, "exit" as const].map((s) => process.listenerCount(s));

  test("its handlers last until it is released, and releasing twice is harmless", () => {
    const before = counts();
    const release = stopGroupsOnSignals(new ProcessGroups(), { graceMs: 10 });
    assert.deepEqual(
      counts(),
      before.map((n) => n + 1),
    );
    release();
    release();
    assert.deepEqual(counts(), before);
  });

  /**
   * A process that puts a group that ignores SIGTERM under stopGroupsOnSignals, prints the group's
   * pid and the grandchild's, then waits. With `host`, it handles SIGINT itself too: it exits 7
   * once the groups are stopped and cleaned up.
   */
  const host = (marker: string, hostHandles: boolean) => `
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { ProcessGroups, stopGroupsOnSignals } from ${JSON.stringify(PROCESS_GROUP_TS)};
const groups = new ProcessGroups();
const child = spawn(process.execPath, ["-e", ${JSON.stringify(LEADER)}, "ignore", "ignore", "stay"], { stdio: ["pipe", "pipe", "inherit"], detached: true });
groups.add(child);
stopGroupsOnSignals(groups, { graceMs: 150, cleanup: async () => writeFileSync(${JSON.stringify(marker)}, "cleaned") });
${hostHandles ? `process.on("SIGINT", () => setInterval(() => { if (existsSync(${JSON.stringify(marker)})) process.exit(7); }, 10));` : ""}
child.stdout.once("data", (d) => process.stdout.write(child.pid + " " + d));
setInterval(() => {}, 1000);
`;

  async function interrupt(t: TestContext, hostHandles: boolean) {
    const marker = join(tempDir("assay-process-group-", t), "cleaned");
    const proc = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", host(marker, hostHandles)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      proc.once("exit", (code, signal) => resolve({ code, signal })),
    );
    const [leader, grandchild] = (
      await within(
        10_000,
        "the host to start its group",
        new Promise<string>((resolve) => proc.stdout?.once("data", (c: Buffer) => resolve(c.toString()))),
      )
    )
      .trim()
      .split(" ")
      .map(Number) as [number, number];
    t.after(() => {
      for (const target of [-leader, grandchild, proc.pid as number]) {
        try {
          process.kill(target, "SIGKILL");
        } catch {
          // Gone.
        }
      }
    });
    proc.kill("SIGINT");
    const end = await within(10_000, "the host to end", exited);
    await gone(leader);
    await gone(grandchild);
    return { end, cleaned: existsSync(marker) };
  }

  test("on SIGINT: the groups are stopped (SIGKILL for what ignores SIGTERM), cleanup runs, the process dies of SIGINT", async (t) => {
    assert.deepEqual(await interrupt(t, false), { end: { code: null, signal: "SIGINT" }, cleaned: true });
  });

  test("a host that handles the signal itself keeps its process: nothing re-raises it", async (t) => {
    assert.deepEqual(await interrupt(t, true), { end: { code: 7, signal: null }, cleaned: true });
  });
});
