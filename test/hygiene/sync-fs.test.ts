import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, posix, relative } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { FS_SYNC_NAMES, formatUse, type SyncFsUse, scanSyncFs } from "./sync-fs-scan.js";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

/**
 * Folders whose async code must not block on file I/O (issue 19; ARCHITECTURE.md: no sync I/O on a
 * hot path). The scan follows calls within a file, not across files: a synchronous call reached
 * only through another module's function is not seen. The one such place today is
 * src/gate/pipe-writer.ts, whose `writeSync` writes to a non-blocking pipe (a full pipe returns
 * EAGAIN at once rather than waiting), called from the stdio gate's stream callbacks.
 */
const SCANNED = ["runner", "sim/drivers", "gate"];

interface Allowed {
  /** Relative to src/. */
  file: string;
  /** The function the use sits in, as the scan names it. */
  fn: string;
  call: string;
  reason: string;
}

/** Where a synchronous call is the contract. An entry no use matches any more fails the test. */
const ALLOWED: readonly Allowed[] = [
  {
    file: "gate/decision-log.ts",
    fn: "FileDecisionLog.appendSync",
    call: "writeSync",
    reason:
      "DecisionSink.appendSync is synchronous by contract: the gate's commitSync stores a whole chunk's " +
      "records in one write and forwards the calls only after it returned (write-before-forward, all or " +
      "none, within one send()); `append` reuses it because a thread-pool trip per record halved the " +
      "gate's throughput (bench:gate) and an async write racing a sync one would break the size bookkeeping " +
      "that cutPartial relies on",
  },
  {
    file: "gate/decision-log.ts",
    fn: "FileDecisionLog.cutPartial",
    call: "fstatSync",
    reason:
      "undoes a failed appendSync before it returns, so the next record cannot be glued to a partial one: " +
      "it must finish inside that synchronous call",
  },
  {
    file: "gate/decision-log.ts",
    fn: "FileDecisionLog.cutPartial",
    call: "ftruncateSync",
    reason: "as fstatSync above: the partial record is cut off before appendSync returns or throws",
  },
];

