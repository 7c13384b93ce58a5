import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IService } from "kubernetes-models/v1/Service";
import { parse, parseAllDocuments } from "yaml";
import { loadServeConfig } from "../../src/serve/config.js";
import type { ServeConfig } from "../../src/serve/config-types.js";
import { ROOT } from "../run-assay.js";
import { suiteTempDir } from "../temp-dir.js";
import {
  ENVIRONMENTS,
  type Environment,
  type K8sObject,
  only,
  renderOverlay,
  validateObject,
} from "./kustomize.js";
import { DEPLOY, kustomizeMissing } from "./tools.js";

/** What each environment must be (the overlays' purpose; docs/deploy.md's table). */
const EXPECTED: Readonly<
  Record<
    Environment,
    {
      namespace: string;
      replicas: number;
      hpa: [number, number];
      mtls: boolean;
      profile: "dev" | "prod";
      runtimePolicyLoad: boolean;
      pdb: { minAvailable?: number; maxUnavailable?: number };
    }
  >
> = {
  dev: {
    namespace: "assay-dev",
    replicas: 1,
    hpa: [1, 2],
    mtls: false,
    profile: "dev",
    runtimePolicyLoad: true,
    pdb: { maxUnavailable: 1 },
  },
  stage: {
    namespace: "assay-stage",
    replicas: 2,
    hpa: [2, 4],
    mtls: true,
    profile: "prod",
    runtimePolicyLoad: true,
    pdb: { maxUnavailable: 1 },
  },
  prod: {
    namespace: "assay",
    replicas: 3,
    hpa: [3, 10],
    mtls: true,
    profile: "prod",
    runtimePolicyLoad: false,
    pdb: { minAvailable: 2 },
  },
};

const POD_LABELS = { "app.kubernetes.io/name": "assay-serve" };

interface Rendered {
  objects: K8sObject[];
  deployment: IDeployment;
  serveYaml: string;
  config: ServeConfig;
}

const skip = kustomizeMissing();
const TMP = suiteTempDir("assay-deploy-k8s-");
const rendered = new Map<Environment, Rendered>();

/** The overlay rendered once, and its serve.yaml loaded by the service's own config loader. */
async function render(env: Environment): Promise<Rendered> {
  const done = rendered.get(env);
  if (done !== undefined) return done;
  const objects = renderOverlay(env);
  const deployment = only(objects, "Deployment", "assay-serve") as unknown as IDeployment;
  const configMaps = objects.filter((o) => o.kind === "ConfigMap") as unknown as IConfigMap[];
  const cmName = deployment.spec?.template.spec?.volumes?.find((v) => v.name === "config")?.configMap?.name;
  const serveYaml = configMaps.find((c) => c.metadata?.name === cmName)?.data?.["serve.yaml"];
  assert.ok(serveYaml, `overlays/${env}: the Deployment's ConfigMap \`${cmName}\` holds no serve.yaml`);
  // The mounted auth.yaml (a secret) is the example one here; every other path stays as mounted.
  const dir = join(TMP, env);
  mkdirSync(dir);
  copyFileSync(join(DEPLOY, "kubernetes/examples/auth.yaml"), join(dir, "auth.yaml"));
  const doc = parse(serveYaml) as Record<string, unknown>;
  assert.equal(doc.auth, "/etc/assay/auth/auth.yaml", `overlays/${env}: auth is the mounted auth.yaml`);
  writeFileSync(
    join(dir, "serve.yaml"),
    serveYaml.replace("/etc/assay/auth/auth.yaml", join(dir, "auth.yaml")),
  );
  const config = await loadServeConfig(join(dir, "serve.yaml"));
  const r = { objects, deployment, serveYaml, config };
  rendered.set(env, r);
  return r;
}

function container(d: IDeployment) {
  const c = d.spec?.template.spec?.containers.find((x) => x.name === "assay-serve");
  assert.ok(c, "the Deployment has an assay-serve container");
  return c;
}

