import { sha256Hex } from "../lib/canonical-json.js";
import { schemaValidator } from "../lib/schema-validator.js";

/** `_type` of an in-toto Statement v1. */
export const IN_TOTO_STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
/** DSSE payloadType of an in-toto statement. */
export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

/** One subject: an artifact by name and digest (an in-toto ResourceDescriptor). */
export interface Subject {
  name: string;
  digest: { sha256: string } & Record<string, string>;
}

/** An in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md). */
export interface Statement<P = Record<string, unknown>> {
  _type: typeof IN_TOTO_STATEMENT_TYPE;
  subject: Subject[];
  predicateType: string;
  predicate: P;
}

/** A subject for some bytes: `{name, digest: {sha256: <hex>}}`. */
export function subjectFromBytes(name: string, bytes: Uint8Array): Subject {
  return { name, digest: { sha256: sha256Hex(bytes) } };
}

/** Build a statement; subjects are sorted by name so the same inputs give the same bytes. */
export function makeStatement<P extends Record<string, unknown>>(args: {
  subjects: readonly Subject[];
  predicateType: string;
  predicate: P;
}): Statement<P> {
  const subject = [...args.subjects].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject,
    predicateType: args.predicateType,
    predicate: args.predicate,
  };
}

const validate = schemaValidator<Statement>("in-toto-statement");

/** Problems with a statement against schemas/in-toto-statement.schema.json: the first, or none. */
export function statementProblem(value: unknown): string | undefined {
  if (validate(value)) return undefined;
  const e = validate.errors?.[0];
  return `${e?.instancePath || "/"}: ${e?.message ?? "invalid"}`;
}
