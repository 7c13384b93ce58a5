import type { FastifyInstance } from "fastify";
import type { ServeDeps } from "../app.js";
import { openApiDocument } from "../openapi.js";

/** Liveness, readiness, metrics and the OpenAPI document: no token needed (docs/serve.md). */
export function registerProbeRoutes(app: FastifyInstance, deps: ServeDeps): void {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    const checks = {
      policies: deps.store.size,
      jwks:
        deps.config.auth.issuer === undefined
          ? "not_configured"
          : deps.auth.ready()
            ? "fresh"
            : "unavailable",
      draining: deps.draining(),
    };
    const ready = !checks.draining && checks.policies > 0 && checks.jwks !== "unavailable";
    deps.metrics.ready(ready);
    return reply.code(ready ? 200 : 503).send({ ready, checks });
  });

  app.get("/metrics", async (_request, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  const doc = openApiDocument();
  app.get("/openapi.json", async () => doc);
}
