import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { ROOT } from "../run-assay.js";
import { DEPLOY } from "./tools.js";

// Docker cannot build here (no daemon, no registry for the base image): these tests read the
// Dockerfile as text and hold it to what the Deployment and the package need.

interface Instruction {
  readonly op: string;
  readonly args: string;
}

interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly steps: Instruction[];
}

/** The Dockerfile's instructions by stage, continuation lines joined and comments dropped. */
function stages(): Stage[] {
  const text = readFileSync(join(DEPLOY, "docker/Dockerfile"), "utf8");
  const lines = text
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  const out: Stage[] = [];
  for (const line of lines) {
    const m = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    assert.ok(m, `unreadable Dockerfile line \`${line}\``);
    const [, op, args] = m as unknown as [string, string, string];
    if (op === "FROM") {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args.trim());
      out.push({ from: f?.[1] ?? "", name: f?.[2], steps: [] });
    } else {
      assert.ok(out.length > 0, `${op} before FROM`);
      out[out.length - 1]?.steps.push({ op, args: args.trim() });
    }
  }
  return out;
}

function args(stage: Stage, op: string): string[] {
  return stage.steps.filter((s) => s.op === op).map((s) => s.args);
}

describe("docker: the image", () => {
  test("two stages on node:20-bookworm-slim: build with npm ci and npm run build, run on production deps", () => {
    const [build, runtime, ...rest] = stages();
    assert.equal(rest.length, 0);
    assert.ok(build && runtime);
    assert.equal(build.from, "node:20-bookworm-slim");
    assert.equal(runtime.from, "node:20-bookworm-slim");
    assert.equal(build.name, "build");
    const buildRuns = args(build, "RUN").join("\n");
    assert.match(buildRuns, /npm ci\b/);
    assert.match(buildRuns, /npm run build\b/);
    const runtimeRuns = args(runtime, "RUN");
    assert.equal(runtimeRuns.length, 1);
    assert.match(runtimeRuns[0] ?? "", /npm ci --omit=dev --ignore-scripts\b/);
    assert.doesNotMatch(runtimeRuns.join("\n"), /npm (install|run)|apt-get/);
  });

  test("the runtime copies what the package ships and what the CLI reads at run time", () => {
    const runtime = stages()[1];
    assert.ok(runtime);
    assert.deepEqual(args(runtime, "WORKDIR"), ["/app"]);
    const copies = args(runtime, "COPY");
    const fromBuild = copies.flatMap((c) => {
      const m = /^--from=build \/src\/(\S+) \.\/(\S+)$/.exec(c);
      return m ? [m[1] as string] : [];
    });
    assert.deepEqual(fromBuild.sort(), ["bin", "dist", "packs", "schemas"]);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      files: string[];
      bin: { assay: string };
    };
    for (const dir of fromBuild) {
      assert.ok(pkg.files.includes(dir), `package.json files ships ${dir}`);
      assert.ok(existsSync(join(ROOT, dir)) || dir === "dist", `${dir} exists`);
    }
    assert.equal(pkg.bin.assay, "bin/assay");
    // package-info.ts reads package.json; npm ci needs the lock file.
    assert.ok(copies.includes("package.json package-lock.json ./"));
  });

  test("runs as the unprivileged user the Deployment names, on the port it probes", () => {
    const runtime = stages()[1];
    assert.ok(runtime);
    const user = args(runtime, "USER");
    assert.equal(user.length, 1);
    const [uid, gid] = (user[0] ?? "").split(":").map(Number);
    assert.ok(uid !== undefined && Number.isInteger(uid) && uid > 0, "a numeric, non-root USER");
    const deployment = parse(readFileSync(join(DEPLOY, "kubernetes/base/deployment.yaml"), "utf8")) as {
      spec: {
        template: {
          spec: {
            securityContext: { runAsUser: number; runAsGroup: number };
            containers: { ports: { containerPort: number }[] }[];
          };
        };
      };
    };
    const pod = deployment.spec.template.spec;
    assert.equal(pod.securityContext.runAsUser, uid);
    assert.equal(pod.securityContext.runAsGroup, gid);
    assert.deepEqual(args(runtime, "EXPOSE"), [String(pod.containers[0]?.ports[0]?.containerPort)]);
  });

  test("ENTRYPOINT runs bin/assay and CMD serves the mounted config, both in exec form", () => {
    const runtime = stages()[1];
    assert.ok(runtime);
    assert.deepEqual(
      args(runtime, "ENTRYPOINT").map((a) => JSON.parse(a)),
      [["node", "bin/assay"]],
    );
    assert.deepEqual(
      args(runtime, "CMD").map((a) => JSON.parse(a)),
      [["serve", "--config", "/etc/assay/serve.yaml"]],
    );
  });

  test("the build context leaves out node_modules, dist and .git", () => {
    const ignore = readFileSync(join(DEPLOY, "docker/Dockerfile.dockerignore"), "utf8").split("\n");
    for (const p of ["node_modules", "dist", ".git"]) assert.ok(ignore.includes(p), p);
  });
});
