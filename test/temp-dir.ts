import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, type TestContext } from "node:test";

/**
 * A fresh temporary directory. With a test context it is removed when that test ends; without
 * one (a suite's `before`), the caller removes it, e.g. in `after` (or see `suiteTempDir`).
 */
export function tempDir(prefix = "assay-test-", t?: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t?.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A fresh temporary directory for the tests of a file (called at its top level) or of a suite
 * (called in its `describe` body), removed when they are done. Not from inside a hook: an
 * `after` registered there runs at once.
 */
export function suiteTempDir(prefix = "assay-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
