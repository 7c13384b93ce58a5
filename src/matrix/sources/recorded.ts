import { schemaValidator } from "../../lib/schema-validator.js";
import type { ArtifactKind, RecordedOutput } from "../artifact.js";
import { artifactInvalid, isJsonObject, schemaFault } from "./fault.js";

export const RECORDED_SCHEMA_VERSION = "assay.recorded-output.v1" as const;

/**
 * Whether a parsed artifact is a recording (`assay matrix record`'s envelope): it says so in
 * `schema_version`. Its shape is then checked by `checkRecording`, never guessed.
 */
export function isRecording(doc: unknown): boolean {
  return isJsonObject(doc) && doc.schema_version === RECORDED_SCHEMA_VERSION;
}

/**
 * A recording checked against schemas/recorded-output.schema.json and recorded for `kind`: a
 * recording of one kind read as another is refused, not judged by the wrong criteria.
 */
export function checkRecording(doc: unknown, kind: ArtifactKind, path: string): RecordedOutput {
  const validate = schemaValidator<RecordedOutput>("recorded-output");
  if (!validate(doc)) throw schemaFault(validate.errors, { path, base: "" }, `an ${RECORDED_SCHEMA_VERSION}`);
  if (doc.kind !== kind)
    throw artifactInvalid(`recorded as \`${doc.kind}\`, not \`${kind}\``, `${path}#/kind`);
  return doc;
}
