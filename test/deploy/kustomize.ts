import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { DEPLOY, run } from "./tools.js";

export const ENVIRONMENTS = ["dev", "stage", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** A rendered Kubernetes object, loosely typed: tests read the fields they check. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
  };
  readonly [field: string]: unknown;
}

/** `kubectl kustomize deploy/kubernetes/overlays/<env>`, parsed (see tools.ts' kustomizeMissing). */
export function renderOverlay(env: Environment): K8sObject[] {
  const r = run("kubectl", ["kustomize", join(DEPLOY, "kubernetes/overlays", env)]);
  if (r.code !== 0) throw new Error(`kubectl kustomize overlays/${env} failed: ${r.err.trim()}`);
  return parseAllDocuments(r.out).map((d) => {
    if (d.errors.length > 0) throw new Error(`overlays/${env}: ${d.errors[0]?.message}`);
    return d.toJS() as K8sObject;
  });
}

/** The one object of `kind` (and `name`, when given) in `objects`; throws unless exactly one. */
export function only(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1)
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0] as K8sObject;
}

/**
 * Validate `obj` against the Kubernetes API schema of its apiVersion and kind, with the model
 * class kubernetes-models generates for it; throws what the schema refused.
 */
export async function validateObject(obj: K8sObject): Promise<void> {
  const mod = (await import(`kubernetes-models/${obj.apiVersion}/${obj.kind}`)) as Record<
    string,
    new (
      data: unknown,
    ) => { validate(): void }
  >;
  const Model = mod[obj.kind];
  if (Model === undefined) throw new Error(`kubernetes-models has no ${obj.apiVersion} ${obj.kind}`);
  new Model(obj).validate();
}
