/**
 * Test PKI for `assay serve`: CAs, server and client certificates made by Debian's `openssl`
 * (EC P-256, one process per certificate, a few milliseconds each); the two ways a rotation lands
 * on disk (a file renamed over, a Kubernetes secret mount's `..data` swap); a TLS client that
 * reports what it saw of the connection (`tlsGet`); and a bare HTTPS server answering with
 * checkClientCertificate's result (`serveChecked`). Every file is written under the directory the
 * caller gives (see test/temp-dir.ts).
 */
import { execFile } from "node:child_process";
import { randomBytes, X509Certificate } from "node:crypto";
import { mkdir, readFile, rename, symlink, writeFile } from "node:fs/promises";
import { type Agent, createServer, request, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { TLSSocket, TlsOptions } from "node:tls";
import { promisify } from "node:util";
import type { MtlsConfig } from "../../src/serve/config-types.js";
import { checkClientCertificate } from "../../src/serve/tls/client-certificate.js";

const run = promisify(execFile);

export const OPENSSL = "/usr/bin/openssl";

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

export interface TestCa {
  readonly name: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TestCert {
  readonly certFile: string;
  readonly keyFile: string;
  /** As Node prints it (`X509Certificate#serialNumber`, `getPeerCertificate().serialNumber`). */
  readonly serial: string;
}

export interface IssueOptions {
  /** File names: `<name>.pem`, `<name>.key`; also the CN unless `cn` is given. */
  readonly name: string;
  readonly cn?: string;
  /** Hex; random when absent. Keep the first digit below 8 so it reads back unchanged. */
  readonly serial?: string;
  /** openssl syntax: `DNS:localhost`, `IP:127.0.0.1`, `URI:spiffe://x`, `email:a@b`. */
  readonly sans?: readonly string[];
  /** Valid until yesterday (issued the slow way: `x509 -req -days -1`). */
  readonly expired?: boolean;
}

/** The names a certificate for the test server on 127.0.0.1 needs. */
export const LOCALHOST_SANS = ["DNS:localhost", "IP:127.0.0.1"] as const;

/** A self-signed root CA. */
export async function createCa(dir: string, name: string): Promise<TestCa> {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  await openssl`req -x509 ${EC_KEY} -keyout ${keyFile} -out ${certFile} -subj ${`/CN=${name}`} -days 2
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign`;
  return { name, certFile, keyFile };
}

/** An intermediate CA issued by `parent`, for chains (`ca_file`). */
export async function createIntermediateCa(parent: TestCa, dir: string, name: string): Promise<TestCa> {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  await openssl`req -x509 ${EC_KEY} -keyout ${keyFile} -out ${certFile} -subj ${`/CN=${name}`} -days 2
    -CA ${parent.certFile} -CAkey ${parent.keyFile} -set_serial ${`0x${randomSerial()}`}
    -addext basicConstraints=critical,CA:TRUE,pathlen:0 -addext keyUsage=critical,keyCertSign,cRLSign`;
  return { name, certFile, keyFile };
}

/** A leaf certificate (server and client use) issued by `ca`. */
export async function issueCert(ca: TestCa, dir: string, opts: IssueOptions): Promise<TestCert> {
  const certFile = join(dir, `${opts.name}.pem`);
  const keyFile = join(dir, `${opts.name}.key`);
  const serial = `0x${opts.serial ?? randomSerial()}`;
  const subj = `/CN=${opts.cn ?? opts.name}`;
  const ext = leafExtensions(opts.sans ?? []);
  if (opts.expired) {
    // `req -x509` refuses a negative -days; `x509 -req` takes it (notAfter = now - 1 day).
    const csr = join(dir, `${opts.name}.csr`);
    const extFile = join(dir, `${opts.name}.ext`);
    await writeFile(extFile, `${ext.join("\n")}\n`);
    await openssl`req -new ${EC_KEY} -keyout ${keyFile} -out ${csr} -subj ${subj}`;
    await openssl`x509 -req -in ${csr} -CA ${ca.certFile} -CAkey ${ca.keyFile} -set_serial ${serial}
      -days -1 -extfile ${extFile} -out ${certFile}`;
  } else {
    await openssl`req -x509 ${EC_KEY} -keyout ${keyFile} -out ${certFile} -subj ${subj}
      -CA ${ca.certFile} -CAkey ${ca.keyFile} -set_serial ${serial} -days 2 ${addext(ext)}`;
  }
  return { certFile, keyFile, serial: await serialOf(certFile) };
}

/** A certificate for the test server (localhost, 127.0.0.1), with the serial a rotation test checks. */
export function serverCert(
  ca: TestCa,
  dir: string,
  serial: string,
  name = `server-${serial}`,
): Promise<TestCert> {
  return issueCert(ca, dir, { name, serial, sans: LOCALHOST_SANS });
}

/** A self-signed certificate for localhost: its own issuer. */
export async function selfSignedCert(dir: string, name: string, serial?: string): Promise<TestCert> {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  await openssl`req -x509 ${EC_KEY} -keyout ${keyFile} -out ${certFile} -subj ${`/CN=${name}`} -days 2
    -set_serial ${`0x${serial ?? randomSerial()}`} ${addext(leafExtensions(LOCALHOST_SANS))}`;
  return { certFile, keyFile, serial: await serialOf(certFile) };
}

/** The usual cast, made concurrently: two CAs, a server, clients from each CA, an expired and a self-signed one. */
export interface TestPki {
  readonly dir: string;
  readonly ca: TestCa;
  /** A CA the server does not trust. */
  readonly otherCa: TestCa;
  /** Serial `1001`, for localhost / 127.0.0.1, from `ca`. */
  readonly server: TestCert;
  /** From `ca`: `DNS:agent.example`, `URI:spiffe://example.org/agent`. */
  readonly client: TestCert;
  /** From `ca`: `DNS:intruder.example`. */
  readonly strangerClient: TestCert;
  /** From `otherCa`, with the same SANs as `client`. */
  readonly otherCaClient: TestCert;
  /** From `ca`, SANs as `client`, expired yesterday. */
  readonly expiredClient: TestCert;
  readonly selfSigned: TestCert;
}

export const CLIENT_SANS = ["DNS:agent.example", "URI:spiffe://example.org/agent"] as const;

export async function createTestPki(dir: string): Promise<TestPki> {
  const [ca, otherCa] = await Promise.all([createCa(dir, "root-ca"), createCa(dir, "other-ca")]);
  const [server, client, strangerClient, otherCaClient, expiredClient, selfSigned] = await Promise.all([
    serverCert(ca, dir, "1001"),
    issueCert(ca, dir, { name: "client", cn: "agent", sans: CLIENT_SANS }),
    issueCert(ca, dir, { name: "stranger", sans: ["DNS:intruder.example"] }),
    issueCert(otherCa, dir, { name: "other-ca-client", cn: "agent", sans: CLIENT_SANS }),
    issueCert(ca, dir, { name: "expired-client", cn: "agent", sans: CLIENT_SANS, expired: true }),
    selfSignedCert(dir, "self-signed"),
  ]);
  return { dir, ca, otherCa, server, client, strangerClient, otherCaClient, expiredClient, selfSigned };
}

/**
 * Put files in place the way `mv` does: each is written next to its target and renamed over it,
 * so a reader sees the old file or the new one, never half of one. `[from, to]` pairs.
 */
export async function replaceFiles(pairs: readonly (readonly [from: string, to: string])[]): Promise<void> {
  const staged = await Promise.all(
    pairs.map(async ([from, to]) => {
      const tmp = `${to}.tmp-${randomBytes(4).toString("hex")}`;
      await writeFile(tmp, await readFile(from));
      return [tmp, to] as const;
    }),
  );
  for (const [tmp, to] of staged) await rename(tmp, to);
}

/**
 * A directory laid out like a Kubernetes secret volume: `<key>` → `..data/<key>`, `..data` →
 * `..<generation>/`. `update` writes a new generation and swaps `..data` in one rename, as the
 * kubelet does; the visible paths never change.
 */
export class SecretMount {
  private generation = 0;

  private constructor(readonly dir: string) {}

  /** A mount holding `files` (key name → source file to copy). */
  static async create(dir: string, files: Readonly<Record<string, string>>): Promise<SecretMount> {
    await mkdir(dir, { recursive: true });
    const mount = new SecretMount(dir);
    await mount.writeGeneration(files);
    for (const key of Object.keys(files)) await symlink(join("..data", key), join(dir, key));
    return mount;
  }

  /** The visible path of a key, as a pod would configure it. */
  path(key: string): string {
    return join(this.dir, key);
  }

  /** Swap in new contents for every key. */
  async update(files: Readonly<Record<string, string>>): Promise<void> {
    await this.writeGeneration(files);
  }

  private async writeGeneration(files: Readonly<Record<string, string>>): Promise<void> {
    const gen = `..gen_${++this.generation}`;
    await mkdir(join(this.dir, gen));
    for (const [key, from] of Object.entries(files))
      await writeFile(join(this.dir, gen, key), await readFile(from));
    const tmpLink = join(this.dir, "..data_tmp");
    await symlink(gen, tmpLink);
    await rename(tmpLink, join(this.dir, "..data"));
  }
}

/** What a client saw of one request: the answer and the connection, or the error that ended it. */
export interface TlsProbe {
  readonly status?: number;
  /** The body, parsed when it is JSON. */
  readonly body?: unknown;
  /** The server certificate's serial, as `TestCert.serial` has it. */
  readonly serial?: string;
  readonly protocol?: string | null;
  /** OpenSSL's name of the suite, e.g. `ECDHE-ECDSA-AES128-GCM-SHA256`. */
  readonly cipher?: string;
  /** Tells connections apart: a keep-alive request reuses its port. */
  readonly localPort?: number;
  readonly socket?: TLSSocket;
  /** `<code> <message>` of a failed handshake or connection. */
  readonly error?: string;
}

export interface TlsGetOptions
  extends Pick<TlsOptions, "minVersion" | "maxVersion" | "ciphers" | "cert" | "key"> {
  /** The CA the client trusts (PEM text). */
  readonly ca: string;
  /** A keep-alive agent to reuse connections; a fresh connection per request when absent. */
  readonly agent?: Agent;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** One HTTPS request to 127.0.0.1:`port`. Never rejects: a refused handshake is `error`. */
export function tlsGet(port: number, opts: TlsGetOptions): Promise<TlsProbe> {
  const { agent, path, method, headers, body, ...tls } = opts;
  return new Promise((resolve) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: path ?? "/",
        method: method ?? "GET",
        headers,
        ...tls,
        agent: agent ?? false,
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const seen = {
          status: res.statusCode,
          serial: socket.getPeerCertificate().serialNumber,
          protocol: socket.getProtocol(),
          cipher: socket.getCipher().name,
          localPort: socket.localPort,
          socket,
        };
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => {
          const json = /\bjson\b/.test(String(res.headers["content-type"]));
          resolve({ ...seen, body: json && text !== "" ? JSON.parse(text) : text });
        });
      },
    );
    req.on("error", (err: NodeJS.ErrnoException) => resolve({ error: `${err.code ?? ""} ${err.message}` }));
    req.end(body);
  });
}

