import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import type { ErrorObject } from "ajv";
import { AssayError, type Diagnostic } from "../lib/errors.js";
import { readTextFile, strictUtf8Text } from "../lib/read-text.js";
import { schemaValidator } from "../lib/schema-validator.js";
import { parseStrictYaml, type StrictYaml } from "../lib/strict-yaml.js";
import { schemaErrorText } from "../policy/schema-error-text.js";
import type { AuthConfig, Permission, PolicySource, ServeConfig, TlsConfig } from "./config-types.js";
import { DEFAULT_CIPHERS } from "./tls/ciphers.js";

export const DEFAULT_ALGORITHMS = ["RS256", "ES256", "PS256", "EdDSA"] as const;
export const DEFAULT_SCOPES: Readonly<Record<Permission, string>> = Object.freeze({
  verify: "verify:run",
  read: "policy:read",
  compile: "policy:compile",
});

/**
 * Read, validate and resolve a serve.yaml (schemas/serve-config.schema.json): every problem is
 * `serve_config_invalid` at `file:line:col`, with the profile's rules (prod: a real issuer, TLS, no
 * dev token) checked here so a bad config never starts listening.
 */
export async function loadServeConfig(
  path: string,
  overrides: { listen?: string } = {},
): Promise<ServeConfig> {
  const source = resolve(path);
  const doc = parseStrictYaml(
    await readTextFile(source, "serve_config_invalid", "config", "serve_config_invalid"),
    source,
    "serve_config_invalid",
  );
  checkSchema("serve-config", doc, [], doc.value);
  const raw = doc.value as RawConfig;
  const base = dirname(source);
  const at = (...segments: string[]) => doc.at(segments);
  const fail = (where: string, message: string): never => {
    throw new AssayError("serve_config_invalid", message, { where });
  };

  let authDoc: StrictYaml = doc;
  let authPath: string[] = ["auth"];
  let rawAuth: unknown = raw.auth;
  if (typeof raw.auth === "string") {
    const file = resolve(base, raw.auth);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      // Named at the line that refers to it: that is what the person fixing it edits.
      throw new AssayError(
        "serve_config_invalid",
        `cannot read auth config ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`,
        { where: at("auth"), cause: err },
      );
    }
    const text = strictUtf8Text(bytes, file, "serve_config_invalid", "auth config");
    authDoc = parseStrictYaml(text, file, "serve_config_invalid");
    authPath = [];
    rawAuth = authDoc.value;
  }
  checkSchema("serve-auth", authDoc, authPath, rawAuth);
  const auth = authConfig(rawAuth as RawAuth);
  const authAt = (key: string) => authDoc.at([...authPath, key]);

  const profile = raw.profile;
  if (auth.issuer !== undefined && auth.audience === undefined)
    fail(authAt("issuer"), "`audience` is required with `issuer`");
  if (auth.issuer === undefined && auth.dev_token === undefined) {
    fail(authAt(""), "auth needs an `issuer` (or, with profile dev, a `dev_token`)");
  }
  if (raw.limits?.max_policies !== undefined && raw.limits.max_policies < raw.policies.length) {
    fail(
      at("limits", "max_policies"),
      `${raw.policies.length} policies are configured, more than max_policies allows`,
    );
  }
  if (profile === "prod") {
    if (auth.issuer === undefined)
      fail(authAt(""), "profile prod needs a real issuer: set `auth.issuer` and `auth.audience`");
    if (auth.dev_token !== undefined)
      fail(authAt("dev_token"), "`dev_token` is accepted only with profile dev");
    if (raw.tls === undefined) fail(at("profile"), "profile prod needs `tls` (cert_file and key_file)");
    for (const key of ["issuer", "jwks_uri"] as const) {
      const url = auth[key];
      if (url !== undefined && !url.startsWith("https://"))
        fail(authAt(key), `profile prod needs an https \`${key}\``);
    }
  }

  const listenText =
    overrides.listen ?? raw.listen ?? (profile === "prod" ? "0.0.0.0:8443" : "127.0.0.1:8080");
  const listen = parseListen(listenText);
  if (listen === undefined) {
    if (overrides.listen !== undefined)
      throw new AssayError("usage", `--listen \`${overrides.listen}\` is not host:port`);
    fail(at("listen"), `\`${listenText}\` is not host:port (port 0-65535)`);
  }

  const policies: PolicySource[] = raw.policies.map((p, i) =>
    typeof p === "string"
      ? { packs: [resolve(base, p)], where: at("policies", String(i)) }
      : {
          ...(p.id === undefined ? {} : { id: p.id }),
          packs: p.packs.map((f) => resolve(base, f)),
          where: at("policies", String(i)),
        },
  );
  raw.policies.forEach((p, i) => {
    if (typeof p !== "string" && p.packs.length > 1 && p.id === undefined) {
      fail(at("policies", String(i)), "a policy of several packs needs an `id`");
    }
  });

  return Object.freeze({
    source,
    profile,
    listen: listen as { host: string; port: number },
    policies,
    auth,
    ...(raw.tls === undefined ? {} : { tls: tlsConfig(raw.tls, base) }),
    limits: {
      body_bytes: raw.limits?.body_bytes ?? 1_048_576,
      rate: { max: raw.limits?.rate?.max ?? 0, window_seconds: raw.limits?.rate?.window_seconds ?? 60 },
      shutdown_grace_ms: raw.limits?.shutdown_grace_ms ?? 10_000,
      max_policies: raw.limits?.max_policies ?? 256,
    },
    // Off in prod unless asked for: a deployment decides with the policies it was reviewed with.
    features: { runtime_policy_load: raw.features?.runtime_policy_load ?? profile === "dev" },
    adaptive: { plan_cache_size: raw.adaptive?.plan_cache_size ?? 1024 },
    log_level: raw.log_level ?? "info",
  });
}

