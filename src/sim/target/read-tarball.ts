import { readFile, stat } from "node:fs/promises";
import { Parser, type ReadEntry } from "tar";
import { AssayError } from "../../lib/errors.js";
import { BundleFileCollector } from "./files.js";
import { type BundleLimits, bundlePath, TARGET_FILE } from "./paths.js";

/** Entry types that hold a file's bytes; every other type but a directory is refused. */
const REGULAR = new Set(["File", "OldFile", "ContiguousFile"]);
const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * Read a bundle `.tar.gz` into memory: regular files only (directories carry no content; links,
 * devices, FIFOs and every other type are refused), paths kept inside the bundle, sizes and
 * counts bounded. A single top-level directory is stripped when the root holds no target file,
 * so `tar czf b.tgz demo-agent` and `tar czf b.tgz -C demo-agent .` give the same files.
 */
export async function readTarball(file: string, limits: BundleLimits): Promise<Map<string, Buffer>> {
  let data: Buffer;
  try {
    const size = (await stat(file)).size;
    if (size > limits.maxBytes) {
      throw new AssayError(
        "bundle_too_large",
        `archive is ${size} bytes, over the ${limits.maxBytes} byte limit`,
        {
          where: file,
        },
      );
    }
    data = await readFile(file);
  } catch (err) {
    if (err instanceof AssayError) throw err;
    throw new AssayError(
      "bundle_unreadable",
      `cannot read bundle: ${(err as NodeJS.ErrnoException).code ?? err}`,
      {
        where: file,
        cause: err,
      },
    );
  }
  if (data[0] !== GZIP_MAGIC[0] || data[1] !== GZIP_MAGIC[1]) {
    throw new AssayError(
      "bundle_unreadable",
      "a bundle must be a directory or a .tar.gz, and this is not gzip",
      {
        where: file,
      },
    );
  }
  const collector = new BundleFileCollector(limits, file);
  await parseArchive(data, collector, file);
  return stripTopLevel(collector.done());
}

function parseArchive(data: Buffer, collector: BundleFileCollector, where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // strict: every warning of the parser (bad checksum, truncation, bad header) is an error.
    const parser = new Parser({ strict: true, brotli: false, zstd: false });
    let failure: unknown;
    let settled = false;
    let pending = 0;
    let sawEnd = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      if (failure !== undefined) reject(failure);
      else if (pending !== 0) reject(corrupt(where, "an entry ended early"));
      // A tar cut at an entry boundary (then compressed whole) parses cleanly, minus its last files.
      else if (!sawEnd) reject(corrupt(where, "no end-of-archive marker: the archive was cut short"));
      else resolve();
    };
    const refuse = (err: unknown) => {
      failure ??= err;
      parser.abort(new Error("refused"));
    };
    parser.on("entry", (entry: ReadEntry) => {
      if (failure !== undefined) {
        entry.resume();
        return;
      }
      try {
        if (entry.type === "Directory") {
          const checked = bundlePath(entry.path);
          if (!checked.ok) throw unsafe(where, entry.path, checked.reason);
          entry.resume();
          return;
        }
        if (!REGULAR.has(entry.type))
          throw unsafe(where, entry.path, `it is a ${entry.type}, not a regular file`);
        const path = collector.admit(entry.path, entry.size);
        const chunks: Buffer[] = [];
        pending++;
        entry.on("data", (chunk: Buffer) => chunks.push(chunk));
        entry.on("end", () => {
          pending--;
          const bytes = Buffer.concat(chunks);
          if (bytes.length !== entry.size) refuse(corrupt(where, `entry \`${entry.path}\` is truncated`));
          else collector.add(path, bytes);
        });
      } catch (err) {
        entry.resume();
        refuse(err);
      }
    });
    // Only a pax header over the parser's size limit is ignored; its file would get another name.
    parser.on("ignoredEntry", (entry: ReadEntry) =>
      refuse(unsafe(where, entry.path, "its extended header is too large to read")),
    );
    parser.on("eof", () => {
      sawEnd = true;
    });
    parser.on("error", (err: Error) => {
      failure ??= corrupt(where, err.message, err);
      finish();
    });
    parser.on("end", finish);
    parser.on("close", finish);
    try {
      parser.end(data);
    } catch (err) {
      // A handler above throwing mid-parse is still this archive's problem, not a crash.
      failure ??= corrupt(where, (err as Error).message, err);
      finish();
    }
  });
}

/** Drop a single top-level directory when the root itself holds no target file. */
function stripTopLevel(files: Map<string, Buffer>): Map<string, Buffer> {
  if (files.has(TARGET_FILE)) return files;
  let top: string | undefined;
  for (const path of files.keys()) {
    const slash = path.indexOf("/");
    if (slash === -1) return files;
    const first = path.slice(0, slash);
    if (top !== undefined && first !== top) return files;
    top = first;
  }
  if (top === undefined) return files;
  const cut = top.length + 1;
  return new Map([...files].map(([path, bytes]) => [path.slice(cut), bytes]));
}

function unsafe(where: string, entry: string, reason: string): AssayError {
  return new AssayError("bundle_unsafe_entry", `refused entry \`${entry}\`: ${reason}`, { where });
}

function corrupt(where: string, detail: string, cause?: unknown): AssayError {
  // The parser prefixes its own codes (`TAR_BAD_ARCHIVE: ...`); the code adds nothing for a person.
  const text = detail.replace(/^TAR_[A-Z_]+: /, "").split("\n")[0];
  return new AssayError("bundle_unreadable", `corrupt or truncated archive: ${text}`, {
    where,
    ...(cause === undefined ? {} : { cause }),
  });
}
