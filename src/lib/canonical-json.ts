import { hash } from "node:crypto";
import canonicalizeModule from "canonicalize";

// The package is CommonJS whose d.ts says `export default`; at runtime the default import is the function.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/** RFC 8785 (JCS) canonical JSON of a JSON value. */
export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new TypeError("value has no JSON representation");
  return out;
}

/** Hex sha256 of the given text or bytes (the form in-toto digest maps use). */
export function sha256Hex(data: string | Uint8Array): string {
  // One-shot: no Hash object per digest (it showed in the evidence and gate profiles).
  return hash("sha256", data, "hex");
}

/** `sha256:` + hex sha256 of the given text or bytes. */
export function sha256Digest(data: string | Uint8Array): string {
  return `sha256:${sha256Hex(data)}`;
}

/** `sha256:` digest of the canonical JSON of a value. */
export function canonicalDigest(value: unknown): string {
  return sha256Digest(canonicalJson(value));
}
