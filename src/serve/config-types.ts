/**
 * The decision service's configuration after loading (config.ts): validated against
 * schemas/serve-config.schema.json, paths resolved against the config file's folder, defaults
 * filled in. Every module of src/serve reads its part from here.
 */

/** What a token must allow for a route; mapped to the IdP's scope strings by `AuthConfig.scopes`. */
export type Permission = "verify" | "read" | "compile";

export type Profile = "dev" | "prod";

export interface AuthConfig {
  /** The IdP's issuer (`iss`); required in prod. Absent only in dev with a dev token. */
  readonly issuer?: string;
  /** The expected `aud`. Required whenever `issuer` is set. */
  readonly audience?: string;
  /** The JWKS URL; when absent, read from `${issuer}/.well-known/openid-configuration`. */
  readonly jwks_uri?: string;
  /** Allowed JWS algorithms (asymmetric only; never `none`, never HS*). */
  readonly algorithms: readonly string[];
  /** Tolerance for `exp` / `nbf` / `iat`, seconds. */
  readonly clock_skew_seconds: number;
  /** How long fetched keys stay fresh, seconds. */
  readonly cache_ttl_seconds: number;
  /** Least time between two refetches caused by an unknown `kid`, seconds. */
  readonly refetch_min_interval_seconds: number;
  /** A JWKS fetch that takes longer fails, milliseconds. */
  readonly fetch_timeout_ms: number;
  /** Attempts per JWKS fetch (first try included) with exponential backoff between them. */
  readonly fetch_retries: number;
  /** Each permission's scope string at the IdP. */
  readonly scopes: Readonly<Record<Permission, string>>;
  /** A static bearer token with every permission: accepted only with `profile: dev`. */
  readonly dev_token?: string;
}

export interface MtlsConfig {
  readonly enabled: boolean;
  /** PEM bundle of the CAs that may sign client certificates. */
  readonly client_ca_file: string;
  /**
   * Allowed client identities: exact SAN values (`DNS:agent.example`, `URI:spiffe://...`,
   * `IP:10.0.0.1`, `email:a@b`) or a bare name matching any SAN's value. Empty: any certificate
   * from the CA.
   */
  readonly allowed_sans: readonly string[];
}

export interface TlsConfig {
  readonly cert_file: string;
  readonly key_file: string;
  /** Intermediate chain, when not in cert_file. */
  readonly ca_file?: string;
  readonly min_version: "TLSv1.2" | "TLSv1.3";
  /** OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are Node's defaults). */
  readonly ciphers: string;
  /** Watch the files and reload them without a restart. */
  readonly reload: boolean;
  readonly mtls?: MtlsConfig;
}

export interface RateLimitConfig {
  /** Requests per client (token subject, else address) per window; 0 turns limiting off. */
  readonly max: number;
  readonly window_seconds: number;
}

export interface PolicySource {
  /** The policy's id; the single pack's id when absent. Required for several packs. */
  readonly id?: string;
  /** Pack files, resolved to absolute paths. */
  readonly packs: readonly string[];
  /** `serve.yaml:line:col` of this entry, for a pack that cannot be read. */
  readonly where?: string;
}

export interface ServeConfig {
  /** The config file (absolute), for messages. */
  readonly source: string;
  readonly profile: Profile;
  readonly listen: { readonly host: string; readonly port: number };
  readonly policies: readonly PolicySource[];
  readonly auth: AuthConfig;
  readonly tls?: TlsConfig;
  readonly limits: {
    /** Largest request body, bytes; larger gets 413. */
    readonly body_bytes: number;
    readonly rate: RateLimitConfig;
    /** Longest a SIGTERM waits for in-flight requests, milliseconds. */
    readonly shutdown_grace_ms: number;
    /** Most policies loaded at once (config and POST /v1/policies together). */
    readonly max_policies: number;
  };
  readonly features: {
    /** Whether POST /v1/policies may compile and load packs while the service runs. */
    readonly runtime_policy_load: boolean;
  };
  readonly adaptive: { readonly plan_cache_size: number };
  readonly log_level: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}
