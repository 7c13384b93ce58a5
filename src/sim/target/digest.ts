import { canonicalJson, sha256Digest, sha256Hex } from "../../lib/canonical-json.js";

/** One regular file of a bundle, as the bundle digest sees it. */
export interface BundleFileEntry {
  /** Bundle-relative, `/`-separated. */
  readonly path: string;
  /** Lowercase hex SHA-256 of the file's bytes. */
  readonly sha256: string;
  readonly bytes: number;
}

/**
 * Every file of a bundle, sorted by path compared as UTF-16 code units (the order RFC 8785 gives
 * object keys, and JavaScript's default string order).
 */
export function bundleManifest(files: ReadonlyMap<string, Uint8Array>): BundleFileEntry[] {
  const entries = [...files].map(([path, data]) => ({
    path,
    sha256: sha256Hex(data),
    bytes: data.length,
  }));
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The bundle digest: `sha256:` + hex SHA-256 of the RFC 8785 canonical JSON of
 * `bundleManifest(files)`, i.e. of `[{"bytes":n,"path":"...","sha256":"<hex>"}, ...]`.
 * Content only: every regular file counts (hidden ones too); directories, modes, owners, times
 * and the archive's own layout do not, so a directory and its .tar.gz have the same digest.
 * (schemas/assay-target.schema.json states the same rule; change both or neither.)
 */
export function bundleDigest(files: ReadonlyMap<string, Uint8Array>): string {
  return sha256Digest(canonicalJson(bundleManifest(files)));
}
