import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPairPem, type KeyAlgorithm } from "../../src/evidence/keys.js";

const DIGEST = `sha256:${"a".repeat(64)}`;

/** One gate decision log record (schemas/decision-event.schema.json); `i` varies the content. */
export function decisionRecord(i: number, pad = ""): Record<string, unknown> {
  if (i % 7 === 3)
    return {
      specversion: "1.0",
      id: `s1:${i}`,
      source: "urn:assay:mcp-gate:test",
      type: "assay.gate.frame_rejected",
      time: "2026-01-02T03:04:05Z",
      datacontenttype: "application/json",
      data: {
        request_id: null,
        session_id: "s1",
        reason: "unparsable",
        message: "unparsable frame",
        bytes: 12,
      },
    };
  return {
    specversion: "1.0",
    id: `s1:${i}`,
    source: "urn:assay:mcp-gate:test",
    type: "assay.tool.decision",
    time: "2026-01-02T03:04:05.678Z",
    datacontenttype: "application/json",
    subject: "read_file",
    data: {
      effect: i % 2 === 0 ? "allow" : "deny",
      rule_id: "fs",
      reason_code: i % 2 === 0 ? "allowed" : "tool_denied",
      message: `call ${i} to \`read_file\`${pad}`,
      violations: [],
      policy_digest: DIGEST,
      tool: "read_file",
      tool_call_id: `s1:number:${i}`,
      request_id: i,
      session_id: "s1",
      outcome: i % 2 === 0 ? "forwarded" : "denied",
      dry_run: false,
      latency_us: 12.5 + i,
      arguments_digest: DIGEST,
      arguments: { path: `/workspace/file-${i}.txt`, note: "héllo ☃ 😀" },
    },
  };
}

/** A decision log of `n` records as NDJSON text. */
export function decisionLog(n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) out += `${JSON.stringify(decisionRecord(i))}\n`;
  return out;
}

/** Write a decision log of `n` records into `dir` and return its path. */
export function writeDecisionLog(dir: string, n: number, name = "decisions.ndjson"): string {
  const path = join(dir, name);
  writeFileSync(path, decisionLog(n));
  return path;
}

/** The order of the P-256 group. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The twin `(r, n - s)` of a P-256 DER signature `(r, s)` (short lengths): valid wherever it is. */
export function highSTwin(sig: Buffer): Buffer {
  const lr = sig[3] as number;
  const r = sig.subarray(4, 4 + lr);
  const s = BigInt(`0x${sig.subarray(6 + lr).toString("hex")}`);
  let hex = (P256_N - s).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let twin = Buffer.from(hex, "hex");
  if ((twin[0] as number) >= 0x80) twin = Buffer.concat([Buffer.from([0]), twin]);
  const body = Buffer.concat([Buffer.from([2, r.length]), r, Buffer.from([2, twin.length]), twin]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/**
 * A new key pair (P-256 or Ed25519) as KeyObjects of their own. Node 20 can deadlock reading a
 * key's details (`asymmetricKeyDetails`, which keyAlgorithm reads) while garbage collection
 * finalizes the generateKeyPairSync job that made that very key: GetEcKeyDetail holds the key's
 * mutex and allocates, and the job's destructor takes the same mutex (seen once: a test file
 * hung in CI, its main thread in ~KeyGenJob under GetEcKeyDetail). Keys read back from PEM share
 * nothing with the job, as keys read from files (all the CLI uses) do.
 */
export function generatedKeyPair(algorithm: KeyAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  const pem = generateKeyPairPem(algorithm);
  return { privateKey: createPrivateKey(pem.privateKeyPem), publicKey: createPublicKey(pem.publicKeyPem) };
}
