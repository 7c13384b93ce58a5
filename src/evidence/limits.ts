/** Bounds the bundle verifier enforces before and while it reads an archive (see docs/evidence.md). */
export interface EvidenceLimits {
  /** Size of the `.tar.gz` file on disk. */
  maxCompressedBytes: number;
  /** Bytes the gzip stream may expand to (the whole tar, headers and padding included). */
  maxDecompressedBytes: number;
  /** Decompressed ÷ compressed bytes read so far, checked once more than `ratioFloorBytes` came out. */
  maxCompressionRatio: number;
  /** Decompressed bytes below which the ratio is not checked (tiny archives compress very well). */
  ratioFloorBytes: number;
  /** Members in the tar; a bundle has exactly two. */
  maxMembers: number;
  /** Declared size of `manifest.json`. */
  maxManifestBytes: number;
  /** One line of `events.ndjson`, without its newline. */
  maxLineBytes: number;
  /** Nesting of arrays and objects in the manifest and in each event. */
  maxDepth: number;
}

export const DEFAULT_LIMITS: Readonly<EvidenceLimits> = Object.freeze({
  maxCompressedBytes: 512 * 1024 * 1024,
  maxDecompressedBytes: 2 * 1024 * 1024 * 1024,
  maxCompressionRatio: 200,
  ratioFloorBytes: 1024 * 1024,
  maxMembers: 2,
  maxManifestBytes: 1024 * 1024,
  maxLineBytes: 1024 * 1024,
  maxDepth: 64,
});
