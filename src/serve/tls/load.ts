import { createHash, type X509Certificate } from "node:crypto";
import { createSecureContext, type TlsOptions } from "node:tls";
import { type Clock, systemClock } from "../../lib/clock.js";
import { AssayError } from "../../lib/errors.js";
import { readTextFile } from "../../lib/read-text.js";
import type { Profile, TlsConfig } from "../config-types.js";
import { DEFAULT_CIPHERS } from "./ciphers.js";
import { oneLine, type PemCertificate, parseCertificates, parsePrivateKey, tlsInvalid } from "./pem.js";

/** The certificate the server presents, for logs, `onReload` and tests. */
export interface ServedCertificate {
  /** Uppercase hex, as `getPeerCertificate().serialNumber` prints it. */
  readonly serial: string;
  /** RFC 3339 UTC. */
  readonly not_after: string;
  readonly subject: string;
}

/** Everything a TLS server needs, read and checked. */
export interface TlsMaterial {
  /**
   * For `https.createServer(options)` (fastify's `https` option) and, unchanged, for
   * `server.setSecureContext(options)`, which ignores the per-server fields (`requestCert`,
   * `rejectUnauthorized`).
   */
  readonly options: TlsOptions;
  readonly certificate: ServedCertificate;
  /** `sha256:` over the files' bytes: the watcher compares it to notice a change. */
  readonly digest: string;
}

/** The contents of the files a `TlsConfig` names, by path, in `tlsFilePaths` order. */
export type TlsFiles = ReadonlyMap<string, string>;

/** The files a config reads: certificate, key, chain, client CA bundle (when mTLS is on). */
export function tlsFilePaths(cfg: TlsConfig): string[] {
  const paths = [cfg.cert_file, cfg.key_file];
  if (cfg.ca_file !== undefined) paths.push(cfg.ca_file);
  if (cfg.mtls?.enabled) paths.push(cfg.mtls.client_ca_file);
  return paths;
}

/** Read the files of `cfg`; an unreadable one fails with `serve_tls_invalid` located at it. */
export async function readTlsFiles(cfg: TlsConfig): Promise<TlsFiles> {
  const paths = tlsFilePaths(cfg);
  const texts = await Promise.all(
    paths.map((p) => readTextFile(p, "serve_tls_invalid", "the file", "replace")),
  );
  return new Map(paths.map((p, i) => [p, texts[i] as string]));
}

/** `sha256:<hex>` over every path and its bytes, so a change to any file (or to which files) shows. */
export function digestTlsFiles(files: TlsFiles): string {
  const h = createHash("sha256");
  for (const [path, text] of files) h.update(`${path}\0${text.length}\0${text}\0`);
  return `sha256:${h.digest("hex")}`;
}

/**
 * Read, check and assemble the server's TLS options. Fails with `serve_tls_invalid` located at
 * the file at fault: unreadable, no PEM, a key that does not match the certificate, a chain out of
 * order, an expired certificate, a self-signed one with `profile: prod`.
 */
export async function loadTls(
  cfg: TlsConfig,
  profile: Profile,
  clock: Clock = systemClock,
): Promise<TlsMaterial> {
  return buildTls(await readTlsFiles(cfg), cfg, profile, clock);
}

