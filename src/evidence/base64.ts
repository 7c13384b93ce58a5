const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decode canonical standard base64 (RFC 4648 §4, padded, zero trailing bits), or undefined.
 * Node's decoder skips characters it does not know and ignores trailing bits, so two different
 * strings would decode to the same bytes; requiring the canonical form keeps every byte significant.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (!STD_BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes : undefined;
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}
