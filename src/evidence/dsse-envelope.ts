import { assertWritable, schemaValidator } from "../lib/schema-validator.js";
import { decodeBase64Strict } from "./base64.js";
import { type DsseEnvelope, serializeEnvelope } from "./dsse.js";

const validateEnvelope = schemaValidator<DsseEnvelope>("dsse-envelope");

/** An envelope that passed the schema, with its payload and signatures decoded. */
export interface ParsedEnvelope {
  envelope: DsseEnvelope;
  payload: Buffer;
  /** Decoded `sig` of each signature, in envelope order. */
  signatures: Buffer[];
}

/**
 * Check a JSON value against schemas/dsse-envelope.schema.json and decode its base64 fields
 * (canonical standard base64 only). Returns the problem as a one-line message with a JSON pointer.
 */
export function parseEnvelope(
  value: unknown,
): { ok: true; parsed: ParsedEnvelope } | { ok: false; message: string } {
  if (!validateEnvelope(value)) {
    const e = validateEnvelope.errors?.[0];
    return { ok: false, message: `${e?.instancePath || "/"}: ${e?.message ?? "invalid"}` };
  }
  const payload = decodeBase64Strict(value.payload);
  if (payload === undefined) return { ok: false, message: "/payload: not canonical standard base64" };
  const signatures: Buffer[] = [];
  for (const [i, s] of value.signatures.entries()) {
    const sig = decodeBase64Strict(s.sig);
    if (sig === undefined)
      return { ok: false, message: `/signatures/${i}/sig: not canonical standard base64` };
    signatures.push(sig);
  }
  return { ok: true, parsed: { envelope: value, payload, signatures } };
}

/** An envelope file's text (`serializeEnvelope`), once the envelope is checked against its schema. */
export function envelopeFileText(envelope: DsseEnvelope): string {
  const text = serializeEnvelope(envelope);
  assertWritable("dsse-envelope", JSON.parse(text), "the DSSE envelope");
  return text;
}
