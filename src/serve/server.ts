import type { Server as TlsServer } from "node:tls";
import type { FastifyInstance } from "fastify";
import { PlanCache } from "../adapt/plan-cache.js";
import { AssayError, formatDiagnostic } from "../lib/errors.js";
import { PACKAGE } from "../lib/package-info.js";
import { buildApp } from "./app.js";
import { type Authenticator, createAuthenticator } from "./auth/authenticator.js";
import type { ServeConfig } from "./config-types.js";
import { createServeMetrics, type ServeMetrics } from "./metrics.js";
import { PolicyStore } from "./policy-store.js";
import { loadTls } from "./tls/load.js";
import { watchTls } from "./tls/watch.js";

/** A running decision service. */
export interface RunningService {
  readonly app: FastifyInstance;
  readonly metrics: ServeMetrics;
  readonly store: PolicyStore;
  /** `http://host:port` or `https://host:port`, with the port actually bound. */
  readonly url: string;
  /**
   * Stop: readiness answers 503 at once, new connections are refused, in-flight requests finish
   * (up to `limits.shutdown_grace_ms`, then their connections are closed), the JWKS and TLS
   * watchers stop.
   */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly logStream?: NodeJS.WritableStream;
  /** For tests: the authenticator's clock and fetch. */
  readonly authOptions?: Parameters<typeof createAuthenticator>[3];
}

/** Load policies and TLS, start the authenticator, listen. Config problems throw AssayError (exit 2). */
export async function startService(config: ServeConfig, opts: StartOptions = {}): Promise<RunningService> {
  const metrics = createServeMetrics(PACKAGE.version);
  const store = new PolicyStore(metrics);
  const tls = config.tls ? await loadTls(config.tls, config.profile) : undefined;
  await store.loadSources(config.policies);
  // The app (and its logger) is built after the authenticator it needs: log through a forward.
  let app: FastifyInstance | undefined;
  const auth: Authenticator = createAuthenticator(config.auth, config.profile, metrics, {
    log: {
      info: (fields, msg) => app?.log.info(fields, msg),
      warn: (fields, msg) => app?.log.warn(fields, msg),
    },
    ...opts.authOptions,
  });
  let draining = false;
  const plans = new PlanCache(config.adaptive.plan_cache_size, metrics.adapt);
  app = await buildApp(
    { config, store, auth, metrics, plans, draining: () => draining },
    { ...(opts.logStream ? { logStream: opts.logStream } : {}), ...(tls ? { https: tls.options } : {}) },
  );
  // The first JWKS fetch runs while the socket binds; readiness waits for it, requests get 503.
  const authStarted = auth.start();
  try {
    await app.listen({ host: config.listen.host, port: config.listen.port });
  } catch (err) {
    auth.close();
    await app.close().catch(() => {});
    const e = err as NodeJS.ErrnoException;
    throw new AssayError(
      "serve_start_failed",
      `cannot listen on ${config.listen.host}:${config.listen.port}: ${e.code ?? e.message}`,
      { cause: err },
    );
  }
  await authStarted;
  const watcher =
    config.tls?.reload && tls
      ? watchTls(
          app.server as unknown as TlsServer,
          config.tls,
          config.profile,
          {
            onReload: (info) => {
              metrics.tlsReload("ok");
              metrics.certificateExpiry(Date.parse(info.not_after) / 1000);
              app.log.info({ serial: info.serial, not_after: info.not_after }, "tls certificate reloaded");
            },
            onError: (err) => {
              metrics.tlsReload("error");
              app.log.error(
                { err: formatDiagnostic(err) },
                "tls reload failed; serving the previous certificate",
              );
            },
            onWarning: (message) => app.log.warn({ warning: message }, "tls watch degraded"),
          },
          { current: tls },
        )
      : undefined;
  metrics.ready(auth.ready());
  if (tls) metrics.certificateExpiry(Date.parse(tls.certificate.not_after) / 1000);
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.listen.port;
  const host = config.listen.host.includes(":") ? `[${config.listen.host}]` : config.listen.host;
  const url = `${tls ? "https" : "http"}://${host}:${port}`;
  app.log.info(
    { url, profile: config.profile, policies: store.list().map((p) => ({ id: p.id, digest: p.digest })) },
    "assay serve listening",
  );

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      draining = true;
      metrics.ready(false);
      watcher?.close();
      // A keep-alive connection whose request finishes during the drain would otherwise stay
      // open until its idle timeout: close each one as soon as it is idle.
      const idle = setInterval(() => app?.server.closeIdleConnections(), 50);
      idle.unref();
      const grace = setTimeout(() => {
        app.log.warn(
          { grace_ms: config.limits.shutdown_grace_ms },
          "shutdown grace over; closing open connections",
        );
        app.server.closeAllConnections();
      }, config.limits.shutdown_grace_ms);
      grace.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(grace);
        clearInterval(idle);
        auth.close();
      }
    })();
    return closing;
  };
  return { app, metrics, store, url, close };
}
