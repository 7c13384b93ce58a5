import type { JSONWebKeySet, JWK } from "jose";

/** What one fetch needs from the world; `signal` aborts it when the service closes. */
export interface FetchDeps {
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Refuse any URL, and any redirect target, that is not https (the prod profile). */
  readonly httpsOnly?: boolean;
}

/** Where keys come from: the issuer, a configured `jwks_uri`, and whether only https will do. */
export interface KeySource {
  readonly issuer: string;
  readonly jwks_uri?: string | undefined;
  /** Keys fetched over plain http could be replaced in transit: prod accepts https only. */
  readonly https_only?: boolean;
}

// A key set is a few KiB; refusing more keeps a broken or hostile endpoint from filling memory.
const MAX_BODY_BYTES = 1024 * 1024;

// Key types that verify signatures with a public key; `oct` (a shared secret) never belongs here.
const PUBLIC_KTY = new Set(["RSA", "EC", "OKP", "AKP"]);
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "priv", "k"];

/** GET a JSON document with a timeout; throws an Error whose message names the URL and what failed. */
export async function fetchJson(url: string, deps: FetchDeps): Promise<unknown> {
  if (deps.httpsOnly && !url.startsWith("https://")) throw new Error(`\`${url}\`: not https (profile prod)`);
  const signal = AbortSignal.any([deps.signal, AbortSignal.timeout(deps.timeoutMs)]);
  let res: Response;
  try {
    res = await deps.fetch(url, { signal, headers: { accept: "application/json" } });
  } catch (err) {
    const why =
      signal.aborted && !deps.signal.aborted ? `timed out after ${deps.timeoutMs} ms` : causeOf(err);
    throw new Error(`\`${url}\`: ${why}`);
  }
  if (deps.httpsOnly && res.url !== "" && !res.url.startsWith("https://")) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`\`${url}\`: redirected to a URL that is not https (profile prod)`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`\`${url}\`: http ${res.status}`);
  }
  const text = await readCapped(res, url);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`\`${url}\`: the body is not JSON`);
  }
}

async function readCapped(res: Response, url: string): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const step = await reader.read().catch((err: unknown) => {
      throw new Error(`\`${url}\`: ${causeOf(err)}`);
    });
    if (step.done) break;
    size += step.value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`\`${url}\`: the body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(step.value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

// fetch wraps socket errors (ECONNREFUSED...) in a bare "fetch failed"; the cause says which.
function causeOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause =
    err.cause instanceof Error ? `: ${(err.cause as NodeJS.ErrnoException).code ?? err.cause.message}` : "";
  return `${err.message}${cause}`;
}

/** The issuer's discovery document (OpenID Connect Discovery 1.0 §4). */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
}

/** The `jwks_uri` a discovery document names, after checking that it speaks for `issuer` (§4.3). */
export function jwksUriOf(doc: unknown, issuer: string, from: string): string {
  const d = (typeof doc === "object" && doc !== null ? doc : {}) as Record<string, unknown>;
  if (d.issuer !== issuer) {
    throw new Error(`\`${from}\`: its \`issuer\` is \`${String(d.issuer)}\`, not \`${issuer}\``);
  }
  const uri = d.jwks_uri;
  if (typeof uri !== "string" || !URL.canParse(uri) || !/^https?:$/.test(new URL(uri).protocol)) {
    throw new Error(`\`${from}\`: no http(s) \`jwks_uri\``);
  }
  return uri;
}

/**
 * The keys of a JWKS document that can verify a signature: public, of an asymmetric type, not
 * marked for encryption. A document without a `keys` array is an error; an empty one is not
 * (an IdP may withdraw every key).
 */
export function signingKeys(doc: unknown, from: string): JSONWebKeySet {
  const keys = (
    typeof doc === "object" && doc !== null ? (doc as Record<string, unknown>).keys : undefined
  ) as unknown;
  if (!Array.isArray(keys)) throw new Error(`\`${from}\`: not a JWK set (no \`keys\` array)`);
  const usable = keys.filter(
    (k): k is JWK =>
      typeof k === "object" &&
      k !== null &&
      PUBLIC_KTY.has((k as JWK).kty ?? "") &&
      (k as JWK).use !== "enc" &&
      PRIVATE_MEMBERS.every((m) => !(m in k)),
  );
  return { keys: usable };
}

/** One fetch of the key set: discovery first when no `jwks_uri` is configured. */
export async function fetchKeySet(
  source: KeySource,
  deps: FetchDeps,
): Promise<{ keys: JSONWebKeySet; uri: string }> {
  deps = { ...deps, httpsOnly: source.https_only === true };
  let uri = source.jwks_uri;
  if (uri === undefined) {
    const from = discoveryUrl(source.issuer);
    uri = jwksUriOf(await fetchJson(from, deps), source.issuer, from);
  }
  return { keys: signingKeys(await fetchJson(uri, deps), uri), uri };
}