/** A client certificate and key as `tlsGet` takes them. */
export async function clientCredentials(cert: TestCert): Promise<{ cert: string; key: string }> {
  const [c, k] = await Promise.all([readFile(cert.certFile, "utf8"), readFile(cert.keyFile, "utf8")]);
  return { cert: c, key: k };
}

/** A bare HTTPS server for tests of src/serve/tls without the app. */
export interface CheckedServer {
  readonly server: Server;
  readonly port: number;
  /** Handshakes the server refused (`tlsClientError`), by OpenSSL's reason. */
  readonly refused: readonly string[];
  close(): void;
}

/**
 * An HTTPS server on 127.0.0.1 with `options` (loadTls's) whose every answer is
 * checkClientCertificate's result as JSON: 200 when `ok` (or without `mtls`), else 403.
 */
export async function serveChecked(options: TlsOptions, mtls?: MtlsConfig): Promise<CheckedServer> {
  const refused: string[] = [];
  const server = createServer(options, (req, res) => {
    const check = mtls ? checkClientCertificate(req.socket as TLSSocket, mtls) : { ok: true };
    res.writeHead(check.ok ? 200 : 403, { "content-type": "application/json" });
    res.end(JSON.stringify(check));
  });
  server.on("tlsClientError", (err) => refused.push(err.message));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    refused,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Poll `fn` every 50 ms until it returns a value other than undefined, or fail after `ms`. */
export async function eventually<T>(ms: number, what: string, fn: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Run openssl with an argument list written as a template: the literal text splits on whitespace,
 * each interpolated value is one argument (an array, several), so paths need no quoting.
 */
async function openssl(
  strings: TemplateStringsArray,
  ...values: (string | readonly string[])[]
): Promise<void> {
  const args: string[] = [];
  strings.forEach((text, i) => {
    args.push(...text.split(/\s+/).filter((w) => w !== ""));
    const v = values[i];
    if (v !== undefined) args.push(...(typeof v === "string" ? [v] : v));
  });
  try {
    await run(OPENSSL, args);
  } catch (err) {
    const e = err as { stderr?: string };
    throw new Error(`openssl ${args.slice(0, 2).join(" ")} failed: ${e.stderr?.trim() ?? String(err)}`);
  }
}

function addext(extensions: readonly string[]): string[] {
  return extensions.flatMap((e) => ["-addext", e]);
}

function leafExtensions(sans: readonly string[]): string[] {
  return [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature",
    "extendedKeyUsage=serverAuth,clientAuth",
    ...(sans.length > 0 ? [`subjectAltName=${sans.join(",")}`] : []),
  ];
}

async function serialOf(certFile: string): Promise<string> {
  return new X509Certificate(await readFile(certFile)).serialNumber;
}

/** 16 hex digits, first below 8: positive in DER, so Node prints it back as is. */
function randomSerial(): string {
  const b = randomBytes(8);
  b[0] = ((b[0] as number) & 0x7f) | 0x10;
  return b.toString("hex").toUpperCase();
}
