// The agent of the live kernel-capture tests: a fixed set of syscalls whose events the tests
// expect, by path, pid and value. Usage: node workload.mjs <dir> <closed port> <opens>
// Prints one JSON line on stdout: {"pid", "childPid"} (the exec'd child's pid).
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { Worker } from "node:worker_threads";

const [dir, portText, opensText] = process.argv.slice(2);
const port = Number(portText);
const opens = Number(opensText ?? "0");

function tryOpen(path, flags = "r") {
  try {
    closeSync(openSync(path, flags));
  } catch {
    // The failed open is the point.
  }
}

function tryConnect(host) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve();
    });
    socket.once("error", () => resolve());
  });
}

tryOpen(join(dir, "known.txt"));
tryOpen(join(dir, "missing.txt"));
tryOpen(join(dir, "with space.txt"), "w");
tryOpen(join(dir, "new\nline.txt"), "w");
tryOpen(Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff, 0xfe]), Buffer.from(".txt")]), "w");
const long = join(dir, "a".repeat(200), "b".repeat(200));
mkdirSync(join(dir, "a".repeat(200)), { recursive: true });
tryOpen(long, "w");
await tryConnect("127.0.0.1");
await tryConnect("::1");
// A thread of this process: its events carry this pid, not the thread's tid.
await new Promise((resolve, reject) => {
  const w = new Worker(
    `require("fs").closeSync(require("fs").openSync(${JSON.stringify(join(dir, "from-thread.txt"))}, "w"))`,
    { eval: true },
  );
  w.once("exit", resolve);
  w.once("error", reject);
});
const child = spawnSync("/bin/true");
if (opens > 0) {
  mkdirSync(join(dir, "many"), { recursive: true });
  for (let i = 0; i < opens; i++) closeSync(openSync(join(dir, "many", `f-${i}`), "w"));
}
process.stdout.write(`${JSON.stringify({ pid: process.pid, childPid: child.pid })}\n`);
