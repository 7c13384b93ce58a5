import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ASSAY_BIN } from "../run-assay.js";
import { tempDir } from "../temp-dir.js";

const FIX = "test/fixtures/cli";
const PACK = `${FIX}/pack.yaml`;

function assay(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [ASSAY_BIN, ...args], {
    input,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("assay policy check", () => {
  test("a valid pack: counts per kind and dimension, the digest, exit 0", () => {
    const r = assay(["policy", "check", PACK, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.rules, 6);
    assert.deepEqual(out.by_kind, { tools: 1, args: 1, expr: 1, network: 1, sequence: 1, limit: 1 });
    assert.deepEqual(out.by_dimension, { correctness: 0, safety: 1, security: 3, control: 2 });
    assert.match(out.digest, /^sha256:[0-9a-f]{64}$/);
    const human = assay(["policy", "check", PACK]);
    assert.equal(human.code, 0);
    assert.ok(human.stdout.includes(out.digest));
  });

  test("an invalid pack: one line per problem with file:line:col, exit 2, no stack trace", () => {
    const located = (stderr: string) =>
      stderr
        .trimEnd()
        .split("\n")
        .map((l) => l.match(/^assay: (\S+?:\d+:\d+): (\S+):/)?.slice(1));
    const schema = assay(["policy", "check", `${FIX}/bad-pack.yaml`]);
    assert.equal(schema.code, 2);
    assert.deepEqual(located(schema.stderr), [[`${FIX}/bad-pack.yaml:8:12`, "rules[0].extra"]]);
    const compile = assay(["policy", "check", `${FIX}/bad-compile.yaml`]);
    assert.equal(compile.code, 2);
    assert.deepEqual(located(compile.stderr), [
      [`${FIX}/bad-compile.yaml:7:33`, "rules[0].expr.assert"],
      [`${FIX}/bad-compile.yaml:11:29`, "rules[1].network.deny_cidrs[0]"],
    ]);
    const missing = assay(["policy", "check", `${FIX}/does-not-exist.yaml`]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^assay: .*does-not-exist\.yaml: cannot read pack: ENOENT\n$/);
  });

  test("a missing argument is a usage error, exit 2", () => {
    assert.equal(assay(["policy", "check"]).code, 2);
    assert.equal(assay(["policy", "check", "--nope", PACK]).code, 2);
  });

  test("--help exits 0 on every command", () => {
    for (const args of [
      ["--help"],
      ["policy", "--help"],
      ["policy", "check", "--help"],
      ["policy", "eval", "--help"],
      ["policy", "test", "--help"],
    ]) {
      const r = assay(args);
      assert.equal(r.code, 0, args.join(" "));
      assert.match(r.stdout, /Usage:/);
    }
  });
});

describe("assay policy eval", () => {
  test("allow exits 0, deny exits 1, and --json prints the decision", () => {
    const allow = assay(
      ["policy", "eval", "--pack", PACK, "--call", "-", "--json"],
      '{"tool":"list_dir","arguments":{}}',
    );
    assert.equal(allow.code, 0, allow.stderr);
    assert.equal(JSON.parse(allow.stdout).effect, "allow");
    const deny = assay(
      ["policy", "eval", "--pack", PACK, "--call", "-", "--json"],
      '{"tool":"exec","arguments":{}}',
    );
    assert.equal(deny.code, 1);
    const d = JSON.parse(deny.stdout);
    assert.deepEqual([d.effect, d.rule_id, d.reason_code], ["deny", "read-only-fs", "tool_denied"]);
    assert.match(d.policy_digest, /^sha256:/);
  });

  test("an MCP tools/call request is accepted as the call", () => {
    const req = {
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "fs_a_write", arguments: {} },
    };
    const r = assay(["policy", "eval", "--pack", PACK, "--call", "-", "--json"], JSON.stringify(req));
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).reason_code, "tool_denied");
  });

  test("context reaches predicates", () => {
    const call = '{"tool":"http_get","arguments":{"url":"http://[fd00::1]/"}}';
    assert.equal(assay(["policy", "eval", "--pack", PACK, "--call", "-"], call).code, 0);
    const r = assay(
      ["policy", "eval", "--pack", PACK, "--call", "-", "--context", `${FIX}/prod.json`, "--json"],
      call,
    );
    assert.equal(r.code, 1, r.stderr);
    assert.equal(JSON.parse(r.stdout).rule_id, "no-private-net");
  });

  test("JSON that is not a call is denied (exit 1); text that is not JSON is an input error (exit 2)", () => {
    const notObject = assay(["policy", "eval", "--pack", PACK, "--call", "-", "--json"], '"read_file"');
    assert.equal(notObject.code, 1);
    assert.equal(JSON.parse(notObject.stdout).reason_code, "call_invalid");
    const notJson = assay(["policy", "eval", "--pack", PACK, "--call", "-"], "{tool:");
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /^assay: <stdin>: call is not valid JSON/);
    // JSON.parse quotes short text it refuses, line breaks and all: the error stays one line.
    const twoLines = assay(["policy", "eval", "--pack", PACK, "--call", "-"], "not json\nat all\n");
    assert.equal(twoLines.code, 2);
    assert.equal(
      twoLines.stderr,
      `assay: <stdin>: call is not valid JSON: Unexpected token 'o', "not json\\nat all\\n" is not valid JSON\n`,
    );
  });
});

