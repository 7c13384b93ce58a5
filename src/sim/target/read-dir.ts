import { constants, type Dirent } from "node:fs";
import { open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { AssayError } from "../../lib/errors.js";
import { BundleFileCollector } from "./files.js";
import type { BundleLimits } from "./paths.js";

// Not every platform has O_NOFOLLOW; where it is missing the readdir type check still applies.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/**
 * Read every regular file under a bundle directory into memory. Symbolic links and special files
 * are refused (a bundle is self-contained, and its tar.gz could not hold them either).
 */
export async function readBundleDir(root: string, limits: BundleLimits): Promise<Map<string, Buffer>> {
  const collector = new BundleFileCollector(limits, root);
  // Depth-first with a stack; names sorted so the first problem reported is always the same one.
  const stack: string[] = [""];
  let dirs = 0;
  while (stack.length > 0) {
    if (++dirs > limits.maxFiles) {
      throw new AssayError("bundle_too_large", `bundle has over ${limits.maxFiles} directories`, {
        where: root,
      });
    }
    const rel = stack.pop() as string;
    const entries = await list(join(root, rel), root);
    for (const e of entries.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0))) {
      const child = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) stack.push(child);
      else if (e.isFile()) {
        const [path, bytes] = await readRegular(root, child, collector);
        collector.add(path, bytes);
      } else {
        const what = e.isSymbolicLink() ? "a symbolic link" : "not a regular file or directory";
        throw new AssayError("bundle_unsafe_entry", `refused entry \`${child}\`: it is ${what}`, {
          where: root,
        });
      }
    }
  }
  return collector.done();
}

async function list(dir: string, root: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === "ENOTDIR" ? "a bundle must be a directory or a .tar.gz" : `cannot read bundle: ${code ?? err}`;
    throw new AssayError("bundle_unreadable", message, { where: dir === root ? root : dir, cause: err });
  }
}

/** Read one file without following a link swapped in since it was listed, counting its real size. */
async function readRegular(
  root: string,
  rel: string,
  collector: BundleFileCollector,
): Promise<[string, Buffer]> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(join(root, rel), OPEN_FLAGS);
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new AssayError("bundle_unsafe_entry", `refused entry \`${rel}\`: it is not a regular file`, {
        where: root,
      });
    }
    const path = collector.admit(rel, info.size);
    const bytes = await handle.readFile();
    if (bytes.length !== info.size) {
      throw new AssayError("bundle_unreadable", `\`${rel}\` changed while it was read`, { where: root });
    }
    return [path, bytes];
  } catch (err) {
    if (err instanceof AssayError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP") {
      throw new AssayError("bundle_unsafe_entry", `refused entry \`${rel}\`: it is a symbolic link`, {
        where: root,
        cause: err,
      });
    }
    throw new AssayError("bundle_unreadable", `cannot read \`${rel}\`: ${code ?? err}`, {
      where: root,
      cause: err,
    });
  } finally {
    await handle?.close();
  }
}
