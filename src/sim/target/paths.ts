/** Bounds on what a bundle may hold, checked while it is read (before anything is parsed). */
export interface BundleLimits {
  /** Total bytes of all files; also the largest .tar.gz read. */
  readonly maxBytes: number;
  readonly maxFiles: number;
  /** Longest bundle-relative path, in UTF-16 code units. */
  readonly maxPathLength: number;
}

export const DEFAULT_BUNDLE_LIMITS: BundleLimits = Object.freeze({
  maxBytes: 256 * 1024 * 1024,
  maxFiles: 10_000,
  maxPathLength: 1024,
});

/** The file a bundle's root must hold. */
export const TARGET_FILE = "assay-target.yaml";

export type BundlePath = { ok: true; path: string } | { ok: false; reason: string };

/**
 * The bundle form of a relative path: `/`-separated, without empty or `.` segments. Absolute
 * paths, drive letters, `..` segments, backslashes and NULs are refused, so a path can never
 * name anything outside the bundle, on any platform. `""` is the root itself.
 */
export function bundlePath(raw: string, maxLength = DEFAULT_BUNDLE_LIMITS.maxPathLength): BundlePath {
  if (raw.includes("\0")) return { ok: false, reason: "it contains a NUL character" };
  if (raw.includes("\\")) return { ok: false, reason: "it contains a backslash" };
  if (raw.startsWith("/")) return { ok: false, reason: "it is absolute" };
  if (/^[A-Za-z]:/.test(raw)) return { ok: false, reason: "it starts with a drive letter" };
  const segments = raw.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) return { ok: false, reason: "it has a `..` segment" };
  const path = segments.join("/");
  if (path.length > maxLength) return { ok: false, reason: `it is over ${maxLength} characters` };
  return { ok: true, path };
}