/** `loadTls` over files already read: the watcher reads once, hashes, then builds only on a change. */
export function buildTls(
  files: TlsFiles,
  cfg: TlsConfig,
  profile: Profile,
  clock: Clock = systemClock,
): TlsMaterial {
  const text = (path: string) => files.get(path) ?? "";
  const chain: ChainEntry[] = parseCertificates(text(cfg.cert_file), cfg.cert_file).map((c) => ({
    ...c,
    file: cfg.cert_file,
  }));
  if (cfg.ca_file !== undefined) {
    const file = cfg.ca_file;
    chain.push(...parseCertificates(text(file), file).map((c) => ({ ...c, file })));
  }
  // INVARIANT: parseCertificates returns at least one certificate.
  const leaf = (chain[0] as ChainEntry).x509;
  const key = parsePrivateKey(text(cfg.key_file), cfg.key_file);
  if (!leaf.checkPrivateKey(key))
    throw tlsInvalid(cfg.key_file, `the key does not match the certificate in \`${cfg.cert_file}\``);
  checkChainOrder(chain);
  const notAfter = isoDate(leaf.validTo);
  if (notAfter === undefined) throw tlsInvalid(cfg.cert_file, `unreadable notAfter \`${leaf.validTo}\``);
  if (notAfter <= clock.nowIso()) throw tlsInvalid(cfg.cert_file, `the certificate expired at ${notAfter}`);
  if (profile === "prod" && isSelfSigned(leaf))
    throw tlsInvalid(
      cfg.cert_file,
      "the certificate is self-signed, refused with `profile: prod`: use one issued by a CA the clients trust",
    );

  const mtls = cfg.mtls?.enabled ? cfg.mtls : undefined;
  const options: TlsOptions = {
    // The leaf first, then its chain: what OpenSSL sends, in the order clients expect.
    cert: chain.map((c) => c.pem).join("\n"),
    key: text(cfg.key_file),
    minVersion: cfg.min_version,
    ciphers: cfg.ciphers === "" ? DEFAULT_CIPHERS : cfg.ciphers,
    honorCipherOrder: true,
    ...(mtls
      ? {
          // Only this bundle is trusted for client certificates (it replaces Node's public roots).
          ca: parseCertificates(text(mtls.client_ca_file), mtls.client_ca_file).map((c) => c.pem),
          requestCert: true,
          // The handshake completes without a good certificate so the app can answer 403 with the
          // reason (checkClientCertificate); a bare handshake failure tells the client nothing.
          rejectUnauthorized: false,
        }
      : {}),
  };
  tryContext({ ciphers: options.ciphers, minVersion: options.minVersion }, (err) => {
    return new AssayError("serve_tls_invalid", `\`tls.ciphers\` \`${options.ciphers}\`: ${oneLine(err)}`, {
      cause: err,
    });
  });
  // What setSecureContext will do: fail here, not after a reload already began.
  tryContext(options, (err) =>
    tlsInvalid(cfg.cert_file, `OpenSSL refused the material: ${oneLine(err)}`, err),
  );
  return {
    options,
    certificate: { serial: leaf.serialNumber, not_after: notAfter, subject: oneDn(leaf.subject) },
    digest: digestTlsFiles(files),
  };
}

interface ChainEntry extends PemCertificate {
  /** The file it came from, for messages. */
  readonly file: string;
}

/** Each certificate must be issued by the next one: clients build their path from what is sent, in order. */
function checkChainOrder(chain: readonly ChainEntry[]): void {
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = (chain[i] as ChainEntry).x509;
    const parent = chain[i + 1] as ChainEntry;
    if (!child.checkIssued(parent.x509) || !child.verify(parent.x509.publicKey)) {
      throw tlsInvalid(
        parent.file,
        `certificate \`${oneDn(parent.x509.subject)}\` did not issue the one before it ` +
          `(\`${oneDn(child.subject)}\`): put the chain in order, leaf first`,
      );
    }
  }
}

function tryContext(options: TlsOptions, fail: (err: unknown) => AssayError): void {
  try {
    createSecureContext(options);
  } catch (err) {
    throw fail(err);
  }
}

/** Subject equals issuer and the certificate verifies with its own key. */
function isSelfSigned(cert: X509Certificate): boolean {
  return cert.subject === cert.issuer && cert.verify(cert.publicKey);
}

function oneDn(dn: string): string {
  return dn.replace(/\n/g, ", ");
}

/** OpenSSL's `Dec  8 17:59:56 2026 GMT` as RFC 3339 UTC (Node 20 has no `validToDate`). */
function isoDate(openssl: string): string | undefined {
  const d = new Date(openssl);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
