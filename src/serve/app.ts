import type { TLSSocket } from "node:tls";
import rateLimit from "@fastify/rate-limit";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import type { PlanCache } from "../adapt/plan-cache.js";
import type { Authenticator, AuthResult } from "./auth/authenticator.js";
import type { Permission, ServeConfig } from "./config-types.js";
import { HttpError, sendError } from "./http-error.js";
import type { Outcome, RouteName, ServeMetrics } from "./metrics.js";
import type { PolicyStore } from "./policy-store.js";
import { lazyChildLogger } from "./request-logger.js";
import { registerAdaptRoute } from "./routes/adapt.js";
import { registerPolicyRoutes } from "./routes/policies.js";
import { registerProbeRoutes } from "./routes/probes.js";
import { registerVerifyRoute } from "./routes/verify.js";
import { checkClientCertificate } from "./tls/client-certificate.js";
import { createWriteBatch } from "./write-batch.js";

/** What the routes share: built once per service. */
export interface ServeDeps {
  readonly config: ServeConfig;
  readonly store: PolicyStore;
  readonly auth: Authenticator;
  readonly metrics: ServeMetrics;
  readonly plans: PlanCache;
  /** True once SIGTERM arrived: readiness answers 503 while in-flight requests drain. */
  draining(): boolean;
}

/** What a /v1 route says about itself (fastify route config). */
export interface RouteMeta {
  readonly name: RouteName;
  readonly permission: Permission;
}

declare module "fastify" {
  interface FastifyContextConfig {
    assay?: RouteMeta;
  }
  interface FastifyRequest {
    /** The authenticated caller (the token's subject), for rate limiting and logs. */
    subject?: string;
    /** Set by a route: its outcome for metrics and the log line. */
    outcome?: Outcome;
    /** Log fields a route adds (policy digest, active rule ids, verdict): never context or arguments. */
    logFields?: Record<string, unknown>;
  }
}

// Redacted wherever they appear in a log line: tokens, certificates, and what a caller sent.
const REDACT = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "authorization",
  "token",
  "dev_token",
  "cert",
  "key",
  "context",
  "arguments",
  "call",
  "trace",
  "body",
  "*.context",
  "*.arguments",
];

// pino's level numbers; `silent` writes nothing.
const LOG_LEVELS: Record<ServeConfig["log_level"], number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

export interface BuildAppOptions {
  /** Where log lines go (default stdout). */
  readonly logStream?: NodeJS.WritableStream;
  /** Node https options when serving TLS (from src/serve/tls). */
  readonly https?: import("node:tls").TlsOptions;
}