function modules(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return modules(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

function scanTree(): { files: string[]; uses: SyncFsUse[] } {
  const files = SCANNED.flatMap((d) => modules(join(SRC, d)))
    .map((p) => relative(SRC, p).split("\\").join(posix.sep))
    .sort();
  return { files, uses: files.flatMap((f) => scanSyncFs(f, readFileSync(join(SRC, f), "utf8"))) };
}

const allows = (a: Allowed, u: SyncFsUse) => a.file === u.file && a.fn === u.fn && a.call === u.call;

describe("no synchronous fs in the async paths of the runner, the drivers and the gate", () => {
  const { files, uses } = scanTree();

  test("the scan reads modules of each folder that has any", () => {
    // The runner is still being written; the gate and the drivers guard against a scan of nothing.
    for (const dir of ["gate", "sim/drivers"]) {
      assert.ok(
        files.some((f) => f.startsWith(`${dir}/`)),
        `no modules found under src/${dir}`,
      );
    }
  });

  test("no sync fs call inside an async function or a callback, or reached from one", () => {
    const left = uses.filter((u) => !ALLOWED.some((a) => allows(a, u)));
    assert.deepEqual(
      left.map(formatUse),
      [],
      "use node:fs/promises or a stream; if synchronous is the contract, add an entry to ALLOWED with its reason",
    );
  });

  test("every allow-list entry still matches a use, and says why", () => {
    for (const a of ALLOWED) {
      assert.ok(a.reason.length > 20, `${a.file} ${a.fn} ${a.call}: give the reason`);
      assert.ok(
        uses.some((u) => allows(a, u)),
        `stale entry: no ${a.call} in ${a.fn} (src/${a.file}) is reported any more`,
      );
    }
  });
});

/** `call@fn` for each use the scanner reports in `text`. */
function found(text: string): string[] {
  return scanSyncFs("snippet.ts", text).map((u) => `${u.call}@${u.fn}`);
}

describe("scanSyncFs", () => {
  test("knows node:fs's sync functions, and only those", () => {
    for (const name of [
      "readFileSync",
      "writeFileSync",
      "appendFileSync",
      "existsSync",
      "writeSync",
      "fsyncSync",
    ]) {
      assert.ok(FS_SYNC_NAMES.has(name), name);
    }
    assert.ok(!FS_SYNC_NAMES.has("readFile"));
    assert.ok(!FS_SYNC_NAMES.has("createWriteStream"));
  });

  const violations: [string, string, string[]][] = [
    [
      "sync call in an async function",
      `import { readFileSync } from "node:fs";
       export async function load() { return readFileSync("a", "utf8"); }`,
      ["readFileSync@load"],
    ],
    [
      "sync call in an async method and an async arrow",
      `import { existsSync } from "fs";
       class Store { async has(p: string) { return existsSync(p); } }
       export const has = async (p: string) => existsSync(p);`,
      ["existsSync@Store.has", "existsSync@has"],
    ],
    [
      "sync call in an arrow callback",
      `import { writeSync } from "node:fs";
       export function pipe(s: NodeJS.ReadableStream) { s.on("data", (b) => writeSync(1, b)); }`,
      ['writeSync@pipe > on("data") callback'],
    ],
    [
      "sync calls in setTimeout, then and object-literal method callbacks",
      `import { rmSync, statSync, mkdirSync } from "node:fs";
       import { Writable } from "node:stream";
       setTimeout(() => rmSync("x"), 10);
       export function later(p: Promise<string>) { return p.then(function (f) { return statSync(f); }); }
       export const sink = new Writable({ write(chunk, _enc, cb) { mkdirSync("d"); cb(); } });`,
      ["rmSync@setTimeout callback", "statSync@later > then callback", "mkdirSync@new Writable { write }"],
    ],
    [
      "sync call in a function nested in an async function",
      `import { statSync } from "node:fs";
       export async function total(paths: string[]) {
         function size(p: string) { return statSync(p).size; }
         let n = 0;
         for (const p of paths) n += size(p);
         return n;
       }`,
      ["statSync@total > size"],
    ],
    [
      "namespace, default and renamed imports, element access",
      `import * as fs from "node:fs";
       import nfs from "fs";
       import { default as dfs, readFileSync as read } from "node:fs";
       export async function a() { fs.writeFileSync("x", ""); }
       export async function b() { return nfs.readdirSync("."); }
       export async function c() { return dfs["openSync"]("x", "r") + read("y").length; }`,
      ["writeFileSync@a", "readdirSync@b", "openSync@c", "readFileSync@c"],
    ],
    [
      "dynamic import and destructuring from the namespace",
      `import * as fs from "node:fs";
       const { closeSync } = fs;
       export async function a() { const { fsyncSync } = await import("node:fs"); fsyncSync(3); }
       export async function b() { (await import("node:fs")).renameSync("a", "b"); }
       export async function c() { closeSync(3); }`,
      ["fsyncSync@a", "renameSync@b", "closeSync@c"],
    ],
    [
      "a plain helper reached from an async function, at any depth, by call, this. or new",
      `import { appendFileSync, unlinkSync, readFileSync } from "node:fs";
       function inner() { appendFileSync("log", "x"); }
       function outer() { inner(); }
       export async function run() { outer(); }
       class Log {
         async append() { this.write(); }
         write() { unlinkSync("x"); }
       }
       class Config { constructor() { readFileSync("c"); } }
       export function open() { return Promise.resolve().then(() => new Config()); }`,
      ["appendFileSync@inner", "unlinkSync@Log.write", "readFileSync@Config.constructor"],
    ],
    [
      "a named function or a method passed as a callback, an on* handler, a sync function passed itself",
      `import { writeFileSync, writeSync, readFileSync, statSync } from "node:fs";
       function onExit() { writeFileSync("state", ""); }
       process.on("exit", onExit);
       class Proxy {
         private readonly onData = (b: Buffer) => { writeSync(1, b); };
         start(s: NodeJS.ReadableStream) { s.on("data", this.onData); }
       }
       export function wire(t: { onmessage?: (m: string) => void }) { t.onmessage = (m) => { writeSync(2, m); }; }
       export function read(p: Promise<string>) { return p.then(readFileSync); }
       export function sizes(ps: string[]) { return ps.map(statSync); }`,
      [
        "writeFileSync@onExit",
        "writeSync@Proxy.onData",
        "writeSync@wire > <function>",
        "readFileSync@read",
        "statSync@sizes",
      ],
    ],
  ];
  for (const [what, text, expected] of violations) {
    test(`reports: ${what}`, () => assert.deepEqual(found(text), expected));
  }

  const allowed: [string, string][] = [
    [
      "a top-level sync call at module load",
      `import { readFileSync } from "node:fs";
       export const text = readFileSync(new URL("./x.txt", import.meta.url), "utf8");`,
    ],
    [
      "a sync call in a plain function called synchronously",
      `import { readFileSync, existsSync } from "node:fs";
       function load(p: string) { return existsSync(p) ? readFileSync(p, "utf8") : ""; }
       export const config = load("config.json");
       export function both() { return load("a") + load("b"); }
       class Cache { get(p: string) { return load(p); } }
       export const cache = new Cache();`,
    ],
    [
      "node:fs/promises and fs/promises, and node:fs's async or streaming exports",
      `import { readFile } from "node:fs/promises";
       import * as fsp from "fs/promises";
       import { createReadStream, promises } from "node:fs";
       import * as fs from "node:fs";
       export async function f() {
         await readFile("a");
         await fsp.writeFile("b", "");
         await promises.stat("c");
         await fs.promises.readFile("d");
         createReadStream("e").on("data", () => fs.createWriteStream("f"));
       }`,
    ],
    [
      "a local binding that shadows the import, a type-only import, another object's writeSync",
      `import { readFileSync } from "node:fs";
       import type { statSync } from "node:fs";
       type Stats = ReturnType<typeof statSync>;
       export async function f(readFileSync: (p: string) => string) { return readFileSync("x"); }
       export async function g(o: { writeSync(): void; statSync?: Stats }) { o.writeSync(); }
       export async function h() { const readFileSync = (p: string) => p; return readFileSync("y"); }`,
    ],
  ];
  for (const [what, text] of allowed) {
    test(`does not report: ${what}`, () => assert.deepEqual(found(text), []));
  }
});
