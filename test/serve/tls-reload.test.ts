/**
 * Certificate hot reload (watchTls) against a live server: rotations as `mv` and as a Kubernetes
 * secret mount do them, broken ones, the polling fallback. Each test rotates its own files.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { Agent } from "node:https";
import { join } from "node:path";
import { before, describe, type TestContext, test } from "node:test";
import type { AssayError } from "../../src/lib/errors.js";
import type { TlsConfig } from "../../src/serve/config-types.js";
import { DEFAULT_CIPHERS } from "../../src/serve/tls/ciphers.js";
import { loadTls, type TlsMaterial } from "../../src/serve/tls/load.js";
import { type WatchTlsOptions, watchTls } from "../../src/serve/tls/watch.js";
import { suiteTempDir } from "../temp-dir.js";
import {
  type CheckedServer,
  clientCredentials,
  createTestPki,
  eventually,
  replaceFiles,
  SecretMount,
  serveChecked,
  serverCert,
  type TestCert,
  type TestPki,
  type TlsGetOptions,
  tlsGet,
} from "./fixtures-pki.js";

const dir = suiteTempDir("assay-tls-reload-");
let pki: TestPki;
let rootPem: string;
before(async () => {
  pki = await createTestPki(dir);
  rootPem = await readFile(pki.ca.certFile, "utf8");
});

interface Reloads {
  readonly ok: { serial: string; not_after: string }[];
  readonly errors: AssayError[];
}

interface Watched {
  readonly server: CheckedServer;
  readonly seen: Reloads;
  readonly material: TlsMaterial;
  readonly certFile: string;
  readonly keyFile: string;
}

function tlsConfig(certFile: string, keyFile: string, more: Partial<TlsConfig> = {}): TlsConfig {
  return {
    cert_file: certFile,
    key_file: keyFile,
    min_version: "TLSv1.2",
    ciphers: DEFAULT_CIPHERS,
    reload: true,
    ...more,
  };
}

/** Copy `cert` to `<name>.crt` / `<name>.key`, serve them, watch them; all undone when `t` ends. */
async function serveWatched(
  t: TestContext,
  name: string,
  opts: WatchTlsOptions = {},
  cert: TestCert = pki.server,
): Promise<Watched> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await replaceFiles([
    [cert.certFile, certFile],
    [cert.keyFile, keyFile],
  ]);
  const cfg = tlsConfig(certFile, keyFile);
  const material = await loadTls(cfg, "prod");
  const server = await serveChecked(material.options);
  t.after(() => server.close());
  const seen: Reloads = { ok: [], errors: [] };
  const w = watchTls(server.server, cfg, "prod", hooks(seen), { current: material, ...opts });
  t.after(() => w.close());
  return { server, seen, material, certFile, keyFile };
}

const hooks = (seen: Reloads) => ({
  onReload: (info: { serial: string; not_after: string }) => seen.ok.push(info),
  onError: (err: AssayError) => seen.errors.push(err),
});

const get = (port: number, opts: Partial<TlsGetOptions> = {}) => tlsGet(port, { ca: rootPem, ...opts });

/** Wait (up to 3 s) until a new connection is served the certificate with `serial`. */
const served = (port: number, serial: string) =>
  eventually(3_000, `serial ${serial}`, async () =>
    (await get(port)).serial === serial ? serial : undefined,
  );

