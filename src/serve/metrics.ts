import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { type AdaptMetrics, promAdaptMetrics } from "../adapt/metrics.js";

/** The routes metrics name: a closed set, so labels stay bounded. */
export type RouteName = "verify" | "adapt" | "policies_list" | "policies_get" | "policies_load";

/**
 * How a request on a /v1 route ended: the verdict for verify (`allow`, `warn`, `deny`), `ok` for
 * the other routes, else the failure class. Closed set.
 */
export type Outcome =
  | "allow"
  | "warn"
  | "deny"
  | "ok"
  | "invalid" // 400, 404, 413, 415
  | "unauthorized" // 401
  | "forbidden" // 403
  | "rate_limited" // 429
  | "unavailable" // 503 (fail closed: no usable key, draining)
  | "error"; // any other 5xx

/** Why a request was refused before reaching its route. Closed set. */
export type AuthFailureReason =
  | "missing"
  | "malformed"
  | "expired"
  | "not_yet_valid"
  | "wrong_issuer"
  | "wrong_audience"
  | "bad_signature"
  | "unknown_kid"
  | "bad_algorithm"
  | "insufficient_scope"
  | "idp_unavailable"
  | "mtls_no_cert"
  | "mtls_untrusted"
  | "mtls_san";

export type CacheName = "compiled" | "plan";

// Verify answers in tens of microseconds to milliseconds; 0.5 s is the seed's alert threshold.
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const COMPILE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Everything the service counts. Labels are closed sets: no rule ids, subjects or tokens. */
export interface ServeMetrics {
  readonly registry: Registry;
  readonly adapt: AdaptMetrics;
  request(route: RouteName, outcome: Outcome, seconds: number): void;
  compiled(outcome: "ok" | "error", seconds: number): void;
  cache(cache: CacheName, hit: boolean): void;
  authFailure(reason: AuthFailureReason): void;
  jwksRefresh(outcome: "ok" | "error", keys?: number): void;
  policiesLoaded(count: number): void;
  ready(ready: boolean): void;
  tlsReload(outcome: "ok" | "error"): void;
  /** When the served certificate expires (Unix seconds): an alert sees a renewal that never came. */
  certificateExpiry(unixSeconds: number): void;
}

/** The service's metrics on a fresh registry, with Node's process metrics and the planner's. */
export function createServeMetrics(version: string): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const reg = [registry];
  new Gauge({
    name: "assay_build_info",
    help: "Always 1; the version label says which build runs",
    labelNames: ["version"] as const,
    registers: reg,
  }).set({ version }, 1);
  const requests = new Counter({
    name: "assay_verify_requests_total",
    help: "Requests to the /v1 routes by route and outcome (the verdict for verify)",
    labelNames: ["route", "outcome"] as const,
    registers: reg,
  });
  const duration = new Histogram({
    name: "assay_verify_duration_seconds",
    help: "Time to answer a /v1 request, from its arrival to the reply, by route",
    labelNames: ["route"] as const,
    buckets: DURATION_BUCKETS,
    registers: reg,
  });
  const compiles = new Counter({
    name: "assay_policy_compile_total",
    help: "Policy compilations (config load and POST /v1/policies) by outcome",
    labelNames: ["outcome"] as const,
    registers: reg,
  });
  const compileDuration = new Histogram({
    name: "assay_policy_compile_duration_seconds",
    help: "Time to load and compile one policy",
    buckets: COMPILE_BUCKETS,
    registers: reg,
  });
  const hits = new Counter({
    name: "assay_policy_cache_hits_total",
    help: "Lookups answered from a cache: compiled (a pack already compiled) or plan (an adaptive plan already built)",
    labelNames: ["cache"] as const,
    registers: reg,
  });
  const misses = new Counter({
    name: "assay_policy_cache_misses_total",
    help: "Lookups that had to compile or plan",
    labelNames: ["cache"] as const,
    registers: reg,
  });
  const authFailures = new Counter({
    name: "assay_auth_failures_total",
    help: "Requests refused by authentication or authorisation, by reason",
    labelNames: ["reason"] as const,
    registers: reg,
  });
  const jwks = new Counter({
    name: "assay_jwks_refresh_total",
    help: "JWKS fetches by outcome (each retry counted)",
    labelNames: ["outcome"] as const,
    registers: reg,
  });
  const jwksKeys = new Gauge({ name: "assay_jwks_keys", help: "Keys in the JWKS cache", registers: reg });
  const jwksLastOk = new Gauge({
    name: "assay_jwks_last_success_timestamp_seconds",
    help: "When the JWKS was last fetched successfully (Unix seconds)",
    registers: reg,
  });
  const policies = new Gauge({
    name: "assay_policies_loaded",
    help: "Policies loaded and ready to decide",
    registers: reg,
  });
  const readyGauge = new Gauge({ name: "assay_ready", help: "1 when /readyz answers ready", registers: reg });
  const tls = new Counter({
    name: "assay_tls_reloads_total",
    help: "Certificate reloads after their files changed, by outcome",
    labelNames: ["outcome"] as const,
    registers: reg,
  });
  const certExpiry = new Gauge({
    name: "assay_tls_certificate_expiry_timestamp_seconds",
    help: "When the served TLS certificate expires (Unix seconds); absent without TLS",
    registers: reg,
  });
  // Pre-create the series a dashboard or alert divides by, so they read 0 rather than nothing.
  for (const cache of ["compiled", "plan"] as const) {
    hits.inc({ cache }, 0);
    misses.inc({ cache }, 0);
  }
  for (const outcome of ["ok", "error"] as const) {
    jwks.inc({ outcome }, 0);
    compiles.inc({ outcome }, 0);
    tls.inc({ outcome }, 0);
  }
  return {
    registry,
    adapt: promAdaptMetrics(registry),
    request(route, outcome, seconds) {
      requests.inc({ route, outcome });
      duration.observe({ route }, seconds);
    },
    compiled(outcome, seconds) {
      compiles.inc({ outcome });
      if (outcome === "ok") compileDuration.observe(seconds);
    },
    cache(cache, hit) {
      (hit ? hits : misses).inc({ cache });
    },
    authFailure(reason) {
      authFailures.inc({ reason });
    },
    jwksRefresh(outcome, keys) {
      jwks.inc({ outcome });
      if (outcome === "ok") {
        jwksLastOk.set(Date.now() / 1000);
        if (keys !== undefined) jwksKeys.set(keys);
      }
    },
    policiesLoaded(count) {
      policies.set(count);
    },
    ready(ready) {
      readyGauge.set(ready ? 1 : 0);
    },
    tlsReload(outcome) {
      tls.inc({ outcome });
    },
    certificateExpiry(unixSeconds) {
      certExpiry.set(unixSeconds);
    },
  };
}
