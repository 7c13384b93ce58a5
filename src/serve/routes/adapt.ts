import type { FastifyInstance } from "fastify";
import { planLogFields } from "../../adapt/metrics.js";
import type { ServeDeps } from "../app.js";
import { checkBody } from "../body.js";
import { HttpError } from "../http-error.js";
import { lookupPolicy, tryPlanFor } from "./shared.js";

/** POST /v1/adapt: the plan (schemas/adapt-plan.schema.json) for a loaded policy in a context. */
export function registerAdaptRoute(app: FastifyInstance, deps: ServeDeps): void {
  app.post("/v1/adapt", { config: { assay: { name: "adapt", permission: "verify" } } }, async (request) => {
    const body = checkBody<{ policy: string; context: Record<string, unknown> }>(
      "serve-adapt-request",
      request.body,
    );
    const { compiled } = lookupPolicy(deps, body.policy, "/policy");
    const planned = tryPlanFor(deps, compiled, body.context);
    if ("why" in planned)
      throw new HttpError(400, "body_invalid", `/context: ${planned.why}`, { pointer: "/context" });
    const { plan } = planned;
    request.outcome = "ok";
    request.logFields = planLogFields(plan);
    return plan;
  });
}
