import type { KeyObject } from "node:crypto";
import { canonicalJson } from "../lib/canonical-json.js";
import { AssayError } from "../lib/errors.js";
import { type DsseEnvelope, keySigner, type Signer, signEnvelope } from "./dsse.js";
import {
  IN_TOTO_PAYLOAD_TYPE,
  makeStatement,
  type Statement,
  type Subject,
  statementProblem,
} from "./statement.js";

export interface AttestInput<P extends Record<string, unknown>> {
  subjects: readonly Subject[];
  predicateType: string;
  predicate: P;
  /** A private key (signed with {@link keySigner}) or any {@link Signer}. */
  privateKey?: KeyObject;
  signer?: Signer;
}

/**
 * Make an in-toto Statement v1 and sign it into a DSSE envelope. The payload is the canonical
 * JSON (RFC 8785) of the statement, so the same inputs and key give the same payload.
 */
export async function attest<P extends Record<string, unknown>>(
  input: AttestInput<P>,
): Promise<DsseEnvelope> {
  const signer = input.signer ?? (input.privateKey ? keySigner(input.privateKey) : undefined);
  if (signer === undefined) throw new AssayError("usage", "attest needs a private key or a signer");
  const statement = statementFor(input);
  return signEnvelope(Buffer.from(canonicalJson(statement), "utf8"), IN_TOTO_PAYLOAD_TYPE, [signer]);
}

/** The statement {@link attest} signs, checked against the schema and for duplicate subject names. */
export function statementFor<P extends Record<string, unknown>>(input: AttestInput<P>): Statement<P> {
  const seen = new Set<string>();
  for (const s of input.subjects) {
    if (seen.has(s.name)) throw new AssayError("input_invalid", `two subjects are named \`${s.name}\``);
    seen.add(s.name);
  }
  const statement = makeStatement(input);
  const problem = statementProblem(statement);
  if (problem !== undefined) throw new AssayError("input_invalid", `the statement is not valid: ${problem}`);
  return statement;
}
