import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import { PipeWriter, pipeFd } from "../../src/gate/pipe-writer.js";

describe("pipeFd", () => {
  test("only libuv pipes qualify: not a PassThrough, a file stream or a closed pipe", async (t) => {
    assert.equal(pipeFd(new PassThrough()), undefined);
    const file = createReadStream(new URL(import.meta.url));
    t.after(() => file.destroy());
    assert.equal(pipeFd(file), undefined);
    const child = spawn(process.execPath, ["-e", "process.stdin.pipe(process.stdout)"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    child.stdout.resume();
    assert.equal(typeof pipeFd(child.stdin), "number");
    child.stdin.end();
    await new Promise((r) => child.on("close", r));
    assert.equal(pipeFd(child.stdin), undefined, "a pipe whose handle is gone");
  });
});

describe("PipeWriter", () => {
  test("a full pipe: what does not fit goes through the stream, and the order and bytes hold", async () => {
    // The child starts reading only later, so the pipe fills while we write without yielding.
    const child = spawn(
      process.execPath,
      ["-e", "setTimeout(() => process.stdin.pipe(process.stdout), 100)"],
      {
        stdio: ["pipe", "pipe", "inherit"],
      },
    );
    const received: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => received.push(d));
    const writer = new PipeWriter(child.stdin);
    const lines: string[] = [];
    for (let i = 0; i < 4000; i++) {
      // Two-byte characters too: a write the full pipe cuts short may end inside one.
      const line = `${String(i).padStart(6, "0")} ${"x".repeat(997)}é\n`;
      lines.push(line);
      writer.write(line);
    }
    assert.ok(child.stdin.writableLength > 0, "the pipe filled and the stream took the rest");
    // Once the child reads, the pipe has room again while the stream still holds data: a write
    // now must queue behind that data, not jump ahead of it through the descriptor.
    await new Promise((r) => child.stdout.once("data", r));
    assert.ok(child.stdin.writableLength > 0, "the stream still holds data");
    writer.write("tail\n");
    lines.push("tail\n");
    child.stdin.end();
    await new Promise((r) => child.on("close", r));
    assert.equal(Buffer.concat(received).toString(), lines.join(""));
  });

  test("a stream that is not a pipe is written as a stream; a closed one is left alone", () => {
    const out = new PassThrough();
    const writer = new PipeWriter(out);
    assert.equal(writer.write("a\n"), true);
    assert.equal(out.read().toString(), "a\n");
    out.destroy();
    assert.equal(writer.write("b\n"), true, "nothing to wait for");
  });
});
