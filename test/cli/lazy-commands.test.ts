import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// Records every module the ESM loader resolves (the bundle's layout hides them; tsc's dist/ keeps
// one file per source module, so the commands' imports show as they are written).
const HOOK = `data:text/javascript,${encodeURIComponent(`
import { register } from "node:module";
register("data:text/javascript," + encodeURIComponent(
  'export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write("LOADED " + r.url + "\\\\n"); return r; }'
));
`)}`;

/** The modules `assay <args>` loads (dist/ paths, package names), and its exit code. */
function loaded(args: string[], input?: string): { code: number | null; modules: string[] } {
  const r = spawnSync(process.execPath, ["--import", HOOK, "dist/cli/main.js", ...args], {
    cwd: ROOT,
    input,
    encoding: "utf8",
    timeout: 60_000,
  });
  const modules = new Set<string>();
  for (const line of r.stderr.split("\n")) {
    const url = /^LOADED (.*)$/.exec(line)?.[1];
    if (url === undefined || url.startsWith("node:")) continue;
    const dep = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    modules.add(dep ? (dep[1] as string) : url.slice(url.indexOf("/dist/") + 1));
  }
  return { code: r.status, modules: [...modules].sort() };
}

/** What the CLI's wiring may load: its own files (not the actions), and the few constants it shows. */
const WIRING =
  /^(dist\/cli\/[\w-]+\.js|dist\/lib\/(errors|package-info)\.js|dist\/sim\/soak\/defaults\.js|dist\/gate\/gate-defaults\.js|dist\/evidence\/key-algorithms\.js|commander)$/;

describe("commands load on demand", () => {
  test("--version and --help load the CLI's wiring and commander, nothing else", () => {
    for (const args of [["--version"], ["--help"], ["sim", "soak", "--help"], ["mcp", "wrap", "--help"]]) {
      const r = loaded(args);
      assert.equal(r.code, 0, args.join(" "));
      assert.ok(r.modules.includes("dist/cli/main.js"), "the hook saw the CLI load");
      const extra = r.modules.filter((m) => !WIRING.test(m));
      assert.deepEqual(extra, [], `${args.join(" ")} loaded more than the wiring`);
    }
  });

  test("`policy eval` loads the policy engine and its own action, and no other domain", () => {
    const call = JSON.stringify({ tool: "read_file", arguments: { path: "/workspace/a" } });
    const r = loaded(["policy", "eval", "-p", "packs/mcp-baseline.yaml", "-c", "-"], call);
    assert.equal(r.code, 0);
    assert.ok(r.modules.includes("dist/cli/actions/policy-eval.js"));
    assert.ok(r.modules.includes("dist/policy/decide.js"));
    const other = r.modules.filter(
      (m) =>
        !WIRING.test(m) &&
        /^dist\/(sim|evidence|gate|report|audit-kit|records)\/|^dist\/cli\/actions\/(?!policy-eval)|^(tar|tar-stream|@modelcontextprotocol\/sdk|ajv-formats)$/.test(
          m,
        ),
    );
    assert.deepEqual(other, []);
  });
});
