/**
 * A real OAuth2 / OpenID Connect provider on 127.0.0.1 for tests of `assay serve`: the request
 * handler, issuer and key store of oauth2-mock-server, behind a listener of ours so that tests can
 * break the key endpoints (HTTP 500, a hang, invalid JSON), count their hits, stop the provider
 * and bring it back on the same port.
 *
 * Tokens come from the provider's token endpoint (client credentials) or are signed with its key
 * store (odd claims); `forge` makes the tokens no provider would issue (HS256 with the public key
 * as secret, `alg: none`, a key the provider never published).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { base64url, type CryptoKey, exportSPKI, generateKeyPair, importJWK, SignJWT } from "jose";
import { type MutableToken, OAuth2Issuer, OAuth2Service } from "oauth2-mock-server";
import type { AuthLogger } from "../../src/serve/auth/authenticator.js";
import type { AuthConfig } from "../../src/serve/config-types.js";
import type { ServeMetrics } from "../../src/serve/metrics.js";

/** What the key endpoints do instead of answering. */
export type KeyEndpointFault = "none" | "500" | "hang" | "invalid-json";

/** Changes to a token: claims or header members set (undefined removes one), the client, the audience. */
export interface TokenOverrides {
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly header?: Readonly<Record<string, unknown>>;
  /** `sub` and `client_id`; `agent-1` by default. */
  readonly clientId?: string;
  readonly audience?: string | readonly string[];
}

export interface TestIdp {
  /** `http://127.0.0.1:<port>`, the `iss` of its tokens. */
  readonly issuer: string;
  readonly jwksUri: string;
  readonly discoveryUri: string;
  /** The `aud` its tokens carry unless overridden. */
  readonly audience: string;
  readonly port: number;
  /** The `kid` of the key it signs with now. */
  readonly kid: string;
  /** Requests each endpoint received, faults included. */
  readonly hits: { discovery: number; jwks: number; token: number };
  /** A token from the client-credentials flow: a real POST to the token endpoint. */
  token(scope?: string, overrides?: TokenOverrides): Promise<string>;
  /** A token signed with the provider's current key, for odd claims (`expiresIn` in seconds). */
  sign(scope?: string, overrides?: TokenOverrides & { expiresIn?: number }): Promise<string>;
  readonly forge: {
    /** HS256 with the provider's public key (SPKI PEM) as the HMAC secret: the algorithm confusion attack. */
    hs256(scope?: string): Promise<string>;
    /** `alg: none`, no signature. */
    none(scope?: string): string;
    /** RS256 with a key the provider never published, under `kid` (the current kid by default). */
    foreignKey(scope?: string, kid?: string): Promise<string>;
  };
  /** Replaces the key set with one new key (the old kid disappears); returns the new kid. */
  rotate(): Promise<string>;
  /** Makes the next `count` requests (all, by default) to an endpoint fail as `fault`; "none" heals it. */
  fault(fault: KeyEndpointFault, opts?: { count?: number; endpoint?: "jwks" | "discovery" }): void;
  /** Stops listening: connections are refused until `restart`. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

const DISCOVERY_PATH = "/.well-known/openid-configuration";
const JWKS_PATH = "/jwks";

type Fault = { kind: KeyEndpointFault; left: number };

/** Starts a provider on 127.0.0.1 with one RS256 key. */
export async function startIdp(opts: { audience?: string } = {}): Promise<TestIdp> {
  const audience = opts.audience ?? "assay-api";
  const hits = { discovery: 0, jwks: 0, token: 0 };
  const faults: Record<"jwks" | "discovery", Fault> = {
    jwks: { kind: "none", left: 0 },
    discovery: { kind: "none", left: 0 },
  };
  const pending = new Map<string, TokenOverrides>();
  let service: OAuth2Service | undefined;

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://idp").pathname;
    const endpoint = path === JWKS_PATH ? "jwks" : path === DISCOVERY_PATH ? "discovery" : undefined;
    if (endpoint !== undefined) hits[endpoint] += 1;
    if (path === "/token") hits.token += 1;
    if (endpoint !== undefined && takeFault(faults[endpoint], res)) return;
    if (service === undefined) {
      res.statusCode = 503;
      res.end();
      return;
    }
    service.requestHandler(req, res);
  });
  await listen(server, 0);
  const port = (server.address() as AddressInfo).port;
  const issuerUrl = `http://127.0.0.1:${port}`;

  let issuer = await newIssuer(issuerUrl);
  service = newService(issuer, pending);
  let kid = currentKid(issuer);

  const baseClaims = (scope: string | undefined, o: TokenOverrides): Record<string, unknown> => {
    const now = Math.floor(Date.now() / 1000);
    const clientId = o.clientId ?? "agent-1";
    return {
      iss: issuerUrl,
      aud: o.audience ?? audience,
      sub: clientId,
      client_id: clientId,
      iat: now,
      nbf: now - 10,
      exp: now + 3600,
      ...(scope === undefined ? {} : { scope }),
    };
  };

  const idp: TestIdp = {
    issuer: issuerUrl,
    jwksUri: `${issuerUrl}${JWKS_PATH}`,
    discoveryUri: `${issuerUrl}${DISCOVERY_PATH}`,
    audience,
    port,
    get kid() {
      return kid;
    },
    hits,
    async token(scope, overrides = {}) {
      const ref = randomUUID();
      pending.set(ref, overrides);
      const body = new URLSearchParams({
        grant_type: "client_credentials",
        client_id: overrides.clientId ?? "agent-1",
        fixture_ref: ref,
      });
      if (scope !== undefined) body.set("scope", scope);
      const aud = overrides.audience ?? audience;
      for (const a of typeof aud === "string" ? [aud] : aud) body.append("aud", a);
      const res = await fetch(`${issuerUrl}/token`, { method: "POST", body });
      const json = (await res.json()) as { access_token?: string };
      if (res.status !== 200 || typeof json.access_token !== "string") {
        throw new Error(`token endpoint answered ${res.status}: ${JSON.stringify(json)}`);
      }
      return json.access_token;
    },
    async sign(scope, overrides = {}) {
      return issuer.buildToken({
        kid,
        expiresIn: overrides.expiresIn,
        scopesOrTransform: (header, payload) => {
          Object.assign(payload, baseClaims(scope, overrides), { exp: payload.exp });
          apply({ header, payload }, overrides);
        },
      });
    },
    forge: {
      async hs256(scope) {
        const jwk = issuer.keys.toJSON().find((k) => k.kid === kid);
        if (jwk === undefined) throw new Error("no current key");
        const pub = await importJWK(jwk, jwk.alg, { extractable: true });
        const pem = await exportSPKI(pub as CryptoKey);
        return new SignJWT(baseClaims(scope, {}))
          .setProtectedHeader({ alg: "HS256", typ: "JWT", kid })
          .sign(new TextEncoder().encode(pem));
      },
      none(scope) {
        const part = (v: unknown) => base64url.encode(JSON.stringify(v));
        return `${part({ alg: "none", typ: "JWT" })}.${part(baseClaims(scope, {}))}.`;
      },
      async foreignKey(scope, foreignKid) {
        const { privateKey } = await generateKeyPair("RS256");
        return new SignJWT(baseClaims(scope, {}))
          .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: foreignKid ?? kid })
          .sign(privateKey);
      },
    },
    async rotate() {
      issuer = await newIssuer(issuerUrl);
      service = newService(issuer, pending);
      kid = currentKid(issuer);
      return kid;
    },
    fault(kind, o = {}) {
      faults[o.endpoint ?? "jwks"] = { kind, left: o.count ?? Number.POSITIVE_INFINITY };
    },
    async stop() {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
    async restart() {
      if (!server.listening) await listen(server, port);
    },
    async close() {
      await idp.stop();
    },
  };
  return idp;
}

