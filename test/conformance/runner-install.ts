import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The official conformance suite needs Node >= 22 for itself while assay supports Node >= 20.19,
 * so it never becomes one of assay's dependencies: it is installed, with a Node 22 binary from the
 * npm registry, into a scratch prefix (default `node_modules/.cache/assay-conformance`, which
 * `npm ci` clears), at the exact versions pinned here and in runner/package-lock.json. A second
 * run finds both installed and installs nothing.
 */
export const NODE_VERSION = "22.23.5";
const MIN_NODE_MAJOR = 22;
const INSTALL_TIMEOUT_MS = 240_000;

export interface Runner {
  /** A Node >= 22 binary. */
  node: string;
  nodeVersion: string;
  /** The suite's CLI (`<node> <cli> server --url ...`). */
  cli: string;
  conformanceVersion: string;
}

export class RunnerError extends Error {}

function run(cmd: string, args: string[], cwd: string, log: (s: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      for (const line of String(d).split("\n")) if (line.trim() !== "") log(`  ${cmd}: ${line}`);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), INSTALL_TIMEOUT_MS);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new RunnerError(`could not run \`${cmd}\`: ${err.message}`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else
        reject(
          new RunnerError(`\`${cmd} ${args.join(" ")}\` failed (${signal ?? `exit ${code}`}) in ${cwd}`),
        );
    });
  });
}

/** Install into `<dir>.tmp-<pid>`, then rename: a run that dies half way leaves no half install. */
async function installOnce(
  dir: string,
  fill: (tmp: string) => Promise<void>,
  log: (s: string) => void,
): Promise<void> {
  if (existsSync(join(dir, ".complete"))) return;
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  log(`installing into ${dir}`);
  try {
    await fill(tmp);
    await writeFile(join(tmp, ".complete"), `${new Date().toISOString()}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    // another run may have finished the same install meanwhile
    if (!existsSync(join(dir, ".complete"))) throw err;
  }
}

async function nodeBinary(prefix: string, log: (s: string) => void): Promise<string> {
  const given = process.env.ASSAY_CONFORMANCE_NODE;
  if (given !== undefined && given !== "") return given;
  if (Number(process.versions.node.split(".")[0]) >= MIN_NODE_MAJOR) return process.execPath;
  const { platform, arch } = process;
  if (platform !== "linux" || (arch !== "x64" && arch !== "arm64")) {
    throw new RunnerError(
      `no Node ${NODE_VERSION} package for ${platform}-${arch} on the npm registry: set ASSAY_CONFORMANCE_NODE to a Node >= ${MIN_NODE_MAJOR} binary`,
    );
  }
  const pkg = `node-${platform}-${arch}`;
  const dir = join(prefix, `${pkg}-${NODE_VERSION}`);
  await installOnce(
    dir,
    async (tmp) => {
      await writeFile(
        join(tmp, "package.json"),
        `${JSON.stringify({ private: true, dependencies: { [pkg]: NODE_VERSION } }, null, 2)}\n`,
      );
      // the binary packages have no install scripts; --ignore-scripts keeps it that way
      await run("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund"], tmp, log);
    },
    log,
  );
  return join(dir, "node_modules", pkg, "bin", "node");
}

async function conformanceCli(prefix: string, runnerDir: string, log: (s: string) => void): Promise<string> {
  const lock = await readFile(join(runnerDir, "package-lock.json"));
  const key = createHash("sha256").update(lock).digest("hex").slice(0, 12);
  const dir = join(prefix, `runner-${key}`);
  await installOnce(
    dir,
    async (tmp) => {
      await copyFile(join(runnerDir, "package.json"), join(tmp, "package.json"));
      await copyFile(join(runnerDir, "package-lock.json"), join(tmp, "package-lock.json"));
      await run(
        "npm",
        ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--engine-strict=false"],
        tmp,
        log,
      );
    },
    log,
  );
  return join(dir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js");
}

/** Find or install the runner; throws `RunnerError` when it cannot be had. */
export async function ensureRunner(root: string, log: (s: string) => void): Promise<Runner> {
  const prefix =
    process.env.ASSAY_CONFORMANCE_PREFIX || join(root, "node_modules", ".cache", "assay-conformance");
  const runnerDir = join(root, "test", "conformance", "runner");
  const node = await nodeBinary(prefix, log);
  const cli = await conformanceCli(prefix, runnerDir, log);
  const nodeVersion = (await run(node, ["--version"], root, log)).trim();
  if (Number(nodeVersion.replace(/^v/, "").split(".")[0]) < MIN_NODE_MAJOR) {
    throw new RunnerError(`${node} is ${nodeVersion}; the conformance suite needs Node >= ${MIN_NODE_MAJOR}`);
  }
  const manifest = JSON.parse(await readFile(join(cli, "..", "..", "package.json"), "utf8")) as {
    version: string;
  };
  return { node, nodeVersion, cli, conformanceVersion: manifest.version };
}
