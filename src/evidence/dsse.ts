import { type KeyObject, sign, verify } from "node:crypto";
import { canonicalJson } from "../lib/canonical-json.js";
import { encodeBase64 } from "./base64.js";
import { lowS } from "./ecdsa-low-s.js";
import { type KeyAlgorithm, keyAlgorithm, keyId } from "./keys.js";

/** A DSSE envelope (https://github.com/secure-systems-lab/dsse/blob/master/envelope.md). */
export interface DsseEnvelope {
  payload: string;
  payloadType: string;
  signatures: DsseSignature[];
}

export interface DsseSignature {
  keyid?: string;
  sig: string;
}

/** Produces raw signatures; injected so a KMS or hardware key can stand in for a PEM file. */
export interface Signer {
  readonly keyid: string;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/**
 * DSSE pre-authentication encoding: `DSSEv1 <len(type)> <type> <len(body)> <body>`, lengths
 * in bytes as decimal ASCII, single spaces.
 */
export function pae(payloadType: string, body: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, "ascii"),
    type,
    Buffer.from(` ${body.length} `, "ascii"),
    body,
  ]);
}

/**
 * Sign PAE bytes with a node:crypto key. Ed25519 signs the message itself; ECDSA P-256 hashes it
 * with SHA-256 and encodes the signature as ASN.1 DER, as cosign, sigstore-js and
 * securesystemslib do, in its low-S form (see ecdsa-low-s.ts).
 */
export function rawSign(privateKey: KeyObject, data: Uint8Array): Buffer {
  return keyAlgorithm(privateKey) === "ed25519"
    ? sign(null, data, privateKey)
    : lowS(sign("sha256", data, { key: privateKey, dsaEncoding: "der" }));
}

/** Verify a raw signature made by {@link rawSign}; false (never a throw) on any malformed input. */
export function rawVerify(publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return keyAlgorithm(publicKey) === "ed25519"
      ? verify(null, data, publicKey, signature)
      : verify("sha256", data, { key: publicKey, dsaEncoding: "der" }, signature);
  } catch {
    return false;
  }
}

/** A {@link Signer} over a private key held in memory; its keyid is {@link keyId} of the key. */
export function keySigner(privateKey: KeyObject): Signer & { algorithm: KeyAlgorithm | undefined } {
  return {
    keyid: keyId(privateKey),
    algorithm: keyAlgorithm(privateKey),
    sign: async (data) => rawSign(privateKey, data),
  };
}

/** Sign `payload` as `payloadType` with every signer, in order. */
export async function signEnvelope(
  payload: Uint8Array,
  payloadType: string,
  signers: readonly Signer[],
): Promise<DsseEnvelope> {
  const message = pae(payloadType, payload);
  const signatures: DsseSignature[] = [];
  for (const s of signers) signatures.push({ keyid: s.keyid, sig: encodeBase64(await s.sign(message)) });
  return { payload: encodeBase64(payload), payloadType, signatures };
}

/**
 * Whether the envelope carries a valid signature by `publicKey` over PAE(payloadType, payload).
 * A DSSE keyid is an unauthenticated hint, used here to choose which signatures to try: those
 * carrying this key's keyid, then those with an empty keyid (go-securesystemslib's envelope,
 * used by Go's in-toto and cosign, writes `"keyid": ""` for a signer without one). With
 * `anyKeyid`, every other signature too: an absent keyid (sigstore-js's JSON drops an empty one)
 * or another tool's (securesystemslib writes a hex digest of its own key metadata). Not by default, because then a one-byte change to an Assay envelope (renaming its
 * `keyid` field, or bending the keyid) would still verify, and every byte of our files is meant to
 * count. The reason tells a wrong key (no signature carries this key's keyid) from a bad
 * signature (one does, and nothing verifies). `payload` is the decoded payload (see parseEnvelope).
 */
export function verifyEnvelopeSignature(
  envelope: DsseEnvelope,
  payload: Uint8Array,
  signatures: readonly Uint8Array[],
  publicKey: KeyObject,
  opts: { anyKeyid?: boolean } = {},
): { ok: true; keyid: string } | { ok: false; keyid: string; reason: "no_matching_keyid" | "bad_signature" } {
  const keyid = keyId(publicKey);
  const message = pae(envelope.payloadType, payload);
  const indices = [...envelope.signatures.keys()];
  const withKeyid = (k: string | undefined) => indices.filter((i) => envelope.signatures[i]?.keyid === k);
  const named = withKeyid(keyid);
  const tried = [...named, ...withKeyid("")];
  if (opts.anyKeyid === true) tried.push(...indices.filter((i) => !tried.includes(i)));
  for (const i of tried) {
    const sig = signatures[i];
    if (sig !== undefined && rawVerify(publicKey, message, sig)) return { ok: true, keyid };
  }
  return { ok: false, keyid, reason: named.length === 0 ? "no_matching_keyid" : "bad_signature" };
}

/**
 * The envelope file's bytes: canonical JSON (RFC 8785), no trailing newline, so no byte of the
 * file is insignificant.
 */
export function serializeEnvelope(envelope: DsseEnvelope): string {
  return canonicalJson(envelope);
}
