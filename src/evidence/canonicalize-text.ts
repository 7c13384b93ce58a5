import { isUtf8 } from "node:buffer";
import { canonicalJson, sha256Digest } from "../lib/canonical-json.js";
import { AssayError } from "../lib/errors.js";
import { parseStrictJson, StrictJsonError, type StrictJsonOptions } from "./strict-json.js";

/**
 * The RFC 8785 canonical form of a JSON document and its `sha256:` digest. The text is parsed
 * strictly first, so input that is not I-JSON fails (with its line and column) instead of
 * canonicalizing to a silently different value; with `numbers: "rfc8785"` an integer beyond 2^53
 * is canonicalized as the double nearest to it instead of refused (`9007199254740993` →
 * `9007199254740992`), as other RFC 8785 implementations do.
 */
export function canonicalizeText(
  bytes: Uint8Array,
  where: string,
  opts: StrictJsonOptions = {},
): { canonical: string; digest: string } {
  if (!isUtf8(bytes)) throw new AssayError("input_invalid", "input is not valid UTF-8", { where });
  let value: unknown;
  try {
    value = parseStrictJson(Buffer.from(bytes).toString("utf8"), opts);
  } catch (err) {
    if (err instanceof StrictJsonError)
      throw new AssayError(err.code, err.message, { where: `${where}:${err.line}:${err.column}` });
    throw err;
  }
  const canonical = canonicalJson(value);
  return { canonical, digest: sha256Digest(canonical) };
}