function preStopSleepSeconds(d: IDeployment): number {
  const cmd = container(d).lifecycle?.preStop?.exec?.command ?? [];
  assert.equal(cmd[0], "sleep", "preStop sleeps");
  return Number(cmd[1]);
}

function matches(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  return (
    selector !== undefined &&
    Object.entries(selector).every(([k, v]) => labels !== undefined && labels[k] === v)
  );
}

describe("kubernetes: kustomize overlays", { skip }, () => {
  for (const env of ENVIRONMENTS) {
    test(`${env}: every rendered object validates against the Kubernetes API schema`, async () => {
      const { objects } = await render(env);
      const kinds = objects.map((o) => `${o.apiVersion} ${o.kind}`).sort();
      assert.deepEqual(kinds, [
        "apps/v1 Deployment",
        "autoscaling/v2 HorizontalPodAutoscaler",
        "networking.k8s.io/v1 NetworkPolicy",
        "policy/v1 PodDisruptionBudget",
        "v1 ConfigMap",
        "v1 Service",
        "v1 Service",
        "v1 ServiceAccount",
      ]);
      for (const o of objects) {
        await assert.doesNotReject(validateObject(o), `${o.kind} ${o.metadata.name}`);
        assert.equal(
          o.metadata.namespace,
          EXPECTED[env].namespace,
          `${o.kind} ${o.metadata.name}'s namespace`,
        );
      }
    });

    test(`${env}: replicas, autoscaling, disruption budget, mTLS and feature flags as the environment wants`, async () => {
      const { objects, deployment, config } = await render(env);
      const want = EXPECTED[env];
      assert.equal(deployment.spec?.replicas, want.replicas);
      const hpa = only(objects, "HorizontalPodAutoscaler") as unknown as IHorizontalPodAutoscaler;
      assert.deepEqual([hpa.spec?.minReplicas, hpa.spec?.maxReplicas], want.hpa);
      assert.equal(hpa.spec?.scaleTargetRef.kind, "Deployment");
      assert.equal(hpa.spec?.scaleTargetRef.name, deployment.metadata?.name);
      assert.equal(deployment.spec?.replicas, hpa.spec?.minReplicas, "an apply never scales below the floor");
      const pdb = only(objects, "PodDisruptionBudget") as unknown as IPodDisruptionBudget;
      assert.deepEqual(
        { minAvailable: pdb.spec?.minAvailable, maxUnavailable: pdb.spec?.maxUnavailable },
        { minAvailable: undefined, maxUnavailable: undefined, ...want.pdb },
      );
      assert.ok(matches(pdb.spec?.selector?.matchLabels, POD_LABELS));
      assert.equal(config.profile, want.profile);
      assert.equal(config.tls?.mtls?.enabled === true, want.mtls, "mTLS");
      if (want.mtls) assert.equal(config.tls?.mtls?.client_ca_file, "/etc/assay/client-ca/ca.crt");
      assert.equal(
        config.features.runtime_policy_load,
        want.runtimePolicyLoad,
        "features.runtime_policy_load",
      );
      assert.ok(config.tls, "TLS everywhere: the probes are HTTPS");
    });

    test(`${env}: probes on /healthz and /readyz over HTTPS, on the port serve.yaml listens on`, async () => {
      const { deployment, config } = await render(env);
      const c = container(deployment);
      const port = c.ports?.find((p) => p.name === "https");
      assert.equal(port?.containerPort, config.listen.port);
      assert.equal(config.listen.host, "0.0.0.0");
      for (const [probe, path] of [
        [c.livenessProbe, "/healthz"],
        [c.startupProbe, "/healthz"],
        [c.readinessProbe, "/readyz"],
      ] as const) {
        assert.equal(probe?.httpGet?.path, path);
        assert.equal(probe?.httpGet?.scheme, "HTTPS");
        assert.equal(probe?.httpGet?.port, "https");
      }
      assert.deepEqual(c.args, ["serve", "--config", "/etc/assay/serve.yaml"]);
      const mount = c.volumeMounts?.find((m) => m.mountPath === "/etc/assay/serve.yaml");
      assert.equal(mount?.subPath, "serve.yaml");
    });

    test(`${env}: the container runs as non-root, read-only, with no capabilities`, async () => {
      const { deployment } = await render(env);
      const pod = deployment.spec?.template.spec;
      const c = container(deployment);
      assert.equal(pod?.securityContext?.runAsNonRoot, true);
      assert.equal(pod?.securityContext?.seccompProfile?.type, "RuntimeDefault");
      assert.notEqual(pod?.securityContext?.runAsUser, 0);
      assert.equal(c.securityContext?.runAsNonRoot, true);
      assert.ok((c.securityContext?.runAsUser ?? 0) > 0);
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
      assert.deepEqual(c.securityContext?.capabilities?.drop, ["ALL"]);
      assert.equal(c.securityContext?.capabilities?.add, undefined);
      assert.equal(pod?.automountServiceAccountToken, false);
      assert.ok(c.resources?.requests?.cpu && c.resources.limits?.memory, "requests and a memory limit");
      const image = c.image ?? "";
      assert.match(
        image,
        /^[^:]+\/assay(:[\w.-]+|@sha256:[0-9a-f]{64})$/,
        "a registry image with a tag or digest",
      );
      assert.doesNotMatch(image, /:latest$/);
    });

    test(`${env}: the grace period covers the preStop sleep and the service's drain`, async () => {
      const { deployment, config } = await render(env);
      const grace = deployment.spec?.template.spec?.terminationGracePeriodSeconds ?? 30;
      const sleep = preStopSleepSeconds(deployment);
      assert.ok(sleep >= 3, "endpoints get a few seconds to drop the pod");
      assert.ok(
        grace * 1000 > sleep * 1000 + config.limits.shutdown_grace_ms,
        `terminationGracePeriodSeconds ${grace} > preStop ${sleep}s + shutdown_grace_ms ${config.limits.shutdown_grace_ms}`,
      );
      const rolling = deployment.spec?.strategy?.rollingUpdate;
      assert.equal(rolling?.maxUnavailable, 0, "a rollout removes an old pod only once a new one is ready");
    });

    test(`${env}: every file serve.yaml names is mounted from the volume meant for it`, async () => {
      const { deployment, config } = await render(env);
      const pod = deployment.spec?.template.spec;
      const mounts = container(deployment).volumeMounts ?? [];
      const secretOf = (file: string): string | undefined => {
        const m = mounts.find((x) => file.startsWith(`${x.mountPath}/`));
        return pod?.volumes?.find((v) => v.name === m?.name)?.secret?.secretName;
      };
      assert.equal(secretOf(config.tls?.cert_file ?? ""), "assay-serve-tls");
      assert.equal(secretOf(config.tls?.key_file ?? ""), "assay-serve-tls");
      assert.equal(secretOf("/etc/assay/auth/auth.yaml"), "assay-serve-auth");
      if (config.tls?.mtls?.enabled)
        assert.equal(secretOf(config.tls.mtls.client_ca_file), "assay-serve-client-ca");
      else {
        const ca = pod?.volumes?.find((v) => v.secret?.secretName === "assay-serve-client-ca");
        assert.equal(ca?.secret?.optional, true, "without mTLS the client CA secret may be missing");
      }
      // The policies are the image's packs (deploy/docker/Dockerfile copies packs/ to /app/packs).
      for (const p of config.policies.flatMap((x) => x.packs)) {
        assert.match(p, /^\/app\/packs\//);
        assert.ok(existsSync(join(ROOT, p.replace(/^\/app\//, ""))), `${p} ships in the image`);
      }
      const tmp = mounts.find((m) => m.mountPath === "/tmp");
      assert.ok(pod?.volumes?.find((v) => v.name === tmp?.name)?.emptyDir, "a writable /tmp");
    });

    test(`${env}: no secret values, and every secret the pod needs is documented`, async () => {
      const { objects, deployment } = await render(env);
      assert.equal(
        objects.filter((o) => o.kind === "Secret").length,
        0,
        "secrets are referenced, never rendered",
      );
      const pod = deployment.spec?.template.spec;
      const names = new Set([
        ...(pod?.volumes ?? []).flatMap((v) => (v.secret?.secretName ? [v.secret.secretName] : [])),
        ...(pod?.containers ?? []).flatMap((c) =>
          (c.env ?? []).flatMap((e) =>
            e.valueFrom?.secretKeyRef?.name ? [e.valueFrom.secretKeyRef.name] : [],
          ),
        ),
        ...(pod?.imagePullSecrets ?? []).flatMap((s) => (s.name ? [s.name] : [])),
      ]);
      assert.deepEqual([...names].sort(), ["assay-serve-auth", "assay-serve-client-ca", "assay-serve-tls"]);
      const doc = readFileSync(join(ROOT, "docs/deploy.md"), "utf8");
      for (const name of names)
        assert.ok(doc.includes(`\`${name}\``), `docs/deploy.md names the secret ${name}`);
    });

    test(`${env}: services, network policy and autoscaler select the pods`, async () => {
      const { objects, deployment } = await render(env);
      const podLabels = deployment.spec?.template.metadata?.labels;
      assert.ok(matches(deployment.spec?.selector.matchLabels, podLabels));
      const services = objects.filter((o) => o.kind === "Service") as unknown as IService[];
      for (const s of services) {
        assert.ok(matches(s.spec?.selector, podLabels), `${s.metadata?.name} selects the pods`);
        assert.equal(s.spec?.ports?.[0]?.targetPort, "https");
      }
      const metrics = services.find((s) => s.metadata?.name === "assay-serve-metrics");
      assert.equal(metrics?.spec?.clusterIP, "None");
      assert.equal(metrics?.spec?.publishNotReadyAddresses, true, "unready pods are still scraped");
      const np = only(objects, "NetworkPolicy") as unknown as INetworkPolicy;
      assert.ok(matches(np.spec?.podSelector.matchLabels, podLabels));
      assert.deepEqual(np.spec?.policyTypes, ["Ingress", "Egress"]);
      assert.deepEqual(
        np.spec?.ingress?.flatMap((r) => (r.ports ?? []).map((p) => p.port)),
        [8443],
        "only the HTTPS port is open",
      );
    });
  }

  test("prod is stricter than stage, stage than dev: rate limits and logs", async () => {
    const [dev, stage, prod] = await Promise.all(ENVIRONMENTS.map((e) => render(e)));
    assert.ok(dev && stage && prod);
    assert.ok(prod.config.limits.rate.max > 0, "prod limits the rate");
    assert.ok(prod.config.limits.rate.max < stage.config.limits.rate.max);
    assert.ok(stage.config.limits.rate.max < dev.config.limits.rate.max);
    assert.equal(dev.config.log_level, "debug");
    assert.equal(prod.config.log_level, "info");
    const tag = (r: Rendered) => container(r.deployment).image;
    assert.equal(new Set([tag(dev), tag(stage), tag(prod)]).size, 3, "each environment pins its own image");
  });
});

describe("kubernetes: examples for the secrets", () => {
  test("the example Certificate and ExternalSecrets make the secrets the Deployment mounts", () => {
    const docs = ["certificate.yaml", "external-secrets.yaml"].flatMap((f) =>
      parseAllDocuments(readFileSync(join(DEPLOY, "kubernetes/examples", f), "utf8")).map(
        (d) => d.toJS() as { kind: string; spec: { secretName?: string; target?: { name: string } } },
      ),
    );
    const made = docs.map((d) => (d.kind === "Certificate" ? d.spec.secretName : d.spec.target?.name)).sort();
    assert.deepEqual(made, ["assay-serve-auth", "assay-serve-client-ca", "assay-serve-tls"]);
    const base = readFileSync(join(DEPLOY, "kubernetes/base/deployment.yaml"), "utf8");
    for (const name of made) assert.ok(base.includes(`secretName: ${name}`), `the Deployment mounts ${name}`);
  });
});
