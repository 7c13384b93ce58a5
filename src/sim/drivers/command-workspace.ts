import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { AssayError } from "../../lib/errors.js";
import type { Bundle } from "../target/load.js";
import type { CommandDriverSpec } from "../target/types.js";

/**
 * The command driver's work directory, staged once per soak: the packs (the bundle's own bytes, so
 * the gate judges by exactly the digested policy), the bundle itself when it is a tarball, and one
 * directory per trial (trialPaths).
 */
export interface CommandWorkspace {
  readonly root: string;
  /** The directory is the user's (`--work-dir`): it and the trial directories stay after the run. */
  readonly keep: boolean;
  /** ASSAY_BUNDLE_DIR: the bundle's root, or the tarball unpacked under `root`. */
  readonly bundleDir: string;
  readonly packPaths: readonly string[];
  /** The bundle's workspace files, relative to the workspace directory, copied into each trial. */
  readonly files: readonly (readonly [string, Buffer])[];
}

/** Where trial `index` (0-based) keeps its files. */
export interface TrialPaths {
  readonly dir: string;
  /** The agent's and servers' scratch directory (ASSAY_TRIAL_DIR). */
  readonly work: string;
  /** The MCP config handed to the agent (ASSAY_MCP_CONFIG). */
  readonly config: string;
  /** The scenario's context, read by every gate. */
  readonly context: string;
  /**
   * A server's decision log: outside `work/`, so nothing the agent can reach through a filesystem
   * server can rewrite its own trace.
   */
  log(server: string): string;
}

/**
 * Stage the work directory: `workDir` (created if missing; must be empty) or a new temporary
 * directory. Throws `usage` for a work directory that is not empty, `output_unwritable` for one
 * that cannot be written.
 */
export async function stageWorkspace(
  bundle: Bundle,
  spec: CommandDriverSpec,
  workDir: string | undefined,
): Promise<CommandWorkspace> {
  const keep = workDir !== undefined;
  const root = keep ? await emptyDir(workDir) : await mkdtemp(join(tmpdir(), "assay-soak-"));
  try {
    const packPaths: string[] = [];
    for (const path of bundle.target.packs) {
      const out = join(root, "packs", path);
      await writeBundleFile(out, bundle.files.get(path));
      packPaths.push(out);
    }
    let bundleDir: string;
    if (bundle.kind === "directory") bundleDir = resolve(bundle.root);
    else {
      bundleDir = join(root, "bundle");
      for (const [path, bytes] of bundle.files) await writeBundleFile(join(bundleDir, path), bytes);
    }
    return { root, keep, bundleDir, packPaths, files: workspaceFiles(bundle, spec) };
  } catch (err) {
    if (!keep) await removeDir(root);
    throw new AssayError(
      "output_unwritable",
      `cannot prepare the command driver: ${(err as Error).message}`,
      { where: root, cause: err },
    );
  }
}

export function trialPaths(ws: CommandWorkspace, index: number): TrialPaths {
  const dir = join(ws.root, "trials", String(index + 1));
  return {
    dir,
    work: join(dir, "work"),
    config: join(dir, "mcp.json"),
    context: join(dir, "context.json"),
    log: (server) => join(dir, `decisions-${server}.ndjson`),
  };
}

/** The trial's scratch directory, a fresh copy of the workspace, and its context file. */
export async function stageTrial(ws: CommandWorkspace, paths: TrialPaths, context: unknown): Promise<void> {
  await mkdir(paths.work, { recursive: true });
  for (const [rel, bytes] of ws.files) await writeBundleFile(join(paths.work, rel), bytes);
  await writeFile(paths.context, JSON.stringify(context));
}

/** Remove a directory the driver made; what cannot be removed (a process still writing) stays. */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch(() => {});
}

/** `dir`, created if missing; refused unless empty (a kept work dir is never written over). */
async function emptyDir(dir: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true });
    if ((await readdir(dir)).length > 0) {
      throw new AssayError("usage", "--work-dir must be an empty or new directory", { where: dir });
    }
  } catch (err) {
    if (err instanceof AssayError) throw err;
    throw new AssayError(
      "output_unwritable",
      `cannot use the work directory: ${(err as NodeJS.ErrnoException).code}`,
      { where: dir, cause: err },
    );
  }
  return resolve(dir);
}

/** The workspace's files, relative to the workspace directory. */
function workspaceFiles(bundle: Bundle, spec: CommandDriverSpec): [string, Buffer][] {
  if (spec.workspace === null) return [];
  const prefix = spec.workspace === "" ? "" : `${spec.workspace}/`;
  return [...bundle.files]
    .filter(([path]) => path.startsWith(prefix))
    .map(([path, bytes]) => [path.slice(prefix.length), bytes]);
}

async function writeBundleFile(path: string, bytes: Buffer | undefined): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes ?? Buffer.alloc(0));
}
