import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, createReadStream, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import { BusyPoller, pollableFd } from "../../src/gate/busy-poll.js";

/** A child that echoes what it reads; its stdio are libuv pipes, as the stdio gate's are. */
function echoChild() {
  const child = spawn(process.execPath, ["-e", "process.stdin.pipe(process.stdout)"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const seenByLoop: Buffer[] = [];
  child.stdout.on("data", (d: Buffer) => seenByLoop.push(d));
  return { child, seenByLoop };
}

describe("pollableFd", () => {
  test("only libuv pipes qualify: not a PassThrough, a file stream or a closed pipe", async (t) => {
    assert.equal(pollableFd(new PassThrough()), undefined);
    const file = createReadStream(new URL(import.meta.url));
    t.after(() => file.destroy());
    assert.equal(pollableFd(file), undefined);
    const { child } = echoChild();
    const fd = pollableFd(child.stdout);
    assert.equal(typeof fd, "number");
    child.stdin.end();
    await new Promise((r) => child.on("close", r));
    assert.equal(pollableFd(child.stdout), undefined, "a pipe whose handle is gone");
  });
});

describe("BusyPoller", () => {
  test("takes an answer off the pipe without the event loop, and stops when told to", async (t) => {
    const { child, seenByLoop } = echoChild();
    t.after(() => child.kill());
    const got: string[] = [];
    // A long window: spin() returns at the first delivery (deliver says stop), not at the deadline.
    const poller = new BusyPoller(
      [
        {
          stream: child.stdout,
          ready: () => true,
          deliver: (chunk) => {
            got.push(chunk.toString());
            return !got.join("").includes("\n");
          },
        },
      ],
      20_000_000,
      20_000_000,
    );
    child.stdin.write("ping\n");
    // No await between the write and here: only the poller can have read the answer.
    poller.spin();
    assert.equal(got.join(""), "ping\n");
    assert.equal(seenByLoop.length, 0, "the event loop never saw it");
    child.stdin.write("pong\n");
    await new Promise((r) => child.stdout.once("data", r));
    assert.equal(Buffer.concat(seenByLoop).toString(), "pong\n", "the stream still works after polling");
  });

  test("a source that is not ready is left alone; a window of 0 does nothing", async (t) => {
    const { child, seenByLoop } = echoChild();
    t.after(() => child.kill());
    let delivered = 0;
    const source = { stream: child.stdout, ready: () => false, deliver: () => ++delivered > 0 };
    child.stdin.write("x\n");
    new BusyPoller([source], 2_000).spin();
    new BusyPoller([{ ...source, ready: () => true }], 0).spin();
    assert.equal(delivered, 0);
    await new Promise((r) => child.stdout.once("data", r));
    assert.equal(Buffer.concat(seenByLoop).toString(), "x\n");
  });

  test("end of stream closes a source; with none left open the spin returns at once", () => {
    // A child that exits at once: its stdout reaches end of stream while we spin.
    const child = spawn(process.execPath, ["-e", ""], { stdio: ["pipe", "pipe", "inherit"] });
    child.stdout.on("data", () => assert.fail("nothing is written"));
    let delivered = 0;
    const windowUs = 60_000_000;
    const t0 = process.hrtime.bigint();
    new BusyPoller(
      [{ stream: child.stdout, ready: () => true, deliver: () => ++delivered > 0 }],
      windowUs,
      windowUs,
    ).spin();
    const spunUs = Number(process.hrtime.bigint() - t0) / 1000;
    assert.equal(delivered, 0);
    assert.ok(spunUs < windowUs / 2, `returned at end of stream, not after the ${windowUs} µs window`);
  });

  test("a destroyed stream is never read, even when its descriptor number has been reused", async (t) => {
    const { child } = echoChild();
    t.after(() => child.kill());
    const oldFd = pollableFd(child.stdout) as number;
    child.stdout.destroy();
    const dir = mkdtempSync(join(tmpdir(), "assay-poll-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "secret.txt");
    writeFileSync(file, "not for the poller\n");
    const fd = openSync(file, "r");
    t.after(() => closeSync(fd));
    let delivered = 0;
    new BusyPoller(
      [{ stream: child.stdout, ready: () => true, deliver: () => ++delivered > 0 }],
      5_000,
    ).spin();
    assert.equal(delivered, 0);
    const buf = Buffer.alloc(64);
    const n = readSync(fd, buf, 0, buf.length, null);
    assert.equal(
      buf.subarray(0, n).toString(),
      "not for the poller\n",
      `the file (fd ${fd}, was ${oldFd}) is untouched`,
    );
  });

  test("a pipe someone made blocking is made non-blocking again before it is read (no hang)", async () => {
    // In a child process, so a regression hangs that process (and fails here), not the test runner.
    const script = `
      const { spawn } = require("node:child_process");
      const { BusyPoller } = require(${JSON.stringify(new URL("../../src/gate/busy-poll.ts", import.meta.url).pathname)});
      const c = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: ["pipe", "pipe", "inherit"] });
      c.stdout.on("data", () => {});
      c.stdout._handle.setBlocking(true);
      new BusyPoller([{ stream: c.stdout, ready: () => true, deliver: () => true }], 20000).spin();
      c.kill();
      console.log("returned");
    `;
    const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script], {
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.equal(r.stdout.trim(), "returned", r.stderr);
  });
});
