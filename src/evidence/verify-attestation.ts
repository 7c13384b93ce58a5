import type { KeyObject } from "node:crypto";
import { verifyEnvelopeSignature } from "./dsse.js";
import { parseEnvelope } from "./dsse-envelope.js";
import { keyAlgorithm, keyId } from "./keys.js";
import { IN_TOTO_PAYLOAD_TYPE, type Statement, type Subject, statementProblem } from "./statement.js";

/** The named steps of attestation verification, in the order they run. */
export const ATTESTATION_CHECKS = ["envelope", "payload_type", "signature", "statement", "subjects"] as const;
export type AttestationCheckName = (typeof ATTESTATION_CHECKS)[number];

/** Why a step failed; stable, for tests and `--json` consumers. */
export type AttestationVerifyCode =
  | "envelope_malformed"
  | "payload_type_unknown"
  | "signature_no_matching_keyid"
  | "signature_invalid"
  | "statement_not_json"
  | "statement_invalid"
  | "subject_missing"
  | "subject_digest_mismatch";

export interface AttestationCheck {
  check: AttestationCheckName;
  status: "pass" | "fail" | "skip";
  code?: AttestationVerifyCode;
  message: string;
}

export interface AttestationVerification {
  /** valid: every step passed; invalid: a finding (exit 1); malformed: not a DSSE envelope (exit 2). */
  verdict: "valid" | "invalid" | "malformed";
  keyid: string;
  checks: AttestationCheck[];
  /** The statement, present once its signature and shape were verified. */
  statement?: Statement;
}

export interface VerifyAttestationOptions {
  publicKey: KeyObject;
  /** Subjects to require: each needs a statement subject of the same name with the same sha256. */
  subjects?: readonly Subject[];
  /**
   * Try every signature, whatever its keyid (absent, or in another tool's format). By default only
   * signatures carrying the key's keyid or an empty one are tried (see verifyEnvelopeSignature).
   */
  anyKeyid?: boolean;
}

/**
 * Verify a parsed envelope JSON value: its shape, payloadType, a signature by `publicKey` over
 * PAE, the statement's shape, then the given subjects. Steps run in order; the first failure ends
 * the run and the remaining steps are reported as skipped. Never throws for bad input.
 */
export function verifyAttestation(value: unknown, opts: VerifyAttestationOptions): AttestationVerification {
  const keyid = keyId(opts.publicKey);
  const checks: AttestationCheck[] = [];
  const finish = (verdict: AttestationVerification["verdict"], statement?: Statement) => {
    for (const name of ATTESTATION_CHECKS.slice(checks.length))
      checks.push({ check: name, status: "skip", message: "not run: an earlier check failed" });
    return { verdict, keyid, checks, ...(statement ? { statement } : {}) };
  };
  const fail = (check: AttestationCheckName, code: AttestationVerifyCode, message: string) =>
    checks.push({ check, status: "fail", code, message });

  const parsed = parseEnvelope(value);
  if (!parsed.ok) {
    fail("envelope", "envelope_malformed", `not a DSSE envelope: ${parsed.message}`);
    return finish("malformed");
  }
  const { envelope, payload, signatures } = parsed.parsed;
  checks.push({
    check: "envelope",
    status: "pass",
    message: `DSSE envelope, ${payload.length} payload bytes, ${signatures.length} signature(s)`,
  });

  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    fail(
      "payload_type",
      "payload_type_unknown",
      `unknown payloadType \`${envelope.payloadType}\`: expected \`${IN_TOTO_PAYLOAD_TYPE}\``,
    );
    return finish("invalid");
  }
  checks.push({ check: "payload_type", status: "pass", message: envelope.payloadType });

  const sig = verifyEnvelopeSignature(envelope, payload, signatures, opts.publicKey, {
    anyKeyid: opts.anyKeyid === true,
  });
  if (!sig.ok) {
    if (sig.reason === "no_matching_keyid") {
      const ids = envelope.signatures.map((s) => (s.keyid ? `\`${s.keyid}\`` : "(none)")).join(", ");
      fail(
        "signature",
        "signature_no_matching_keyid",
        opts.anyKeyid === true
          ? `no signature with keyid \`${keyid}\`, and none of the others verifies with the key (found: ${ids})`
          : `no signature with keyid \`${keyid}\` (found: ${ids}; --any-keyid tries every signature)`,
      );
    } else {
      fail(
        "signature",
        "signature_invalid",
        `the signature with keyid \`${keyid}\` does not verify over PAE`,
      );
    }
    return finish("invalid");
  }
  checks.push({ check: "signature", status: "pass", message: `${keyAlgorithm(opts.publicKey)} ${keyid}` });

  let statement: unknown;
  try {
    statement = JSON.parse(payload.toString("utf8"));
  } catch (err) {
    fail("statement", "statement_not_json", `the payload is not JSON: ${(err as Error).message}`);
    return finish("invalid");
  }
  const problem = statementProblem(statement);
  if (problem !== undefined) {
    fail("statement", "statement_invalid", `not an in-toto Statement v1: ${problem}`);
    return finish("invalid");
  }
  const st = statement as Statement;
  checks.push({
    check: "statement",
    status: "pass",
    message: `${st._type}, predicateType ${st.predicateType}, ${st.subject.length} subject(s)`,
  });

  const wanted = opts.subjects ?? [];
  if (wanted.length === 0) {
    checks.push({ check: "subjects", status: "skip", message: "no --subject given" });
    return finish("valid", st);
  }
  for (const w of wanted) {
    const named = st.subject.filter((s) => s.name === w.name);
    if (named.length === 0) {
      fail("subjects", "subject_missing", `no subject named \`${w.name}\` in the statement`);
      return finish("invalid", st);
    }
    if (!named.some((s) => s.digest.sha256 === w.digest.sha256)) {
      const found = named.map((s) => s.digest.sha256 ?? "(no sha256)").join(", ");
      fail(
        "subjects",
        "subject_digest_mismatch",
        `\`${w.name}\`: sha256 ${w.digest.sha256} does not match the statement's ${found}`,
      );
      return finish("invalid", st);
    }
  }
  checks.push({ check: "subjects", status: "pass", message: `${wanted.length} of ${wanted.length} match` });
  return finish("valid", st);
}
