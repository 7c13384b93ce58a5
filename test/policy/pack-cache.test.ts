import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { AssayError } from "../../src/lib/errors.js";
import { compilePolicy } from "../../src/policy/compile.js";
import { compilePacks } from "../../src/policy/compile-packs.js";
import { decide } from "../../src/policy/decide.js";
import type { CompiledPolicy } from "../../src/policy/ir.js";
import { loadPack } from "../../src/policy/load-pack.js";
import { MAX_CACHE_ENTRIES, type PackCache, packCacheKey } from "../../src/policy/pack-cache.js";
import { ROOT } from "../run-assay.js";
import { tempDir } from "../temp-dir.js";

/** Every pack shipped or used as an example: each has tools, and most have args schemas. */
const PACKS = [
  "packs/mcp-baseline.yaml",
  "examples/app-pack.yaml",
  "examples/gate-pack.yaml",
  "examples/demo-agent/packs/guard.yaml",
  "examples/node-agent/packs/fs-guard.yaml",
  "examples/runner/policy.yaml",
  "examples/adapt/lksg.v1.yaml",
].map((p) => join(ROOT, p));

const BASELINE = join(ROOT, "packs/mcp-baseline.yaml");

function cacheIn(dir: string, buildId = "test-build"): PackCache {
  return { dir, buildId };
}

