import { parseStrictJson, StrictJsonError } from "../../evidence/strict-json.js";
import { artifactInvalid } from "./fault.js";
import { utf8Text } from "./file-bytes.js";

/**
 * An artifact's bytes as JSON; a syntax error names `path:line:col`. Parsed strictly (a duplicate
 * key makes a criterion's answer depend on the reader, so it is refused), but numbers read as the
 * nearest double: soak reports carry u64 seeds beyond 2^53, which criteria never compare exactly.
 */
export function parseJsonArtifact(bytes: Uint8Array, path: string): unknown {
  try {
    return parseStrictJson(utf8Text(bytes, path), { numbers: "rfc8785" });
  } catch (err) {
    if (err instanceof StrictJsonError)
      throw artifactInvalid(`not JSON: ${err.message}`, `${path}:${err.line}:${err.column}`, err);
    throw err;
  }
}