/** An auth config for a provider, with test-sized TTLs and timeouts; `overrides` win. */
export function idpAuthConfig(idp: TestIdp, overrides: Partial<AuthConfig> = {}): AuthConfig {
  return {
    issuer: idp.issuer,
    audience: idp.audience,
    jwks_uri: idp.jwksUri,
    algorithms: ["RS256", "ES256"],
    clock_skew_seconds: 30,
    cache_ttl_seconds: 3600,
    refetch_min_interval_seconds: 30,
    fetch_timeout_ms: 300,
    fetch_retries: 1,
    scopes: { verify: "assay.verify", read: "assay.read", compile: "assay.compile" },
    ...overrides,
  };
}

async function newIssuer(url: string): Promise<OAuth2Issuer> {
  const issuer = new OAuth2Issuer();
  issuer.url = url;
  await issuer.keys.generate("RS256");
  return issuer;
}

function currentKid(issuer: OAuth2Issuer): string {
  const kid = issuer.keys.toJSON()[0]?.kid;
  if (kid === undefined) throw new Error("the issuer has no key");
  return kid;
}

/** The provider's service, with `sub` and `client_id` in client-credentials tokens as real IdPs put them. */
function newService(issuer: OAuth2Issuer, pending: Map<string, TokenOverrides>): OAuth2Service {
  const service = new OAuth2Service(issuer);
  service.on("beforeTokenSigning", (token: MutableToken, req: IncomingMessage & { body?: unknown }) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const clientId = typeof body.client_id === "string" ? body.client_id : "agent-1";
    Object.assign(token.payload, { sub: clientId, client_id: clientId });
    const ref = String(body.fixture_ref);
    apply(token, pending.get(ref) ?? {});
    pending.delete(ref);
  });
  return service;
}

function apply(token: MutableToken, o: TokenOverrides): void {
  for (const [target, changes] of [
    [token.payload, o.claims],
    [token.header, o.header],
  ] as const) {
    for (const [k, v] of Object.entries(changes ?? {})) {
      if (v === undefined) delete (target as Record<string, unknown>)[k];
      else (target as Record<string, unknown>)[k] = v;
    }
  }
}

function takeFault(fault: Fault, res: ServerResponse): boolean {
  if (fault.kind === "none" || fault.left <= 0) return false;
  fault.left -= 1;
  if (fault.kind === "hang") return true; // never answered; stop() or close() drops the connection
  if (fault.kind === "500") {
    res.writeHead(500, { "content-type": "application/json" }).end('{"error":"server_error"}');
  } else {
    res.writeHead(200, { "content-type": "application/json" }).end('{"keys": [');
  }
  return true;
}

function listen(server: ReturnType<typeof createServer>, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}

// Helpers for tests that drive an authenticator against the provider.

/** The value of one Prometheus series (0 when absent), read from the registry's text output. */
export async function sample(metrics: ServeMetrics, name: string, labels = ""): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString(name);
  const series = labels === "" ? name : `${name}{${labels}}`;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return 0;
}

/** A logger that keeps every line, to assert on what an operator would read. */
export function memoryLog(): AuthLogger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (fields: Record<string, unknown>, msg: string) =>
    lines.push(`${msg} ${JSON.stringify(fields)}`);
  return { lines, info: keep, warn: keep };
}

/** A settable clock in milliseconds, starting at the real time (tokens carry real timestamps). */
export function testClock(): { now: () => number; advance(seconds: number): void } {
  let t = Date.now();
  return {
    now: () => t,
    advance(seconds) {
      t += seconds * 1000;
    },
  };
}

/** Waits until `cond` holds, polling; fails after `ms`. */
export async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