function entries(cache: PackCache): string[] {
  const dir = join(cache.dir, "packs");
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** Rewrite the one entry in `cache` through `edit`, with a checksum that matches again. */
function rewriteEntry(cache: PackCache, edit: (entry: { validators: Record<string, string> }) => void): void {
  const [name] = entries(cache);
  assert.ok(name, "an entry was written");
  const file = join(cache.dir, "packs", name);
  const text = readFileSync(file, "utf8");
  const entry = JSON.parse(text.slice(text.indexOf("\n") + 1));
  edit(entry);
  const body = JSON.stringify(entry);
  writeFileSync(file, `${createHash("sha256").update(body).digest("hex")}\n${body}`);
}

/** The inode of the one entry: a rewrite (temporary file, then rename) gives a new one; a read does not. */
function entryInode(cache: PackCache): number {
  const [name] = entries(cache);
  assert.ok(name, "an entry was written");
  return statSync(join(cache.dir, "packs", name)).ino;
}

/** Make every validator in the one entry refuse everything: a decision shows whether it ran. */
function plantRefusingValidators(cache: PackCache): void {
  rewriteEntry(cache, (e) => {
    for (const k of Object.keys(e.validators))
      e.validators[k] =
        `"use strict";module.exports = function v(){ v.errors = [{instancePath:"",schemaPath:"#/x",keyword:"x",params:{},message:"refused by the test"}]; return false; };`;
  });
}

/** The application allow-list of bench:gate: `echo` with a `maxLength` (ajv's ucs2length helper). */
const APP_PACK = `id: app
version: "1.0.0"
defaults: deny
rules:
  - id: app-tools
    dimension: safety
    severity: high
    tools: { allow: [echo] }
  - id: echo-args
    dimension: correctness
    severity: medium
    args:
      tools: [echo]
      schema:
        type: object
        properties: { message: { type: string, maxLength: 8 } }
        required: [message]
        additionalProperties: false
`;

const isRoot = process.getuid?.() === 0;

/** What a compile reported, `where: message` per problem, or "compiled". */
function problems(compiled: Promise<CompiledPolicy>): Promise<string> {
  return compiled.then(
    () => "compiled",
    (e: AssayError) => e.diagnostics.map((d) => `${d.where}: ${d.message}`).join("; "),
  );
}

const READ = { tool: "read_text_file", arguments: { path: "/workspace/README.md" } };
const ESCAPE = { tool: "read_text_file", arguments: { path: "/workspace/../etc/passwd" } };

function effect(policy: CompiledPolicy, call: unknown): string {
  return decide(policy, call).effect;
}

describe("the pack cache (compilePacks with a cache)", () => {
  test("a compiled pack is written once and read back, with its validators, on the next compile", async (t) => {
    const cache = cacheIn(tempDir("assay-pack-cache-", t));
    const first = await compilePacks([BASELINE], { cache });
    assert.equal(entries(cache).length, 1);
    assert.equal(effect(first, READ), "allow");
    assert.equal(effect(first, ESCAPE), "deny");
    const inode = entryInode(cache);
    assert.equal((await compilePacks([BASELINE], { cache })).digest, first.digest);
    assert.equal(entryInode(cache), inode, "read back, not compiled and written again");
    // The entry's validators are what the next compile runs: make every one refuse, and a call
    // the pack allows is denied. That is what shows the entry was used, not recompiled.
    plantRefusingValidators(cache);
    const second = await compilePacks([BASELINE], { cache });
    assert.equal(second.digest, first.digest);
    assert.equal(effect(second, READ), "deny");
    assert.match(JSON.stringify(decide(second, READ).violations), /refused by the test/);
  });

  test("decides exactly as a fresh compile does, for every example pack and any call", async (t) => {
    const cache = cacheIn(tempDir("assay-pack-cache-", t));
    for (const path of PACKS) {
      const fresh = compilePolicy([await loadPack(path)]);
      await compilePacks([path], { cache }); // writes the entry
      const inode = entryInode(cache);
      const cached = await compilePacks([path], { cache }); // reads it
      assert.equal(entryInode(cache), inode, `${path}: read back, not compiled again`);
      assert.equal(cached.digest, fresh.digest, path);
      const tools = [...fresh.byTool.keys(), "unknown_tool", "exec", "read_file", "fetch"];
      const value = fc.oneof(
        fc.constantFrom(
          "/workspace/README.md",
          "/workspace/../etc/passwd",
          "/etc/shadow",
          "http://10.0.0.1/admin",
          "https://example.com/a?b=c",
          "AKIAABCDEFGHIJKLMNOP",
          "rm -rf /",
          "",
          "x".repeat(5000),
        ),
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
      );
      const args = fc.dictionary(
        fc.constantFrom("path", "url", "query", "command", "content", "paths", "source", "destination", "x"),
        fc.oneof(value, fc.array(value, { maxLength: 3 })),
        { maxKeys: 4 },
      );
      fc.assert(
        fc.property(fc.constantFrom(...tools), args, (tool, a) => {
          const call = { tool, arguments: a };
          assert.deepEqual(decide(cached, call), decide(fresh, call));
        }),
        { numRuns: 150, seed: 16 },
      );
      // One entry at a time in packs/ (entryInode reads the one there).
      for (const name of entries(cache)) renameSync(join(cache.dir, "packs", name), join(cache.dir, name));
    }
    assert.equal(readdirSync(cache.dir).filter((n) => n.endsWith(".json")).length, PACKS.length);
  });

  test("several packs, and ajv's runtime helpers (maxLength), come from the cache together", async (t) => {
    const cache = cacheIn(tempDir("assay-pack-cache-", t));
    const app = join(tempDir("assay-pack-cache-packs-", t), "app.yaml");
    writeFileSync(app, APP_PACK);
    const fresh = compilePolicy([await loadPack(BASELINE), await loadPack(app)]);
    await compilePacks([BASELINE, app], { cache });
    const inode = entryInode(cache);
    const cached = await compilePacks([BASELINE, app], { cache });
    assert.equal(entryInode(cache), inode, "read back, not compiled and written again");
    assert.equal(cached.digest, fresh.digest);
    for (const message of ["hi", "too long a message", "ünïcödé", "😀😀😀😀😀😀😀😀", "😀😀😀😀😀😀😀😀😀"]) {
      const call = { tool: "echo", arguments: { message } };
      assert.deepEqual(decide(cached, call), decide(fresh, call), message);
    }
    assert.equal(effect(cached, { tool: "echo", arguments: { message: "😀😀😀😀😀😀😀😀" } }), "allow");
    assert.equal(effect(cached, { tool: "echo", arguments: { message: "😀😀😀😀😀😀😀😀😀" } }), "deny");
    // In the other order: another entry, the same decisions.
    const swapped = await compilePacks([app, BASELINE], { cache });
    assert.equal(entries(cache).length, 2);
    assert.equal(effect(swapped, { tool: "echo", arguments: { message: "hi" } }), "allow");
  });

  test("a damaged entry is compiled afresh and written again; it never changes a decision", async (t) => {
    const cache = cacheIn(tempDir("assay-pack-cache-", t));
    const good = await compilePacks([BASELINE], { cache });
    const [name] = entries(cache);
    const file = join(cache.dir, "packs", name as string);
    const intact = readFileSync(file, "utf8");
    const damages: [string, string][] = [
      ["truncated", intact.slice(0, intact.length / 2)],
      ["a flipped byte", intact.replace("read_text_file", "read_text_filf")],
      ["empty", ""],
      ["not JSON under a matching checksum", `${createHash("sha256").update("{").digest("hex")}\n{`],
    ];
    for (const [what, text] of damages) {
      writeFileSync(file, text);
      const again = await compilePacks([BASELINE], { cache });
      assert.equal(again.digest, good.digest, what);
      assert.equal(effect(again, READ), "allow", what);
      assert.equal(effect(again, ESCAPE), "deny", what);
      assert.equal(readFileSync(file, "utf8"), intact, `${what}: rewritten whole`);
    }
    // Code that requires anything but ajv's runtime helpers is not what ajv wrote: compiled afresh.
    rewriteEntry(cache, (e) => {
      for (const k of Object.keys(e.validators))
        e.validators[k] = `"use strict";const fs = require("node:fs");module.exports = () => true;`;
    });
    const afresh = await compilePacks([BASELINE], { cache });
    assert.equal(effect(afresh, ESCAPE), "deny");
  });

  test("another build, another Node or an edited pack gets its own entry", async (t) => {
    const dir = tempDir("assay-pack-cache-", t);
    const packDir = tempDir("assay-pack-cache-packs-", t);
    const pack = join(packDir, "p.yaml");
    const text = readFileSync(BASELINE, "utf8");
    writeFileSync(pack, text);
    await compilePacks([pack], { cache: cacheIn(dir, "build-a") });
    await compilePacks([pack], { cache: cacheIn(dir, "build-b") });
    assert.equal(entries(cacheIn(dir)).length, 2);
    // One more rule: the old entry must not be used for the new text.
    writeFileSync(
      pack,
      `${text}\n  - id: no-echo\n    dimension: safety\n    severity: low\n    tools: { deny: ["echo"] }\n`,
    );
    const edited = await compilePacks([pack], { cache: cacheIn(dir, "build-a") });
    assert.equal(entries(cacheIn(dir)).length, 3);
    assert.equal(effect(edited, { tool: "echo", arguments: {} }), "deny");
    assert.notEqual(packCacheKey("b", [text]), packCacheKey("b", [`${text} `]));
    const here = packCacheKey("b", [text]);
    const version = Object.getOwnPropertyDescriptor(process, "version") as PropertyDescriptor;
    Object.defineProperty(process, "version", { ...version, value: "v99.0.0" });
    try {
      assert.notEqual(packCacheKey("b", [text]), here, "another Node, another key");
    } finally {
      Object.defineProperty(process, "version", version);
    }
    assert.notEqual(packCacheKey("a", [text, text]), packCacheKey("a", [`${text}${text}`]));
  });

  test("entries are neither read from nor written to a folder others can write to", async (t) => {
    const cache = cacheIn(tempDir("assay-pack-cache-", t));
    await compilePacks([BASELINE], { cache });
    rewriteEntry(cache, (e) => {
      for (const k of Object.keys(e.validators))
        e.validators[k] = `"use strict";module.exports = () => true;`;
    });
    const packs = join(cache.dir, "packs");
    chmodSync(packs, 0o777);
    // Were the planted entry read, the path escape would be allowed.
    assert.equal(effect(await compilePacks([BASELINE], { cache }), ESCAPE), "deny");
    const [name] = entries(cache);
    const before = readFileSync(join(packs, name as string), "utf8");
    assert.match(before, /=> true/, "not rewritten either");
    chmodSync(packs, 0o700);
    assert.equal(
      effect(await compilePacks([BASELINE], { cache }), ESCAPE),
      "allow",
      "read once the folder is private",
    );
  });

  test("an entry others could have written is not read: its mode, a symlinked folder, its owner", async (t) => {
    const cache = cacheIn(tempDir("assay-pack-cache-", t));
    await compilePacks([BASELINE], { cache });
    plantRefusingValidators(cache);
    const [name] = entries(cache);
    const file = join(cache.dir, "packs", name as string);
    // Read while private: the planted validators refuse the allowed call.
    assert.equal(effect(await compilePacks([BASELINE], { cache }), READ), "deny");
    chmodSync(file, 0o666);
    assert.equal(
      effect(await compilePacks([BASELINE], { cache }), READ),
      "allow",
      "entry writable by others",
    );
    // That compile wrote the entry afresh; plant again, then reach it through a symlinked folder.
    plantRefusingValidators(cache);
    const elsewhere = join(cache.dir, "elsewhere");
    renameSync(join(cache.dir, "packs"), elsewhere);
    symlinkSync(elsewhere, join(cache.dir, "packs"));
    assert.equal(effect(await compilePacks([BASELINE], { cache }), READ), "allow", "packs/ is a symlink");
    if (!isRoot) return t.diagnostic("owners not checked: only root can give a file to another user");
    // Back to a real folder with the planted entry, then give the entry, and then the cache
    // folder, to another user.
    rmSync(join(cache.dir, "packs"));
    renameSync(elsewhere, join(cache.dir, "packs"));
    assert.equal(effect(await compilePacks([BASELINE], { cache }), READ), "deny", "planted, and read");
    chownSync(file, 12345, 12345);
    assert.equal(effect(await compilePacks([BASELINE], { cache }), READ), "allow", "another user's entry");
    plantRefusingValidators(cache);
    chownSync(cache.dir, 12345, 12345);
    assert.equal(effect(await compilePacks([BASELINE], { cache }), READ), "allow", "another user's folder");
  });

  test("no folder is created in another user's folder (root under sudo with that user's HOME)", async (t) => {
    if (!isRoot) return t.diagnostic("not checked: only root can make a folder another user's");
    const home = tempDir("assay-pack-cache-home-", t);
    chownSync(home, 12345, 12345);
    const policy = await compilePacks([BASELINE], { cache: cacheIn(join(home, ".cache", "assay")) });
    assert.equal(effect(policy, ESCAPE), "deny");
    assert.deepEqual(readdirSync(home), []);
  });

  test("pruning removes only files named as entries", async (t) => {
    const cache = cacheIn(tempDir("assay-pack-cache-", t));
    const packs = join(cache.dir, "packs");
    mkdirSync(packs);
    chmodSync(packs, 0o700);
    for (let i = 0; i <= MAX_CACHE_ENTRIES; i++) writeFileSync(join(packs, `keep-${i}.txt`), "");
    const pack = join(tempDir("assay-pack-cache-packs-", t), "p.yaml");
    writeFileSync(pack, 'id: p\nversion: "1"\ndefaults: allow\nrules: []\n');
    await compilePacks([pack], { cache });
    assert.equal(readdirSync(packs).filter((n) => n.startsWith("keep-")).length, MAX_CACHE_ENTRIES + 1);
    assert.equal(readdirSync(packs).filter((n) => n.endsWith(".json")).length, 1);
  });

  test("a cache that cannot be written costs nothing but the write", async (t) => {
    const dir = tempDir("assay-pack-cache-", t);
    // A file where the cache's folder would go: mkdir fails.
    writeFileSync(join(dir, "packs"), "not a folder");
    const policy = await compilePacks([BASELINE], { cache: cacheIn(dir) });
    assert.equal(effect(policy, ESCAPE), "deny");
  });

  test("a pack with an error fails as it does without the cache, and nothing is written", async (t) => {
    const cache = cacheIn(tempDir("assay-pack-cache-", t));
    const pack = join(tempDir("assay-pack-cache-packs-", t), "bad.yaml");
    writeFileSync(
      pack,
      'id: bad\nversion: "1"\nrules:\n  - id: r\n    dimension: safety\n    severity: low\n    expr: { tools: ["a"], assert: "size(" }\n',
    );
    const withCache = await problems(compilePacks([pack], { cache }));
    const without = await problems(compilePacks([pack]));
    assert.notEqual(withCache, "compiled");
    assert.equal(withCache, without);
    assert.match(withCache, /bad\.yaml:7:\d+/);
    assert.deepEqual(entries(cache), []);
    // A missing file too: loadPack's error, naming it.
    const missing = await problems(compilePacks([join(cache.dir, "nope.yaml")], { cache }));
    assert.match(missing, /cannot read pack: ENOENT/);
  });

  test("a pack that JSON cannot carry exactly (-0) is compiled every time, never cached", async (t) => {
    const cache = cacheIn(tempDir("assay-pack-cache-", t));
    const pack = join(tempDir("assay-pack-cache-packs-", t), "neg-zero.yaml");
    writeFileSync(
      pack,
      'id: z\nversion: "1"\ndefaults: allow\nrules:\n  - id: r\n    dimension: safety\n    severity: low\n    args: { tools: ["t"], schema: { properties: { n: { maximum: -0 } } } }\n',
    );
    const policy = await compilePacks([pack], { cache });
    assert.equal(effect(policy, { tool: "t", arguments: { n: 1 } }), "deny");
    assert.deepEqual(entries(cache), []);
  });

  test(`keeps at most ${MAX_CACHE_ENTRIES} entries, the newest`, async (t) => {
    const cache = cacheIn(tempDir("assay-pack-cache-", t));
    const packDir = tempDir("assay-pack-cache-packs-", t);
    const written: string[] = [];
    for (let i = 0; i < MAX_CACHE_ENTRIES + 3; i++) {
      const pack = join(packDir, `p${i}.yaml`);
      const before = new Set(entries(cache));
      writeFileSync(pack, `id: p${i}\nversion: "1"\ndefaults: allow\nrules: []\n`);
      await compilePacks([pack], { cache });
      written.push(...entries(cache).filter((n) => !before.has(n)));
    }
    assert.equal(written.length, MAX_CACHE_ENTRIES + 3);
    assert.deepEqual(entries(cache), written.slice(3).sort(), "the three written first are gone");
  });
});
