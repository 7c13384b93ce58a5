import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../run-assay.js";
import type { Environment } from "./kustomize.js";
import { DEPLOY } from "./tools.js";

export const OPENSSL = "/usr/bin/openssl";

/** Why the pod's files cannot be made here, or undefined when they can. */
export function podFilesMissing(): string | undefined {
  if (!existsSync(OPENSSL)) return "openssl not installed (Debian package openssl)";
  if (!existsSync(join(ROOT, "dist/cli-bundle/main.js"))) return "dist/ not built (npm run build)";
  return undefined;
}

function openssl(args: readonly string[]): void {
  execFileSync(OPENSSL, args, { stdio: "ignore", timeout: 20_000 });
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/**
 * The files a pod of `env` sees, laid out under `root` as the Deployment mounts them: the
 * overlay's serve.yaml, a server certificate from a test CA (profile prod refuses a self-signed
 * one) as the assay-serve-tls secret, that CA as the client CA, and `auth` (default: the example
 * auth.yaml) as the assay-serve-auth secret. The image's /app is this repository. Returns the
 * path of serve.yaml.
 */
export function podFiles(root: string, env: Environment, auth?: string): string {
  const etc = join(root, "etc/assay");
  const pki = join(root, "pki");
  for (const d of ["tls", "client-ca", "auth"]) mkdirSync(join(etc, d), { recursive: true });
  mkdirSync(pki, { recursive: true });
  const days = ["-days", "2"];
  openssl([
    "req",
    "-x509",
    ...EC,
    ...days,
    "-subj",
    "/CN=assay test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    "-keyout",
    join(pki, "ca.key"),
    "-out",
    join(pki, "ca.crt"),
  ]);
  openssl([
    "req",
    ...EC,
    "-subj",
    "/CN=assay-serve",
    "-keyout",
    join(etc, "tls/tls.key"),
    "-out",
    join(pki, "tls.csr"),
  ]);
  writeFileSync(
    join(pki, "ext"),
    "subjectAltName=DNS:assay-serve,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
  );
  openssl([
    "x509",
    "-req",
    "-in",
    join(pki, "tls.csr"),
    "-CA",
    join(pki, "ca.crt"),
    "-CAkey",
    join(pki, "ca.key"),
    "-CAcreateserial",
    ...days,
    "-extfile",
    join(pki, "ext"),
    "-out",
    join(etc, "tls/tls.crt"),
  ]);
  copyFileSync(join(pki, "ca.crt"), join(etc, "client-ca/ca.crt"));
  if (auth === undefined)
    copyFileSync(join(DEPLOY, "kubernetes/examples/auth.yaml"), join(etc, "auth/auth.yaml"));
  else writeFileSync(join(etc, "auth/auth.yaml"), auth);
  const serve = readFileSync(join(DEPLOY, "kubernetes/overlays", env, "serve.yaml"), "utf8")
    .replaceAll("/etc/assay/", `${etc}/`)
    .replaceAll("/app/", `${ROOT}/`);
  writeFileSync(join(etc, "serve.yaml"), serve);
  return join(etc, "serve.yaml");
}