describe("assay policy test", () => {
  test("all cases pass: exit 0", () => {
    const r = assay(["policy", "test", `${FIX}/pass.test.yaml`, "--json"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual([out.passed, out.failed], [4, 0]);
  });

  test("a failing case: exit 1 and a diff naming expected and actual", () => {
    const r = assay(["policy", "test", `${FIX}/fail.test.yaml`]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAIL {2}.*fail\.test\.yaml: wrongly expects exec to be allowed/);
    assert.match(r.stdout, /- effect: "allow"\n {2}\+ effect: "deny"/);
    assert.match(r.stdout, /PASS: 1\/2 {2}FAIL: 1\/2/);
  });

  test("a folder named like a test file is searched, not read as one", (t) => {
    const dir = tempDir("assay-policy-test-", t);
    mkdirSync(join(dir, "more.test.yaml"));
    for (const to of [dir, join(dir, "more.test.yaml")]) {
      copyFileSync(`${FIX}/pack.yaml`, join(to, "pack.yaml"));
      copyFileSync(`${FIX}/pass.test.yaml`, join(to, "pass.test.yaml"));
    }
    const r = assay(["policy", "test", dir, "--json"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual([out.passed, out.failed], [8, 0]);
  });

  test("an invalid test file: exit 2", () => {
    const r = assay(["policy", "test", `${FIX}/invalid.test.yaml`]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid\.test\.yaml: not a policy test file/);
  });
});

describe("the pack cache, from the CLI", () => {
  // Judged by the pack's args schema (a validator the cache keeps) and denied by it.
  const CALL = '{"tool":"read_file","arguments":{"path":"/etc/passwd"}}';
  function evalWith(env: Record<string, string>) {
    const r = spawnSync(process.execPath, [ASSAY_BIN, "policy", "eval", "--pack", PACK, "--call", "-"], {
      input: CALL,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, ASSAY_NO_CACHE: "", ...env },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  const cached = (dir: string) => (existsSync(join(dir, "packs")) ? readdirSync(join(dir, "packs")) : []);

  test("ASSAY_CACHE_DIR holds one entry per pack text, and the cached run prints the same", (t) => {
    const dir = tempDir("assay-cli-cache-", t);
    const first = evalWith({ ASSAY_CACHE_DIR: dir });
    assert.equal(first.code, 1, first.stderr);
    assert.match(first.stdout, /^deny +rule: workspace-paths +reason: args_invalid\n/);
    assert.equal(cached(dir).length, 1);
    const [entry] = cached(dir);
    const inode = statSync(join(dir, "packs", entry as string)).ino;
    const second = evalWith({ ASSAY_CACHE_DIR: dir });
    assert.deepEqual(second, first);
    assert.deepEqual(cached(dir), [entry]);
    assert.equal(
      statSync(join(dir, "packs", entry as string)).ino,
      inode,
      "read, not compiled and written again",
    );
  });

  test("ASSAY_NO_CACHE=1 compiles afresh and writes nothing", (t) => {
    const dir = tempDir("assay-cli-cache-", t);
    const r = evalWith({ ASSAY_CACHE_DIR: dir, ASSAY_NO_CACHE: "1" });
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(cached(dir), []);
  });
});
