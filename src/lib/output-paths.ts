import { realpathSync, statSync } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { AssayError } from "./errors.js";

/** A path a command reads or writes, with the option that named it (for the message). */
export interface NamedPath {
  /** Undefined (an option not given) and `-` (standard input or output) are skipped. */
  path: string | undefined;
  option: string;
  /** For a folder: only the files right in it are read (`sim readiness --history`), not below. */
  flat?: boolean;
}

/**
 * Refuse (a `usage` error, before anything is written) when one output would land on another
 * output, on an input, or inside an input folder: an atomic write replaces its target, so
 * `evidence attest --out key.pem --key key.pem` destroyed the private key and `sim soak --report
 * r.json --sarif r.json` kept only the last of the two. Paths are compared with their links
 * resolved and, when the file exists, by device and inode.
 */
export function refuseOverlappingOutputs(
  outputs: readonly NamedPath[],
  inputs: readonly NamedPath[],
  inputFolders: readonly NamedPath[] = [],
): void {
  const seen: Array<{ path: string; option: string; id: string; key: string | undefined; input: boolean }> =
    [];
  for (const p of given(inputs))
    seen.push({ ...p, id: canonical(p.path), key: fileKey(p.path), input: true });
  const folders = given(inputFolders).map((f) => ({ ...f, id: canonical(f.path) }));
  for (const out of given(outputs)) {
    const id = canonical(out.path);
    const key = fileKey(out.path);
    for (const s of seen)
      if (s.id === id || (key !== undefined && s.key === key))
        throw clash(out, s, s.input ? "is the same file as" : "is also");
    for (const f of folders)
      if (f.flat ? dirname(id) === f.id : isInside(id, f.id))
        throw new AssayError(
          "usage",
          `${out.option} \`${out.path}\` lies inside ${f.option} \`${f.path}\`: Assay does not write into what it reads`,
        );
    seen.push({ ...out, id, key, input: false });
  }
}

/**
 * Refuse (a `usage` error, before anything is written) when an input is, or lies inside, a path
 * an output replaces whole: `audit-kit build --force` removes the kit's entries (`target/` and
 * all) before writing them again, so a target, report or key read from there would be deleted,
 * and lost if the command stopped between.
 */
export function refuseInputsInReplacedFolders(
  inputs: readonly NamedPath[],
  replaced: readonly NamedPath[],
): void {
  const folders = given(replaced).map((f) => ({ ...f, id: canonical(f.path) }));
  for (const input of given(inputs)) {
    const id = canonical(input.path);
    for (const f of folders)
      if (id === f.id || isInside(id, f.id))
        throw new AssayError(
          "usage",
          `${input.option} \`${input.path}\` is or lies in ${f.option} \`${f.path}\`, which is replaced whole: Assay does not write over what it reads`,
        );
  }
}

/** Whether canonical path `id` lies below canonical folder `folder` (`/a/bc` is not below `/a/b`). */
function isInside(id: string, folder: string): boolean {
  return id.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/** The paths that name a file: not an option left out, not `-`. */
function given(paths: readonly NamedPath[]): Array<NamedPath & { path: string }> {
  return paths.filter((p): p is NamedPath & { path: string } => p.path !== undefined && p.path !== "-");
}

function clash(
  out: { path: string; option: string },
  other: { path: string; option: string },
  how: string,
): AssayError {
  return new AssayError(
    "usage",
    `${out.option} \`${out.path}\` ${how} ${other.option} \`${other.path}\`: Assay does not write over what it reads or writes`,
  );
}

/** The path with its links resolved (its folder's, when the file is not there yet). */
function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

/** `dev:ino` of an existing file, following links; undefined when there is nothing there yet. */
function fileKey(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}