/** The fastify app of `assay serve`: hooks (mTLS, auth, rate limit, metrics, logs) and routes. */
export async function buildApp(deps: ServeDeps, opts: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { config, metrics } = deps;
  const app = Fastify({
    logger: {
      level: config.log_level,
      // RFC 3339 times: log pipelines parse them without knowing pino's epoch milliseconds.
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      redact: { paths: REDACT, censor: "[redacted]" },
      ...(opts.logStream ? { stream: opts.logStream } : {}),
    },
    childLoggerFactory: lazyChildLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: "request_id" }),
    bodyLimit: config.limits.body_bytes,
    requestIdHeader: "x-request-id",
    genReqId: () => crypto.randomUUID(),
    return503OnClosing: true,
    // Errors fastify raises before routing (a malformed URL escape, a bad content-type header)
    // get the same error body and request id as every other answer.
    frameworkErrors: (
      error: Error & { statusCode?: number; code?: string },
      request: FastifyRequest,
      reply: FastifyReply,
    ) => {
      reply.header("x-request-id", request.id);
      const code = error.code === "FST_ERR_BAD_URL" ? "bad_url" : "bad_request";
      sendError(reply, new HttpError(error.statusCode ?? 400, code, error.message));
    },
    forceCloseConnections: "idle",
    ...(opts.https ? { https: opts.https } : {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  // Declared up front so every request object keeps one shape: properties added later, request
  // by request, would send V8 through shape changes on the hot path (fastify's advice).
  app.decorateRequest("subject", undefined);
  app.decorateRequest("outcome", undefined);
  app.decorateRequest("logFields", undefined);
  // JSON only: fastify would also hand a text/plain body to the routes as a string.
  app.removeContentTypeParser("text/plain");
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (err instanceof HttpError) return sendError(reply, err);
    const status = err.statusCode ?? 500;
    if (status === 413)
      return sendError(
        reply,
        new HttpError(
          413,
          "body_too_large",
          `request body is over the ${config.limits.body_bytes} byte limit`,
        ),
      );
    if (status === 415)
      return sendError(
        reply,
        new HttpError(415, "unsupported_media_type", "send the body as application/json"),
      );
    if (status === 429) return sendError(reply, new HttpError(429, "rate_limited", err.message));
    if (status === 400)
      return sendError(reply, new HttpError(400, "body_invalid", `/: ${err.message}`, { pointer: "" }));
    request.log.error({ err_code: err.code, err: err.message }, "request failed");
    return sendError(
      reply,
      new HttpError(500, "internal", "the service failed to answer; see its log for the request id"),
    );
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new HttpError(404, "not_found", `no route ${request.method} ${request.url.split("?")[0]}`),
    ),
  );

  // Callback style, like onResponse: a token verified before is checked without a promise.
  app.addHook("onRequest", (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    reply.header("x-request-id", request.id);
    const meta = request.routeOptions.config.assay;
    if (meta === undefined) return done();
    const mtls = config.tls?.mtls;
    if (mtls?.enabled) {
      const check = checkClientCertificate(request.raw.socket as TLSSocket, mtls);
      if (!check.ok) {
        metrics.authFailure(check.reason);
        request.logFields = { auth_failure: check.reason };
        return done(new HttpError(403, check.reason, check.message));
      }
    }
    const admit = (result: AuthResult) => {
      if (result.ok) {
        request.subject = result.subject;
        return done();
      }
      request.logFields = { auth_failure: result.reason };
      done(
        new HttpError(result.status, result.status === 503 ? "unavailable" : result.reason, result.message, {
          headers: {
            "www-authenticate": result.wwwAuthenticate,
            // Fail closed while keys are unavailable; a client may try again shortly.
            ...(result.status === 503 ? { "retry-after": "5" } : {}),
          },
        }),
      );
    };
    const result = deps.auth.authenticate(request.headers.authorization, meta.permission);
    if (typeof (result as Partial<PromiseLike<AuthResult>>).then === "function")
      (result as PromiseLike<AuthResult>).then(admit, done);
    else admit(result as AuthResult);
  });

  const minLevel = LOG_LEVELS[config.log_level];
  // Hooks in callback style: an async hook costs a promise per request on the hot path.
  app.addHook("onResponse", (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const meta = request.routeOptions.config.assay;
    if (meta !== undefined)
      metrics.request(meta.name, request.outcome ?? outcomeOf(reply.statusCode), reply.elapsedTime / 1000);
    const level = meta === undefined ? "debug" : reply.statusCode >= 500 ? "warn" : "info";
    // The line's fields are built only when it will be written.
    if (LOG_LEVELS[level] >= minLevel) {
      const fields = {
        method: request.method,
        route: request.routeOptions.url ?? "-",
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 1000) / 1000,
        ...(request.subject === undefined ? {} : { subject: request.subject }),
        ...request.logFields,
      };
      request.log[level](fields, "request");
    }
    done();
  });

  app.addHook("onSend", createWriteBatch());

  if (config.limits.rate.max > 0) {
    // Global, so one store counts a client's requests over every /v1 route together (route-level
    // limits would keep one budget per route); the probes, metrics and API document are exempt.
    await app.register(rateLimit, {
      global: true,
      hook: "preHandler",
      max: config.limits.rate.max,
      timeWindow: config.limits.rate.window_seconds * 1000,
      allowList: (request) => request.routeOptions.config.assay === undefined,
      keyGenerator: (request) =>
        request.subject === undefined ? `ip:${request.ip}` : `sub:${request.subject}`,
      errorResponseBuilder: (_request, context) =>
        new HttpError(429, "rate_limited", `over ${context.max} requests per ${context.after}; retry later`),
    });
  }
  registerProbeRoutes(app, deps);
  registerVerifyRoute(app, deps);
  registerAdaptRoute(app, deps);
  registerPolicyRoutes(app, deps);
  return app;
}

/** The outcome of a request its route did not classify (it failed before or in the route). */
export function outcomeOf(status: number): Outcome {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 429) return "rate_limited";
  if (status === 503) return "unavailable";
  if (status >= 500) return "error";
  if (status >= 400) return "invalid";
  return "ok";
}