describe("hot reload", () => {
  test("a certificate renamed over the old one: new connections get it, an open one keeps working", async (t) => {
    const w = await serveWatched(t, "mv");
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => keepAlive.destroy());
    const first = await get(w.server.port, { agent: keepAlive });
    assert.equal(first.serial, "1001");

    const next = await serverCert(pki.ca, dir, "2002");
    await replaceFiles([
      [next.certFile, w.certFile],
      [next.keyFile, w.keyFile],
    ]);
    await served(w.server.port, "2002");
    assert.deepEqual(
      w.seen.ok.map((r) => r.serial),
      ["2002"],
    );
    assert.match(w.seen.ok[0]?.not_after ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    assert.deepEqual(w.seen.errors, []);

    const again = await get(w.server.port, { agent: keepAlive });
    assert.equal(again.status, 200, again.error);
    assert.equal(again.localPort, first.localPort, "the keep-alive connection was replaced");
    assert.equal(again.serial, "1001", "an open connection keeps the certificate it began with");
  });

  test("a Kubernetes secret mount's ..data swap, the client CA included", async (t) => {
    const mount = await SecretMount.create(join(dir, "secret"), {
      "tls.crt": pki.server.certFile,
      "tls.key": pki.server.keyFile,
      "ca.crt": pki.ca.certFile,
    });
    const mtls = { enabled: true, client_ca_file: mount.path("ca.crt"), allowed_sans: ["DNS:agent.example"] };
    const cfg = tlsConfig(mount.path("tls.crt"), mount.path("tls.key"), { mtls });
    const m = await loadTls(cfg, "prod");
    const s = await serveChecked(m.options, mtls);
    t.after(() => s.close());
    const seen: Reloads = { ok: [], errors: [] };
    const w = watchTls(s.server, cfg, "prod", hooks(seen), { current: m });
    t.after(() => w.close());
    assert.equal((await get(s.port, await clientCredentials(pki.client))).status, 200);

    // The new server certificate still comes from the CA the test client trusts; client
    // certificates must now come from the other CA.
    const next = await serverCert(pki.ca, dir, "4004");
    await mount.update({ "tls.crt": next.certFile, "tls.key": next.keyFile, "ca.crt": pki.otherCa.certFile });
    await served(s.port, "4004");
    assert.deepEqual(
      seen.ok.map((r) => r.serial),
      ["4004"],
    );
    assert.equal((await get(s.port, await clientCredentials(pki.otherCaClient))).status, 200);
    const old = await get(s.port, await clientCredentials(pki.client));
    assert.equal((old.body as { reason?: string }).reason, "mtls_untrusted");
  });

  test("a broken rotation (key not matching) keeps the old certificate, is reported once, then recovers", async (t) => {
    const w = await serveWatched(t, "broken", { pollMs: 100 });
    const next = await serverCert(pki.ca, dir, "5005");
    await replaceFiles([
      [next.certFile, w.certFile],
      [pki.client.keyFile, w.keyFile],
    ]);
    const err = await eventually(3_000, "onError", async () => w.seen.errors[0]);
    assert.equal(err.code, "serve_tls_invalid");
    assert.equal(err.where, w.keyFile);
    assert.match(err.message, /does not match/);
    await new Promise((r) => setTimeout(r, 300)); // three more polls of the same broken files
    assert.equal(w.seen.errors.length, 1, "the same broken files were reported again");
    assert.deepEqual(w.seen.ok, []);
    assert.equal((await get(w.server.port)).serial, "1001");

    await replaceFiles([[next.keyFile, w.keyFile]]);
    await served(w.server.port, "5005");
  });

  test("a rotation that writes the certificate, then the key a moment later, is not reported as a failure", async (t) => {
    const w = await serveWatched(t, "two-steps", { settleMs: 1_000 });
    const next = await serverCert(pki.ca, dir, "6006");
    await replaceFiles([[next.certFile, w.certFile]]);
    await new Promise((r) => setTimeout(r, 300)); // the watcher has seen the mismatched pair
    await replaceFiles([[next.keyFile, w.keyFile]]);
    await served(w.server.port, "6006");
    await new Promise((r) => setTimeout(r, 1_200)); // past the settle time
    assert.deepEqual(w.seen.errors, []);
    assert.deepEqual(
      w.seen.ok.map((r) => r.serial),
      ["6006"],
    );
  });

  test("refused files are reported again every repeatMs while they stay", async (t) => {
    const w = await serveWatched(t, "repeat", { pollMs: 40, repeatMs: 150 });
    await replaceFiles([[pki.client.keyFile, w.keyFile]]);
    await eventually(3_000, "a second report", async () => (w.seen.errors.length >= 2 ? true : undefined));
    assert.ok(w.seen.errors.every((e) => e.where === w.keyFile));
    assert.equal((await get(w.server.port)).serial, "1001");
  });

  test("the prod profile refuses a self-signed certificate on reload too", async (t) => {
    const w = await serveWatched(t, "self");
    await replaceFiles([
      [pki.selfSigned.certFile, w.certFile],
      [pki.selfSigned.keyFile, w.keyFile],
    ]);
    const err = await eventually(3_000, "onError", async () => w.seen.errors[0]);
    assert.match(err.message, /self-signed/);
    assert.equal((await get(w.server.port)).serial, "1001");
  });

  test("polling alone picks a change up when no file event arrives", async (t) => {
    // Events act only after a minute: whatever reloads within 3 s is the poll.
    const w = await serveWatched(t, "poll", { debounceMs: 60_000, pollMs: 150 });
    const next = await serverCert(pki.ca, dir, "6006");
    await replaceFiles([
      [next.certFile, w.certFile],
      [next.keyFile, w.keyFile],
    ]);
    await served(w.server.port, "6006");
  });

  test("a change between loading and watching is applied at once; reload: false watches nothing", async (t) => {
    const certFile = join(dir, "late.crt");
    const keyFile = join(dir, "late.key");
    await replaceFiles([
      [pki.server.certFile, certFile],
      [pki.server.keyFile, keyFile],
    ]);
    const cfg = tlsConfig(certFile, keyFile);
    const m = await loadTls(cfg, "prod");
    const s = await serveChecked(m.options);
    t.after(() => s.close());
    const next = await serverCert(pki.ca, dir, "7007");
    await replaceFiles([
      [next.certFile, certFile],
      [next.keyFile, keyFile],
    ]);
    const seen: Reloads = { ok: [], errors: [] };
    const off = watchTls(s.server, { ...cfg, reload: false }, "prod", hooks(seen), {
      current: m,
      pollMs: 50,
    });
    await new Promise((r) => setTimeout(r, 200));
    off.close();
    assert.equal((await get(s.port)).serial, "1001");
    const w = watchTls(s.server, cfg, "prod", hooks(seen), { current: m });
    t.after(() => w.close());
    await served(s.port, "7007");
  });

  test("close() stops reloading", async (t) => {
    const certFile = join(dir, "closed.crt");
    const keyFile = join(dir, "closed.key");
    await replaceFiles([
      [pki.server.certFile, certFile],
      [pki.server.keyFile, keyFile],
    ]);
    const cfg = tlsConfig(certFile, keyFile);
    const m = await loadTls(cfg, "prod");
    const s = await serveChecked(m.options);
    t.after(() => s.close());
    const seen: Reloads = { ok: [], errors: [] };
    watchTls(s.server, cfg, "prod", hooks(seen), { current: m, pollMs: 50 }).close();
    const next = await serverCert(pki.ca, dir, "8008");
    await replaceFiles([
      [next.certFile, certFile],
      [next.keyFile, keyFile],
    ]);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(seen, { ok: [], errors: [] });
    assert.equal((await get(s.port)).serial, "1001");
  });
});
