import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdir, readlink, symlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { FileLock } from "../../src/gate/file-lock.js";
import type { AssayError } from "../../src/lib/errors.js";
import { tempDir } from "./helpers.js";

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
    encoding: "utf8",
  });
  return Number(r.stdout);
}

test("takers racing over a stale lock: exactly one holds it", async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, "log.ndjson");
  const stale = `${deadPid()}@${hostname()}\n`;
  // Enough rounds to catch the interleaving the takeover guard exists for (seen in ~1 round of 150 without it).
  for (let round = 0; round < 300; round++) {
    await writeFile(`${file}.lock`, stale);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => FileLock.acquire(file, { what: "decision log" })),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    assert.equal(won.length, 1, `round ${round}: ${won.length} holders`);
    for (const r of results) {
      if (r.status === "rejected") assert.equal((r.reason as AssayError).code, "output_unwritable");
    }
    await (won[0] as PromiseFulfilledResult<FileLock>).value.release();
  }
  assert.deepEqual(await readdir(dir), [], "no lock, guard or temporary file left");
});

test("with waitMs, a taker waits for the holder to let go", async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, "pins.json");
  const first = await FileLock.acquire(file, { what: "pins file" });
  const second = FileLock.acquire(file, { what: "pins file", waitMs: 5000 });
  setTimeout(() => void first.release(), 100);
  await (await second).release();
  const held = await FileLock.acquire(file, { what: "pins file" });
  await assert.rejects(FileLock.acquire(file, { what: "pins file", waitMs: 50 }), /in use by another gate/);
  await held.release();
});

test("the lock is made in one step with no other file beside it; a stale symlinked claim is taken over", {
  skip: process.platform === "win32" ? "Windows locks with a hard-linked temporary file" : false,
}, async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, "log.ndjson");
  const lock = await FileLock.acquire(file, { what: "decision log" });
  assert.deepEqual(await readdir(dir), ["log.ndjson.lock"]);
  assert.match(await readlink(`${file}.lock`), new RegExp(`^${process.pid}@`));
  await lock.release();
  assert.deepEqual(await readdir(dir), []);
  await symlink(`${deadPid()}@${hostname()} 0123456789ab\n`, `${file}.lock`);
  const taken = await FileLock.acquire(file, { what: "decision log" });
  assert.match(await readlink(`${file}.lock`), new RegExp(`^${process.pid}@`));
  await taken.release();
});