/** `host:port` or `[v6]:port`; undefined when it is neither or the port is out of range. */
export function parseListen(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):([0-9]{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: (m[1] ?? m[2]) as string, port };
}

function authConfig(a: RawAuth): AuthConfig {
  return Object.freeze({
    ...(a.issuer === undefined ? {} : { issuer: a.issuer }),
    ...(a.audience === undefined ? {} : { audience: a.audience }),
    ...(a.jwks_uri === undefined ? {} : { jwks_uri: a.jwks_uri }),
    algorithms: a.algorithms ?? [...DEFAULT_ALGORITHMS],
    clock_skew_seconds: a.clock_skew_seconds ?? 30,
    cache_ttl_seconds: a.cache_ttl_seconds ?? 600,
    refetch_min_interval_seconds: a.refetch_min_interval_seconds ?? 30,
    fetch_timeout_ms: a.fetch_timeout_ms ?? 2000,
    fetch_retries: a.fetch_retries ?? 3,
    scopes: { ...DEFAULT_SCOPES, ...a.scopes },
    ...(a.dev_token === undefined ? {} : { dev_token: a.dev_token }),
  });
}

function tlsConfig(t: RawTls, base: string): TlsConfig {
  const file = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  return Object.freeze({
    cert_file: file(t.cert_file),
    key_file: file(t.key_file),
    ...(t.ca_file === undefined ? {} : { ca_file: file(t.ca_file) }),
    min_version: t.min_version ?? "TLSv1.2",
    ciphers: t.ciphers ?? DEFAULT_CIPHERS,
    reload: t.reload ?? true,
    ...(t.mtls === undefined
      ? {}
      : {
          mtls: {
            enabled: t.mtls.enabled,
            client_ca_file: t.mtls.client_ca_file === undefined ? "" : file(t.mtls.client_ca_file),
            allowed_sans: t.mtls.allowed_sans ?? [],
          },
        }),
  });
}

function checkSchema(
  name: "serve-config" | "serve-auth",
  doc: StrictYaml,
  prefix: string[],
  value: unknown,
): void {
  const validate = schemaValidator(name);
  if (validate(value)) return;
  const diagnostics: Diagnostic[] = (validate.errors ?? [])
    .filter((e: ErrorObject) => e.keyword !== "if")
    .map((e: ErrorObject) => {
      const { pointer, message } = schemaErrorText(e);
      const segments = pointer
        .split("/")
        .slice(1)
        .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
      const shown = [...prefix, ...segments].join(".");
      return {
        code: "serve_config_invalid" as const,
        message: shown ? `${shown}: ${message}` : message,
        where: doc.at([...prefix, ...segments]),
      };
    });
  throw AssayError.fromDiagnostics(diagnostics);
}

interface RawTls {
  cert_file: string;
  key_file: string;
  ca_file?: string;
  min_version?: "TLSv1.2" | "TLSv1.3";
  ciphers?: string;
  reload?: boolean;
  mtls?: { enabled: boolean; client_ca_file?: string; allowed_sans?: string[] };
}

interface RawAuth {
  issuer?: string;
  audience?: string;
  jwks_uri?: string;
  algorithms?: string[];
  clock_skew_seconds?: number;
  cache_ttl_seconds?: number;
  refetch_min_interval_seconds?: number;
  fetch_timeout_ms?: number;
  fetch_retries?: number;
  scopes?: Partial<Record<Permission, string>>;
  dev_token?: string;
}

interface RawConfig {
  profile: "dev" | "prod";
  listen?: string;
  policies: (string | { id?: string; packs: string[] })[];
  auth: RawAuth | string;
  tls?: RawTls;
  limits?: {
    body_bytes?: number;
    rate?: { max: number; window_seconds?: number };
    shutdown_grace_ms?: number;
    max_policies?: number;
  };
  features?: { runtime_policy_load?: boolean };
  adaptive?: { plan_cache_size?: number };
  log_level?: ServeConfig["log_level"];
}
