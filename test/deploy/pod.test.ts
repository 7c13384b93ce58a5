import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { copyFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { promisify } from "node:util";
import { ASSAY_BIN } from "../run-assay.js";
import { suiteTempDir } from "../temp-dir.js";
import { ENVIRONMENTS } from "./kustomize.js";
import { podFiles, podFilesMissing } from "./pod-files.js";

const TMP = suiteTempDir("assay-deploy-pod-");
/** The Deployment's numbers (deploy/kubernetes/base/deployment.yaml; kubernetes.test.ts pins them). */
const TERMINATION_GRACE_S = 30;
const PRESTOP_SLEEP_S = 5;

/** A GET as the kubelet's HTTPS probe makes it: no client certificate, the server's not verified. */
function probe(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, timeout: 2000, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer in 2 s`)));
    req.on("error", reject);
    req.end();
  });
}

/** `assay serve` started on a free loopback port; resolves with its URL once it listens. */
async function startServe(config: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [ASSAY_BIN, "serve", "--config", config, "--listen", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no \`assay serve listening\` line in 20 s: ${err}`)),
      20_000,
    );
    let out = "";
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      for (const line of out.split("\n")) {
        if (!line.includes('"assay serve listening"')) continue;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`assay serve exited ${code}: ${err}`));
    });
  });
  return { child, url };
}

const execFileAsync = promisify(execFile);

/** `assay serve --check` on a config, without blocking the other checks (they run at once). */
async function check(config: string): Promise<{ code: number; out: string }> {
  try {
    const r = await execFileAsync(process.execPath, [ASSAY_BIN, "serve", "--config", config, "--check"], {
      timeout: 60_000,
    });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === "number" ? err.code : -1,
      out: `${err.stdout ?? ""}${err.stderr ?? ""}`,
    };
  }
}

describe("the overlays' serve.yaml run in the service", { skip: podFilesMissing() }, () => {
  const checks = new Map<string, Promise<{ code: number; out: string }>>();
  before(() => {
    for (const env of ENVIRONMENTS) checks.set(env, check(podFiles(join(TMP, env), env)));
    for (const env of ["prod", "dev"] as const) {
      const root = join(TMP, `${env}-self-signed`);
      const config = podFiles(root, env);
      // The test CA's own certificate is self-signed: mount it as the server's.
      copyFileSync(join(root, "pki/ca.crt"), join(root, "etc/assay/tls/tls.crt"));
      copyFileSync(join(root, "pki/ca.key"), join(root, "etc/assay/tls/tls.key"));
      checks.set(`${env}-self-signed`, check(config));
    }
  });

  for (const env of ENVIRONMENTS) {
    test(`${env}: \`assay serve --check\` accepts its config with the files the pod mounts`, async () => {
      const r = await checks.get(env);
      assert.equal(r?.code, 0, r?.out);
      const mtls = env === "dev" ? "" : " with mTLS";
      assert.match(
        r.out,
        new RegExp(`config ok: profile ${env === "dev" ? "dev" : "prod"}, .*TLS${mtls}$`, "m"),
      );
    });
  }

  test("prod refuses a self-signed certificate in the TLS secret, which dev accepts", async () => {
    const prod = await checks.get("prod-self-signed");
    assert.equal(prod?.code, 2, prod?.out);
    assert.match(prod.out, /self-signed/);
    const dev = await checks.get("dev-self-signed");
    assert.equal(dev?.code, 0, dev?.out);
  });

  test("dev: the kubelet's probes and Prometheus' scrape get what the Deployment expects; SIGTERM drains", async (t) => {
    const config = podFiles(join(TMP, "dev-live"), "dev", "dev_token: deploy-test-token-0123456789\n");
    const { child, url } = await startServe(config);
    t.after(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await probe(`${url}/healthz`)).status, 200);
    assert.equal((await probe(`${url}/readyz`)).status, 200);
    const metrics = await probe(`${url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^assay_ready 1$/m);
    assert.match(metrics.body, /^assay_policies_loaded 1$/m);
    const started = Date.now();
    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 0, "exit 0 after a drain");
    const drained = (Date.now() - started) / 1000;
    assert.ok(
      drained < TERMINATION_GRACE_S - PRESTOP_SLEEP_S,
      `drained in ${drained}s, before SIGKILL would come`,
    );
  });
});
