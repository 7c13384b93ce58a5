import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { AssayError } from "../../lib/errors.js";

// Only whole CERTIFICATE blocks: a bundle may carry comments or other blocks between them (a
// `cat`ted chain, an OpenSSL `TRUSTED CERTIFICATE`), which Node would read differently.
const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*-----END CERTIFICATE-----/g;
const KEY_BLOCK = /-----BEGIN (?:RSA |EC |)PRIVATE KEY-----/;
const ENCRYPTED_KEY = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/;

/** A PEM bundle's certificates, in file order, with the text of each block. */
export interface PemCertificate {
  readonly pem: string;
  readonly x509: X509Certificate;
}

/** `serve_tls_invalid` located at `file`: the CLI prints it as `<file>: <what>`. */
export function tlsInvalid(file: string, what: string, cause?: unknown): AssayError {
  return new AssayError("serve_tls_invalid", what, {
    where: file,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Every certificate of a PEM bundle; fails naming `file` when there is none or one does not parse. */
export function parseCertificates(text: string, file: string): PemCertificate[] {
  const blocks = text.match(CERT_BLOCK) ?? [];
  if (blocks.length === 0)
    throw tlsInvalid(file, "no PEM certificate (`-----BEGIN CERTIFICATE-----`) in the file");
  return blocks.map((pem, i) => {
    try {
      return { pem, x509: new X509Certificate(pem) };
    } catch (err) {
      throw tlsInvalid(file, `certificate ${i + 1} does not parse: ${oneLine(err)}`, err);
    }
  });
}

/** The private key of a PEM file; unencrypted only (the file's permissions and mount protect it). */
export function parsePrivateKey(text: string, file: string): KeyObject {
  if (ENCRYPTED_KEY.test(text))
    throw tlsInvalid(file, "the private key is encrypted: assay serve reads unencrypted keys only");
  if (!KEY_BLOCK.test(text))
    throw tlsInvalid(file, "no PEM private key (`-----BEGIN PRIVATE KEY-----`) in the file");
  try {
    return createPrivateKey(text);
  } catch (err) {
    throw tlsInvalid(file, `the private key does not parse: ${oneLine(err)}`, err);
  }
}

/** An error's message on one line (OpenSSL's can span several). */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, "; ");
}
