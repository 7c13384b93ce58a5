import { isUtf8 } from "node:buffer";
import { canonicalJson } from "../lib/canonical-json.js";
import type { BundleManifest } from "./bundle-format.js";
import type { EvidenceLimits } from "./limits.js";
import { manifestProblem } from "./manifest.js";
import { parseStrictJson, StrictJsonError } from "./strict-json.js";
import { VerifyStop } from "./verify-codes.js";

/** `manifest.json`: strict JSON, its schema, and canonical bytes (it is what a signature covers). */
export function checkManifest(bytes: Buffer, limits: EvidenceLimits): BundleManifest {
  if (!isUtf8(bytes))
    throw new VerifyStop("manifest_invalid_json", "manifest is not valid UTF-8", "manifest.json");
  const text = bytes.toString("utf8");
  let value: unknown;
  try {
    value = parseStrictJson(text, { maxDepth: limits.maxDepth });
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err;
    const where = `manifest.json:${err.line}:${err.column}`;
    if (err.code === "json_too_deep")
      throw new VerifyStop("limit_nesting_depth", `manifest: ${err.message}`, where);
    if (err.code === "json_duplicate_key")
      throw new VerifyStop("manifest_duplicate_key", `manifest: ${err.message}`, where);
    throw new VerifyStop("manifest_invalid_json", `manifest: ${err.message}`, where);
  }
  const problem = manifestProblem(value);
  if (problem)
    throw new VerifyStop(
      "manifest_schema",
      `manifest ${problem.pointer} ${problem.message}`,
      `manifest.json#${problem.pointer}`,
    );
  if (canonicalJson(value) !== text)
    throw new VerifyStop(
      "manifest_not_canonical",
      "manifest is not RFC 8785 canonical JSON",
      "manifest.json",
    );
  return value as BundleManifest;
}
