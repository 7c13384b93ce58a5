import { AssayError } from "../../lib/errors.js";
import { type BundleLimits, bundlePath } from "./paths.js";

/**
 * Collects a bundle's regular files as they are read from a directory or an archive, refusing
 * unsafe paths, duplicates and anything past the limits before its bytes are held.
 */
export class BundleFileCollector {
  private readonly files = new Map<string, Buffer>();
  private readonly admitted = new Set<string>();
  private bytes = 0;

  constructor(
    private readonly limits: BundleLimits,
    private readonly where: string,
  ) {}

  /** Check a file's path and size before its bytes are read; returns its bundle path. */
  admit(raw: string, size: number): string {
    const checked = bundlePath(raw, this.limits.maxPathLength);
    if (!checked.ok || checked.path === "") {
      const reason = checked.ok ? "it names the bundle root" : checked.reason;
      throw this.fail("bundle_unsafe_entry", `refused entry \`${raw}\`: ${reason}`);
    }
    const path = checked.path;
    if (this.admitted.has(path)) {
      throw this.fail("bundle_unsafe_entry", `refused entry \`${raw}\`: \`${path}\` appears twice`);
    }
    if (this.admitted.size + 1 > this.limits.maxFiles) {
      throw this.fail("bundle_too_large", `bundle has over ${this.limits.maxFiles} files`);
    }
    if (this.bytes + size > this.limits.maxBytes) {
      throw this.fail("bundle_too_large", `bundle files are over the ${this.limits.maxBytes} byte limit`);
    }
    this.bytes += size;
    this.admitted.add(path);
    return path;
  }

  /** Record the bytes of an admitted file. */
  add(path: string, data: Buffer): void {
    this.files.set(path, data);
  }

  /** Every file, once no path is both a file and another file's directory. */
  done(): Map<string, Buffer> {
    for (const path of this.files.keys()) {
      for (let i = path.indexOf("/"); i !== -1; i = path.indexOf("/", i + 1)) {
        const dir = path.slice(0, i);
        if (this.files.has(dir)) {
          throw this.fail("bundle_unsafe_entry", `refused entry \`${path}\`: \`${dir}\` is a file`);
        }
      }
    }
    return this.files;
  }

  private fail(code: "bundle_unsafe_entry" | "bundle_too_large", message: string): AssayError {
    return new AssayError(code, message, { where: this.where });
  }
}
