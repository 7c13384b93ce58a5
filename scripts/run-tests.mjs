#!/usr/bin/env node
// Node 20's test runner has no globs: find test/**/*.test.ts here and hand the list to `node --test`.
// With ASSAY_TEST_JUNIT=<file>, the results are also written there as JUnit XML, stamped with the
// time the run started (node's reporter records none, and `assay matrix` needs the artifact's own time).
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "fixtures" ? [] : find(p);
    return e.name.endsWith(".test.ts") ? [p] : [];
  });
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : find("test").sort();
if (files.length === 0) {
  console.error("run-tests: no test files found under test/");
  process.exit(2);
}
const junit = process.env.ASSAY_TEST_JUNIT;
const raw = junit === undefined ? undefined : `${junit}.${process.pid}.raw`;
const reporters =
  raw === undefined
    ? ["--test-reporter=spec"]
    : [
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        "--test-reporter=junit",
        `--test-reporter-destination=${raw}`,
      ];
// Test files at once: node's default is one fewer than the cores, which is one on a 2-vCPU machine,
// where most files spend their time waiting on the processes and servers they start. Two at a
// time there took the suite from ~400 s to ~260 s (issue 16); ASSAY_TEST_CONCURRENCY overrides.
const concurrency = Number(process.env.ASSAY_TEST_CONCURRENCY ?? Math.max(2, availableParallelism() - 1));
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error("run-tests: ASSAY_TEST_CONCURRENCY must be a whole number of files, 1 or more");
  process.exit(2);
}
const startedAt = new Date().toISOString();
const args = ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, ...reporters, ...files];
const result = spawnSync(process.execPath, args, {
  stdio: "inherit",
});
if (junit !== undefined && raw !== undefined) {
  try {
    const xml = readFileSync(raw, "utf8").replace(
      /<testsuites(?=[\s>])/,
      `<testsuites timestamp="${startedAt}"`,
    );
    writeFileSync(`${junit}.tmp`, xml);
    renameSync(`${junit}.tmp`, junit);
  } catch (err) {
    console.error(`run-tests: cannot write the JUnit file ${junit}: ${err.message}`);
  } finally {
    rmSync(raw, { force: true });
  }
}
process.exit(result.status ?? 2);
