import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Runner } from "./runner-install.js";

/**
 * One run of the official suite (`conformance server --url <url> --suite all -o <dir>`, every
 * server scenario, pending ones included) and what it found: a status per scenario, from the
 * checks the suite saved for it, and when each scenario started (the suite runs them one after
 * another and says so on stdout), so gate records can be told apart by scenario.
 */
export type Status = "pass" | "warn" | "fail" | "error";

export interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

export interface SuiteRun {
  statuses: Map<string, Status>;
  checks: Map<string, Check[]>;
  /** Scenario start times (ms since the epoch, as the suite named its result directory), in order. */
  starts: Array<{ scenario: string; at: number }>;
  exitCode: number | null;
  durationMs: number;
}

export class SuiteError extends Error {}

/** FAILURE anywhere fails a scenario; else WARNING warns; INFO and SUCCESS pass. */
export function scenarioStatus(checks: readonly Check[]): Status {
  if (checks.some((c) => c.status === "FAILURE")) return "fail";
  if (checks.some((c) => c.status === "WARNING")) return "warn";
  return "pass";
}

/** `server-<scenario>-<ISO time with : and . as ->`, made just before the scenario runs. */
const RESULT_DIR = /^server-(.+)-(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z$/;

export async function runSuite(
  runner: Runner,
  url: string,
  outDir: string,
  logFile: string,
  timeoutMs: number,
): Promise<SuiteRun> {
  const started = Date.now();
  const log = createWriteStream(logFile);
  const announced: string[] = [];
  const child = spawn(runner.node, [runner.cli, "server", "--url", url, "--suite", "all", "-o", outDir], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const onLine = (line: string) => {
    log.write(`${line}\n`);
    const m = /^=== Running scenario: (\S+) ===$/.exec(line);
    if (m?.[1] !== undefined) announced.push(m[1]);
  };
  if (child.stdout !== null) createInterface({ input: child.stdout }).on("line", onLine);
  if (child.stderr !== null) createInterface({ input: child.stderr }).on("line", onLine);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new SuiteError(
          `the suite did not finish within ${timeoutMs / 1000} s against ${url}; see ${logFile}`,
        ),
      );
    }, timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new SuiteError(`could not start the suite: ${err.message}`));
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  }).finally(() => log.end());
  // 0: every scenario passed, 1: some failed; anything else is the runner itself failing
  if (exitCode !== 0 && exitCode !== 1) {
    throw new SuiteError(`the suite exited ${exitCode} against ${url}; see ${logFile}`);
  }
  const checks = new Map<string, Check[]>();
  const starts: SuiteRun["starts"] = [];
  for (const entry of await readdir(outDir)) {
    const m = RESULT_DIR.exec(entry);
    if (m === null) continue;
    const [, scenario = "", day, h, min, sec, ms] = m;
    starts.push({ scenario, at: Date.parse(`${day}T${h}:${min}:${sec}.${ms}Z`) });
    const text = await readFile(join(outDir, entry, "checks.json"), "utf8").catch(() => undefined);
    if (text !== undefined) checks.set(scenario, JSON.parse(text) as Check[]);
  }
  starts.sort((a, b) => a.at - b.at);
  if (starts.length === 0) throw new SuiteError(`the suite saved no results against ${url}; see ${logFile}`);
  const statuses = new Map<string, Status>();
  for (const scenario of [...starts.map((s) => s.scenario), ...announced]) {
    const c = checks.get(scenario);
    // a scenario that threw before saving its checks (the suite logs "Failed to run scenario")
    statuses.set(scenario, c === undefined ? "error" : scenarioStatus(c));
  }
  return { statuses, checks, starts, exitCode, durationMs: Date.now() - started };
}
