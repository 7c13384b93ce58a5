import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PACKAGE } from "../lib/package-info.js";

type Json = Record<string, unknown>;

/** Request and response bodies: the schema file, and the component name its root gets. */
const REQUESTS = {
  VerifyRequest: "serve-verify-request.schema.json",
  AdaptRequest: "serve-adapt-request.schema.json",
  PolicyLoadRequest: "serve-policy-load-request.schema.json",
  Plan: "adapt-plan.schema.json",
} as const;

/**
 * The OpenAPI 3.1 document of the service's HTTP API, built from the JSON Schemas in schemas/ so
 * it cannot drift from what the routes validate: each file's root becomes a component and its
 * `$defs` become `<Root>_<name>` components (references rewritten to match).
 */
export function openApiDocument(): Json {
  const components: Record<string, unknown> = {};
  for (const [name, file] of Object.entries(REQUESTS)) {
    const { $defs, $schema: _s, $id: _i, ...root } = schemaFile(file);
    components[name] = rewrite(root, name);
    for (const [def, schema] of Object.entries(($defs ?? {}) as Json))
      components[`${name}_${def}`] = rewrite(schema, name);
  }
  for (const [def, schema] of Object.entries(schemaFile("serve-responses.schema.json").$defs as Json)) {
    components[def] = rewrite(schema, "");
  }
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const json = (schema: unknown) => ({ content: { "application/json": { schema } } });
  const errors = (...codes: number[]) =>
    Object.fromEntries(codes.map((c) => [String(c), { description: ERROR_TEXT[c], ...json(ref("error")) }]));
  const secured = [{ oauth2: [] as string[] }];
  return {
    openapi: "3.1.0",
    info: {
      title: "Assay decision service",
      version: PACKAGE.version,
      description:
        "Decide MCP tool calls and check traces against compiled Assay policies. See docs/serve.md.",
    },
    components: {
      schemas: components,
      securitySchemes: {
        oauth2: {
          type: "oauth2",
          description:
            "Bearer JWT from the configured issuer (client credentials). Scopes are configurable; these are the defaults.",
          flows: {
            clientCredentials: {
              tokenUrl: "https://idp.example/token",
              scopes: {
                "verify:run": "POST /v1/verify and /v1/adapt",
                "policy:read": "GET /v1/policies",
                "policy:compile": "POST /v1/policies",
              },
            },
          },
        },
      },
    },
    paths: {
      "/v1/verify": {
        post: {
          summary: "Decide one call, or check a trace, against a loaded policy",
          security: [{ oauth2: ["verify:run"] }],
          requestBody: { required: true, ...json(ref("VerifyRequest")) },
          responses: {
            "200": {
              description: "The verdict",
              ...json({ oneOf: [ref("verifyCallResponse"), ref("verifyTraceResponse")] }),
            },
            ...errors(400, 401, 403, 404, 413, 415, 429, 503),
          },
        },
      },
      "/v1/adapt": {
        post: {
          summary: "Plan which rules apply in a context, and in what order",
          security: [{ oauth2: ["verify:run"] }],
          requestBody: { required: true, ...json(ref("AdaptRequest")) },
          responses: {
            "200": { description: "The plan", ...json(ref("Plan")) },
            ...errors(400, 401, 403, 404, 413, 429, 503),
          },
        },
      },
      "/v1/policies": {
        get: {
          summary: "The loaded policies",
          security: [{ oauth2: ["policy:read"] }],
          responses: {
            "200": { description: "Policies by id", ...json(ref("policyList")) },
            ...errors(401, 403, 429, 503),
          },
        },
        post: {
          summary: "Compile packs and load them as a policy (replacing one of the same id)",
          security: [{ oauth2: ["policy:compile"] }],
          requestBody: { required: true, ...json(ref("PolicyLoadRequest")) },
          responses: {
            "200": { description: "Replaced a policy of the same id", ...json(ref("policyLoaded")) },
            "201": { description: "Loaded a new policy", ...json(ref("policyLoaded")) },
            ...errors(400, 401, 403, 413, 429, 503),
          },
        },
      },
      "/v1/policies/{id}": {
        get: {
          summary: "One loaded policy",
          security: [{ oauth2: ["policy:read"] }],
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
          responses: {
            "200": { description: "The policy", ...json(ref("policySummary")) },
            ...errors(401, 403, 404, 429, 503),
          },
        },
      },
      "/healthz": {
        get: {
          summary: "Liveness",
          security: [],
          responses: { "200": { description: "Alive", ...json(ref("health")) } },
        },
      },
      "/readyz": {
        get: {
          summary: "Readiness: policies loaded, JWKS fresh, not draining",
          security: [],
          responses: {
            "200": { description: "Ready", ...json(ref("readiness")) },
            "503": { description: "Not ready", ...json(ref("readiness")) },
          },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics",
          security: [],
          responses: { "200": { description: "Prometheus text format" } },
        },
      },
      "/openapi.json": {
        get: { summary: "This document", security: [], responses: { "200": { description: "OpenAPI 3.1" } } },
      },
    },
    security: secured,
  };
}

const ERROR_TEXT: Record<number, string> = {
  400: "The body fails its schema (`pointer` says where) or a pack does not compile (`where`)",
  401: "No valid bearer token (WWW-Authenticate says why)",
  403: "The token lacks the scope, or mTLS refused the client certificate",
  404: "No such policy",
  413: "The body is over the size limit",
  415: "The body is not application/json",
  429: "Over the rate limit",
  503: "Keys for checking tokens are unavailable (the IdP failed), or the service is shutting down",
};

function schemaFile(file: string): Json {
  // INVARIANT: this module sits two levels below the package root in src/ and dist/.
  return JSON.parse(
    readFileSync(fileURLToPath(new URL(`../../schemas/${file}`, import.meta.url)), "utf8"),
  ) as Json;
}

/** Point `#/$defs/x` references at the components this document names them. */
function rewrite(schema: unknown, prefix: string): unknown {
  if (Array.isArray(schema)) return schema.map((s) => rewrite(s, prefix));
  if (schema === null || typeof schema !== "object") return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema as Json)) {
    if (k === "$ref" && typeof v === "string" && v.startsWith("#/$defs/")) {
      const name = v.slice("#/$defs/".length);
      out[k] = `#/components/schemas/${prefix ? `${prefix}_${name}` : name}`;
    } else out[k] = rewrite(v, prefix);
  }
  return out;
}
