import { createLocalJWKSet, type JWTVerifyGetKey } from "jose";
import type { AuthConfig } from "../config-types.js";
import type { ServeMetrics } from "../metrics.js";
import { backoffMs, pause } from "./backoff.js";
import { fetchKeySet, type KeySource } from "./jwks-fetch.js";

/** Where auth writes what an operator needs (fastify's and pino's loggers fit). Never a token. */
export interface AuthLogger {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
}

/** Why a refresh is asked for; the rate limits depend on it. */
export type RefreshReason = "start" | "expired" | "ahead" | "unknown_kid";

/** Keys to verify with, and which fetch they came from (to tell whether a refresh brought new ones). */
export interface KeySnapshot {
  readonly keys: JWTVerifyGetKey;
  readonly version: number;
}

export interface JwksCacheDeps {
  readonly metrics: ServeMetrics;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  readonly fetch: typeof fetch;
  readonly log?: AuthLogger;
}

// Past this share of the TTL a request or probe starts a background refresh, so that keys are
// renewed before they expire and a short IdP outage near the end of the TTL goes unnoticed.
const REFRESH_AHEAD = 0.75;

/**
 * The issuer's signing keys, fetched with retries and kept for `cache_ttl_seconds`.
 *
 * Keys older than the TTL are never used (no stale window): when the IdP cannot be reached by
 * then, requests fail closed with 503 until a fetch succeeds. Fetches are rate limited: after a
 * failed refresh, and for refetches caused by an unknown `kid`, at most one per
 * `refetch_min_interval_seconds`, counted from the end of the previous one. Callers share the
 * fetch in flight.
 */
export class JwksCache {
  readonly #source: KeySource;
  readonly #cfg: AuthConfig;
  readonly #deps: JwksCacheDeps;
  readonly #closing = new AbortController();
  #cached?: { keys: JWTVerifyGetKey; fetchedAt: number; version: number };
  #version = 0;
  #lastAttemptEnd?: number;
  #lastOk = false;
  #inflight?: Promise<void>;

  constructor(source: KeySource, cfg: AuthConfig, deps: JwksCacheDeps) {
    this.#source = source;
    this.#cfg = cfg;
    this.#deps = deps;
  }

  /** Keys younger than the TTL, or undefined. */
  fresh(): KeySnapshot | undefined {
    const c = this.#cached;
    if (c === undefined || this.#age(c) >= this.#cfg.cache_ttl_seconds * 1000) return undefined;
    return { keys: c.keys, version: c.version };
  }

  /**
   * Fresh keys only: readiness never claims what a request would be refused for. Probes call
   * maintain() first, which renews keys from 75% of their TTL on, so an idle service stays ready.
   */
  ready(): boolean {
    return this.fresh() !== undefined;
  }

  /** Starts a background refresh when keys are missing or near the end of their TTL. */
  maintain(): void {
    const c = this.#cached;
    if (c !== undefined && this.#age(c) < this.#cfg.cache_ttl_seconds * 1000 * REFRESH_AHEAD) return;
    void this.refresh("ahead");
  }

  /** Fetches the keys unless a rate limit says no; resolves when done, never rejects. */
  refresh(reason: RefreshReason): Promise<void> {
    if (this.#closing.signal.aborted) return Promise.resolve();
    if (this.#inflight !== undefined) return this.#inflight;
    if (!this.#mayFetch(reason)) return Promise.resolve();
    const run = this.#cycle(reason).finally(() => {
      this.#inflight = undefined;
    });
    this.#inflight = run;
    return run;
  }

  /** Aborts a fetch or backoff in flight; later refreshes do nothing. */
  close(): void {
    this.#closing.abort();
  }

  #age(c: { fetchedAt: number }): number {
    return this.#deps.now() - c.fetchedAt;
  }

  #mayFetch(reason: RefreshReason): boolean {
    const last = this.#lastAttemptEnd;
    if (reason === "start" || last === undefined) return true;
    if (this.#deps.now() - last >= this.#cfg.refetch_min_interval_seconds * 1000) return true;
    // Inside the interval, only renewing keys that are due after a success, which happens at
    // most once per TTL: never an unknown kid (an attacker picks those), never after a failure.
    const c = this.#cached;
    return (
      reason !== "unknown_kid" &&
      this.#lastOk &&
      c !== undefined &&
      this.#age(c) >= this.#cfg.cache_ttl_seconds * 1000 * REFRESH_AHEAD
    );
  }

  async #cycle(reason: RefreshReason): Promise<void> {
    const { metrics, log } = this.#deps;
    const signal = this.#closing.signal;
    const attempts = Math.max(1, Math.floor(this.#cfg.fetch_retries));
    let error = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1 && !(await pause(backoffMs(attempt - 1), signal))) return;
      try {
        const deps = { fetch: this.#deps.fetch, timeoutMs: this.#cfg.fetch_timeout_ms, signal };
        const { keys, uri } = await fetchKeySet(this.#source, deps);
        this.#cached = {
          keys: createLocalJWKSet(keys),
          fetchedAt: this.#deps.now(),
          version: ++this.#version,
        };
        this.#lastOk = true;
        this.#lastAttemptEnd = this.#deps.now();
        metrics.jwksRefresh("ok", keys.keys.length);
        log?.info({ jwks_uri: uri, keys: keys.keys.length, reason, attempt }, "jwks refreshed");
        return;
      } catch (err) {
        // Closing is not an IdP failure: nothing to count or report.
        if (signal.aborted) return;
        error = err instanceof Error ? err.message : String(err);
        metrics.jwksRefresh("error");
        log?.warn({ reason, attempt, attempts, error }, "jwks fetch failed");
      }
    }
    this.#lastOk = false;
    this.#lastAttemptEnd = this.#deps.now();
    const fresh = this.fresh() !== undefined;
    log?.warn(
      {
        reason,
        attempts,
        error,
        retry_after_seconds: this.#cfg.refetch_min_interval_seconds,
        cached_keys_fresh: fresh,
      },
      fresh
        ? "jwks refresh failed: verifying with the cached keys until they expire"
        : "jwks refresh failed: no fresh keys, protected routes answer 503",
    );
  }
}
