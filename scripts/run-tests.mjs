#!/usr/bin/env node
// Node 20's test runner has no globs: find test/**/*.test.ts here and hand the list to `node --test`.
// With ASSAY_TEST_JUNIT=<file>, the results are also written there as JUnit XML, stamped with the
// time the run started (node's reporter records none, and `assay matrix` needs the artifact's own time).
// A run past ASSAY_TEST_TIMEOUT_S seconds (900 by default, 0 for none) is stopped: the test files
// still running are named and killed with the processes under them (by parent, on Linux: one that
// has left them, like a background process whose shell ended, is not found), and the exit code is
// 2. A file whose thread is blocked (a deadlock in native code hung one for 19 minutes) cannot time
// itself out: `--test-timeout` runs inside it.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, relative } from "node:path";

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
// setTimeout's longest delay, about 24.8 days.
const MAX_LIMIT_S = 2147483;
const limitS = Number(process.env.ASSAY_TEST_TIMEOUT_S ?? 900);
if (!Number.isInteger(limitS) || limitS < 0 || limitS > MAX_LIMIT_S) {
  console.error(
    `run-tests: ASSAY_TEST_TIMEOUT_S must be a whole number of seconds up to ${MAX_LIMIT_S}, 0 for no limit`,
  );
  process.exit(2);
}
const startedAt = new Date().toISOString();
const args = ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, ...reporters, ...files];
const runner = spawn(process.execPath, args, { stdio: "inherit" });
let timedOut = false;
const timer =
  limitS === 0
    ? undefined
    : setTimeout(() => {
        timedOut = true;
        const left = freeze(runner.pid);
        const running = [...new Set(left.flatMap((pid) => testFileOf(pid) ?? []))];
        console.error(
          `run-tests: the tests ran past ${limitS} s (ASSAY_TEST_TIMEOUT_S); still running: ${running.length > 0 ? running.join(", ") : "no test file found"}; stopped`,
        );
        for (const pid of [runner.pid, ...left]) signal(pid, "SIGKILL");
      }, limitS * 1000);
const status = await new Promise((resolve) => {
  runner.on("error", (err) => {
    console.error(`run-tests: cannot run node --test: ${err.message}`);
    resolve(2);
  });
  runner.on("close", (code) => resolve(code ?? 2));
});
clearTimeout(timer);
if (junit !== undefined && raw !== undefined) {
  try {
    // A run stopped part way left its JUnit file cut short: not passed on as a result.
    if (timedOut) throw new Error("the run was stopped before it finished");
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
process.exit(timedOut ? 2 : status);

/**
 * Stop `root` and every process under it (SIGSTOP), looking again until no new one turns up, so
 * none starts another while they are killed; returns those under it (Linux /proc; none elsewhere).
 */
function freeze(root) {
  signal(root, "SIGSTOP");
  const seen = new Set();
  for (let pass = 0; pass < 10; pass++) {
    const fresh = descendants(root).filter((pid) => !seen.has(pid));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      seen.add(pid);
      signal(pid, "SIGSTOP");
    }
  }
  return [...seen];
}

/** Every process under `root` by parent (Linux /proc; none elsewhere). */
function descendants(root) {
  const children = new Map();
  let entries = [];
  try {
    entries = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  for (const e of entries) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      // The command name may hold spaces and parentheses: the fields start after the last ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const siblings = children.get(ppid);
      if (siblings === undefined) children.set(ppid, [Number(e)]);
      else siblings.push(Number(e));
    } catch {
      // Gone meanwhile.
    }
  }
  const out = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** The test file a process runs, if it runs one (node --test passes it as an absolute path). */
function testFileOf(pid) {
  try {
    const file = readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .split("\0")
      .find((a) => a.endsWith(".test.ts"));
    return file === undefined ? undefined : relative(process.cwd(), file);
  } catch {
    return undefined;
  }
}

function signal(pid, name) {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}
