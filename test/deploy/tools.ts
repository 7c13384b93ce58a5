import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../run-assay.js";

/** deploy/ in this repository. */
export const DEPLOY = join(ROOT, "deploy");

export interface Run {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** Run a tool to completion (30 s at most), in `cwd` (the repository by default). */
export function run(cmd: string, args: readonly string[], cwd = ROOT): Run {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 30_000 });
  if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code !== "ENOENT") throw r.error;
  return { code: r.status, out: r.stdout ?? "", err: r.stderr ?? "" };
}

/** The tool's path when it runs here, else undefined. */
function found(cmd: string, versionArgs: readonly string[]): string | undefined {
  const r = spawnSync(cmd, versionArgs, { encoding: "utf8", timeout: 30_000 });
  return r.error === undefined && r.status === 0 ? cmd : undefined;
}

/** Why promtool cannot be used here, or undefined when it can. */
export function promtoolMissing(): string | undefined {
  return found("promtool", ["--version"]) === undefined
    ? "promtool not installed (Debian package prometheus)"
    : undefined;
}

/**
 * Why `kubectl kustomize` cannot render the overlays here, or undefined when it can. The overlays
 * use only what every kustomize from v2.0.3 (kubectl 1.14 to 1.20, Debian bookworm's
 * kubernetes-client) to v5 reads, so any kubectl with the `kustomize` subcommand will do.
 */
export function kustomizeMissing(): string | undefined {
  const r = run("kubectl", ["kustomize", "--help"]);
  return r.code === 0
    ? undefined
    : "kubectl not installed (Debian package kubernetes-client), for `kubectl kustomize`";
}
