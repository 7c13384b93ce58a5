import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { lstatSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { writeFileAtomic } from "../../src/lib/atomic-write.js";
import { suiteTempDir } from "../temp-dir.js";

const dir = suiteTempDir("assay-atomic-write-");

/** Run `fn` with the process umask set to `mask`, then put the old one back. */
async function withUmask(mask: number, fn: () => Promise<void>): Promise<void> {
  const old = process.umask(mask);
  try {
    await fn();
  } finally {
    process.umask(old);
  }
}

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe("writeFileAtomic", () => {
  test("a file with no mode of its own follows the umask, as other tools' files do", async () => {
    await withUmask(0o077, async () => {
      await writeFileAtomic(join(dir, "private.json"), "{}\n");
    });
    await withUmask(0o022, async () => {
      await writeFileAtomic(join(dir, "shared.json"), "{}\n");
    });
    assert.equal(modeOf(join(dir, "private.json")), 0o600);
    assert.equal(modeOf(join(dir, "shared.json")), 0o644);
    assert.equal(readFileSync(join(dir, "private.json"), "utf8"), "{}\n");
  });

  test("an exact mode is what the file gets, whatever the umask", async () => {
    await withUmask(0o077, async () => {
      await writeFileAtomic(join(dir, "public.pem"), "k\n", { mode: 0o644 });
    });
    await withUmask(0o000, async () => {
      await writeFileAtomic(join(dir, "secret.pem"), "k\n", { mode: 0o600 });
    });
    assert.equal(modeOf(join(dir, "public.pem")), 0o644);
    assert.equal(modeOf(join(dir, "secret.pem")), 0o600);
  });

  test("a FIFO (as /dev/stdout may be) is written to, not replaced by a regular file", {
    timeout: 20_000,
  }, async (t) => {
    const fifo = join(dir, "out.fifo");
    execFileSync("mkfifo", [fifo]);
    const reader = spawn("cat", [fifo], { stdio: ["ignore", "pipe", "ignore"] });
    let got = "";
    reader.stdout.setEncoding("utf8").on("data", (d: string) => {
      got += d;
    });
    t.after(() => reader.kill());
    const closed = once(reader, "close");
    await writeFileAtomic(fifo, "through the pipe\n");
    await closed;
    assert.equal(got, "through the pipe\n");
    assert.ok(lstatSync(fifo).isFIFO(), "still a FIFO");
  });
});
