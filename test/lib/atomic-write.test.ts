import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
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
});
