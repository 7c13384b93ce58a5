import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { sha256Digest } from "../lib/canonical-json.js";
import { AssayError } from "../lib/errors.js";
import { readTextFile } from "../lib/read-text.js";
import type { KeyAlgorithm } from "./key-algorithms.js";

/** The signature algorithms Assay signs and verifies with. */
export type { KeyAlgorithm } from "./key-algorithms.js";

/** A freshly generated key pair as PEM text: PKCS#8 private key, SPKI public key. */
export interface KeyPairPem {
  algorithm: KeyAlgorithm;
  privateKeyPem: string;
  publicKeyPem: string;
}

export function generateKeyPairPem(algorithm: KeyAlgorithm): KeyPairPem {
  const encoding = {
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  } as const;
  const pair =
    algorithm === "ed25519"
      ? generateKeyPairSync("ed25519", encoding)
      : generateKeyPairSync("ec", { namedCurve: "P-256", ...encoding });
  return { algorithm, privateKeyPem: pem(pair.privateKey), publicKeyPem: pem(pair.publicKey) };
}

// With format "pem" both halves are strings; the overloads of a union call lose that.
function pem(value: string | KeyObject): string {
  if (typeof value !== "string") throw new TypeError("expected a PEM string");
  return value;
}

/** The algorithm of a key, or undefined when Assay does not support it (RSA, other curves...). */
export function keyAlgorithm(key: KeyObject): KeyAlgorithm | undefined {
  if (key.asymmetricKeyType === "ed25519") return "ed25519";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1")
    return "ecdsa-p256";
  return undefined;
}

/** `sha256:` + hex sha256 of the public key's SPKI DER encoding (accepts a private key too). */
export function keyId(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  const der = pub.export({ type: "spki", format: "der" });
  return sha256Digest(der);
}

/** Parse a PEM private key (PKCS#8, or SEC1 for EC) of a supported algorithm. */
export function parsePrivateKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new AssayError("input_invalid", `not a PEM private key: ${firstLine(err)}`, { where, cause: err });
  }
  return supported(key, where);
}

/** Parse a PEM public key (SPKI); a private key is accepted and its public half used. */
export function parsePublicKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new AssayError("input_invalid", `not a PEM public key: ${firstLine(err)}`, { where, cause: err });
  }
  return supported(key, where);
}

export async function readPrivateKeyFile(path: string): Promise<KeyObject> {
  return parsePrivateKey(await readTextFile(path, "input_unreadable", "private key", "replace"), path);
}

export async function readPublicKeyFile(path: string): Promise<KeyObject> {
  return parsePublicKey(await readTextFile(path, "input_unreadable", "public key", "replace"), path);
}

function supported(key: KeyObject, where: string): KeyObject {
  if (keyAlgorithm(key) !== undefined) return key;
  const detail = key.asymmetricKeyDetails?.namedCurve ?? key.asymmetricKeyType ?? "unknown";
  throw new AssayError(
    "input_invalid",
    `unsupported key type \`${detail}\`: expected ed25519 or ecdsa-p256 (prime256v1)`,
    { where },
  );
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
}
