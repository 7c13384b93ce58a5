import type { FastifyInstance } from "fastify";
import { AssayError, formatDiagnostic } from "../../lib/errors.js";
import type { ServeDeps } from "../app.js";
import { checkBody } from "../body.js";
import { HttpError } from "../http-error.js";
import { PolicyRefused } from "../policy-store.js";
import { lookupPolicy } from "./shared.js";

/** GET /v1/policies, GET /v1/policies/{id}, POST /v1/policies (compile and load packs). */
export function registerPolicyRoutes(app: FastifyInstance, deps: ServeDeps): void {
  app.get("/v1/policies", { config: { assay: { name: "policies_list", permission: "read" } } }, async () => ({
    policies: deps.store.list(),
  }));

  app.get<{ Params: { id: string } }>(
    "/v1/policies/:id",
    { config: { assay: { name: "policies_get", permission: "read" } } },
    async (request) => lookupPolicy(deps, request.params.id, "").summary,
  );

  app.post(
    "/v1/policies",
    { config: { assay: { name: "policies_load", permission: "compile" } } },
    async (request, reply) => {
      if (!deps.config.features.runtime_policy_load) {
        throw new HttpError(
          403,
          "runtime_policy_load_disabled",
          "this service loads policies only from its config (features.runtime_policy_load is false)",
        );
      }
      const body = checkBody<{ id?: string; packs: string[] }>("serve-policy-load-request", request.body);
      let loaded: ReturnType<typeof deps.store.loadTexts>;
      try {
        loaded = deps.store.loadTexts(body.packs, body.id, deps.config.limits.max_policies);
      } catch (err) {
        if (err instanceof PolicyRefused) throw new HttpError(409, err.code, err.message);
        if (!(err instanceof AssayError)) throw err;
        const where = err.diagnostics.map(formatDiagnostic);
        throw new HttpError(400, err.code, where[0] ?? err.message, { pointer: "/packs", where });
      }
      request.outcome = "ok";
      request.logFields = {
        policy_id: loaded.policy.summary.id,
        policy_digest: loaded.policy.summary.digest,
        created: loaded.created,
        cached: loaded.cached,
      };
      return reply.code(loaded.created ? 201 : 200).send({
        policy: loaded.policy.summary,
        created: loaded.created,
        cached: loaded.cached,
      });
    },
  );
}
