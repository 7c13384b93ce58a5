// The alphabet and padding only: a repeated group of four (the length) overflows V8's regex
// backtracking stack on a few megabytes, as an SBOM predicate's payload is; the length and the
// rest of the form are checked below.
const STD_BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decode canonical standard base64 (RFC 4648 §4, padded, zero trailing bits), or undefined.
 * Node's decoder skips characters it does not know and ignores trailing bits, so two different
 * strings would decode to the same bytes; requiring the canonical form keeps every byte significant.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !STD_BASE64_CHARS.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes : undefined;
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}
