// Over ~400 lines on purpose: `assay mcp wrap` as a subprocess: its flags, exit codes and shutdown, one suite.
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, type TestContext, test } from "node:test";
import fc from "fast-check";
import {
  ASSAY_BIN,
  assertBuilt,
  decisions,
  JsonLines,
  killIfAlive,
  OPEN_PACK,
  pidAlive,
  RECORDING_SERVER,
  readLog,
  tempDir,
  waitFor,
  within,
  writePack,
} from "./helpers.js";

const PACK = OPEN_PACK;
const LEAVING_SERVER = join(RECORDING_SERVER, "../leaving-server.mjs");
const BASELINE = join(ASSAY_BIN, "../../packs/mcp-baseline.yaml");

before(() => assertBuilt());

function assay(args: string[], input = ""): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [ASSAY_BIN, ...args], { input, encoding: "utf8", timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assayAsync(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [ASSAY_BIN, ...args],
      { timeout: 20_000 },
      (err, _stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stderr });
      },
    );
    child.stdin?.end();
  });
}

interface Wrapped {
  child: ChildProcess;
  out: JsonLines;
  exit: Promise<number | null>;
  record: string;
  log: string;
  stderr(): string;
  serverPid(): Promise<number>;
}

/** `assay mcp wrap` as a subprocess in front of the recording server; killed after the test if still running. */
async function wrap(t: TestContext, extra: string[] = [], mode = "normal"): Promise<Wrapped> {
  const dir = await mkdtemp(join(tmpdir(), "assay-cli-"));
  const pack = await writePack(dir, "pack.yaml", PACK);
  const record = join(dir, "received.bin");
  await writeFile(record, "");
  const log = join(dir, "decisions.ndjson");
  const child = spawn(
    process.execPath,
    [
      ASSAY_BIN,
      "mcp",
      "wrap",
      "--policy",
      pack,
      "--decision-log",
      log,
      ...extra,
      "--",
      process.execPath,
      RECORDING_SERVER,
      record,
      mode,
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let pid: number | undefined;
  const readPid = () => {
    try {
      pid = Number(readFileSync(`${record}.pid`, "utf8")) || pid;
    } catch {
      // Not written yet.
    }
    return pid;
  };
  // One cleanup, in order: stop wrap, make sure the server is gone, then remove the files.
  t.after(async () => {
    child.stdin?.end();
    await within(6000, "wrap to exit", exit).catch(() => killIfAlive(child.pid));
    killIfAlive(readPid());
    await rm(dir, { recursive: true, force: true });
  });
  return {
    child,
    out: new JsonLines(child.stdout as NonNullable<typeof child.stdout>),
    exit,
    record,
    log,
    stderr: () => err,
    serverPid: () => waitFor(10_000, "the recording server's pid", readPid),
  };
}

const line = (msg: unknown) => `${JSON.stringify(msg)}\n`;

describe("assay mcp wrap (subprocess)", () => {
  test("the server dies with a call pending: the client gets an error, wrap exits with the server's code", async (t) => {
    const w = await wrap(t);
    w.child.stdin?.write(
      line({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "hang", arguments: {} } }),
    );
    w.child.stdin?.write(
      line({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "crash", arguments: { code: 5 } },
      }),
    );
    // The client keeps its end open: wrap must still exit.
    assert.equal(await within(10_000, "wrap to exit", w.exit), 5);
    for (const id of [1, 2]) {
      const r = (await w.out.reply(id, 2000)) as { error: { code: number } };
      assert.equal(r.error.code, -32002);
    }
    assert.deepEqual(
      decisions(w.log).map((d) => d.data.outcome),
      ["forwarded", "forwarded"],
    );
    assert.match(w.stderr(), /server exited \(code 5\)/);
  });

  test("the server exits while the packs load and the client's first message waits: wrap still exits with its code", async () => {
    // Seen in review: the message went to the dead server, its failed write paused the client's
    // input, and the later stop did not stop the read, so wrap lived on until the client hung up.
    // A race (the message must reach the gate before it learns the server is gone): four tries,
    // with the pack compiled afresh so the loading window is open long enough.
    const init = line({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18" },
    });
    for (let i = 0; i < 4; i++) {
      const child = spawn(
        process.execPath,
        [ASSAY_BIN, "mcp", "wrap", "--policy", BASELINE, "--", process.execPath, "-e", "process.exit(3)"],
        { stdio: ["pipe", "ignore", "ignore"], env: { ...process.env, ASSAY_NO_CACHE: "1" } },
      );
      const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      child.stdin?.on("error", () => {});
      child.stdin?.write(init);
      try {
        // The client keeps its end open.
        assert.equal(await within(10_000, `wrap to exit (try ${i + 1})`, exit), 3);
      } finally {
        killIfAlive(child.pid);
        child.stdin?.destroy();
      }
    }
  });

  test("a signal while the packs compile stops the server before it has received anything the client sent", async (t) => {
    // Seen in review: compiling is synchronous, so the signal waited until the gate had taken
    // over, and the gate carried out the client's allowed call before stopping the server.
    const dir = await tempDir(t);
    let yaml = `id: slow\nversion: "1.0.0"\ndefaults: deny\nrules:\n  - { id: allow-list, dimension: safety, severity: high, tools: { allow: ["list_dir"] } }\n`;
    // Enough argument schemas that compiling them takes a good part of a second.
    for (let i = 0; i < 600; i++)
      yaml += `  - { id: a${i}, dimension: security, severity: low, args: { tools: ["t${i}"], schema: { type: object, properties: { p${i}: { type: string, pattern: "^x${i}[a-z]+$" } } } } }\n`;
    const pack = await writePack(dir, "slow.yaml", yaml);
    const record = join(dir, "received.bin");
    await writeFile(record, "");
    const child = spawn(
      process.execPath,
      [ASSAY_BIN, "mcp", "wrap", "--policy", pack, "--", process.execPath, RECORDING_SERVER, record],
      { stdio: ["pipe", "ignore", "ignore"], env: { ...process.env, ASSAY_NO_CACHE: "1" } },
    );
    const exit = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.on("exit", (code, signal) => resolve(signal ?? code)),
    );
    child.stdin?.on("error", () => {});
    child.stdin?.write(
      line({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "list_dir", arguments: {} } }),
    );
    // The server is up (it writes its pid first thing) while the packs are still compiling.
    const pid = await waitFor(10_000, "the server's pid", () => {
      try {
        return Number(readFileSync(`${record}.pid`, "utf8")) || undefined;
      } catch {
        return undefined;
      }
    });
    t.after(() => {
      killIfAlive(child.pid);
      killIfAlive(pid);
    });
    child.kill("SIGTERM");
    assert.equal(await within(10_000, "wrap to end", exit), "SIGTERM", "wrap ends by the signal");
    await waitFor(3000, `server ${pid} to be gone`, () => !pidAlive(pid));
    assert.equal(readFileSync(record, "utf8"), "", "the server received nothing");
  });

  test("the client closes stdin: the server is stopped and wrap exits 0 (no orphan)", async (t) => {
    const w = await wrap(t);
    w.child.stdin?.write(line({ jsonrpc: "2.0", id: 1, method: "ping" }));
    await w.out.reply(1, 10_000);
    const pid = await w.serverPid();
    w.child.stdin?.end();
    assert.equal(await within(10_000, "wrap to exit", w.exit), 0);
    await waitFor(3000, `server ${pid} to be gone`, () => !pidAlive(pid));
  });

  test("SIGTERM to wrap reaches a server that ignores its input closing; nothing is left running", async (t) => {
    const w = await wrap(t, [], "stubborn");
    w.child.stdin?.write(line({ jsonrpc: "2.0", id: 1, method: "ping" }));
    await w.out.reply(1, 10_000);
    const pid = await w.serverPid();
    w.child.kill("SIGTERM");
    const code = await within(10_000, "wrap to exit", w.exit);
    assert.equal(code, 0, "the client asked it to stop: not a server failure");
    await waitFor(3000, `server ${pid} to be gone`, () => !pidAlive(pid));
  });

  test("a server that started its own children (a shell wrapper): the whole group is stopped, wrap exits", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "assay-cli-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const pack = await writePack(dir, "pack.yaml", PACK);
    const pidFile = join(dir, "grandchild.pid");
    // The grandchild holds the server's stdout open after the shell is gone.
    const child = spawn(
      process.execPath,
      [
        ASSAY_BIN,
        "mcp",
        "wrap",
        "--policy",
        pack,
        "--",
        "sh",
        "-c",
        `sleep 300 & echo $! > ${pidFile}; wait`,
      ],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let grandchild = 0;
    await waitFor(5000, "the grandchild to start", () => {
      try {
        grandchild = Number(readFileSync(pidFile, "utf8").trim());
      } catch {
        return false;
      }
      return grandchild > 0;
    });
    t.after(() => {
      if (pidAlive(grandchild)) process.kill(grandchild, "SIGKILL");
    });
    child.stdin?.end();
    assert.equal(await within(10_000, "wrap to exit", exit), 0);
    await waitFor(3000, `grandchild ${grandchild} to be gone`, () => !pidAlive(grandchild));
  });

  test("--max-frame-bytes: a larger frame is refused with its id and not forwarded", async (t) => {
    const w = await wrap(t, ["--max-frame-bytes", "4096"]);
    const big = {
      jsonrpc: "2.0",
      id: "big",
      method: "tools/call",
      params: { name: "read", arguments: { s: "x".repeat(8192) } },
    };
    w.child.stdin?.write(line(big));
    w.child.stdin?.write(
      line({ jsonrpc: "2.0", id: "small", method: "tools/call", params: { name: "read", arguments: {} } }),
    );
    const r = (await w.out.reply("big", 10_000)) as { error: { code: number; message: string } };
    assert.equal(r.error.code, -32600);
    assert.match(r.error.message, /4096/);
    await w.out.reply("small", 5000);
    const received = readFileSync(w.record, "utf8");
    assert.ok(!received.includes('"big"'));
    assert.ok(received.includes('"small"'));
    const rejected = readLog(w.log).filter((e) => e.type === "assay.gate.frame_rejected");
    assert.equal(rejected.length, 1);
  });

  test("the same answers, records and server bytes, in order, however frames are chunked", async (t) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom("read", "exec", "ping", "garbage", "list"), { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 30 }),
        async (kinds, cuts) => {
          const frames = kinds.map((k, i) => {
            const id = `r${i}`;
            if (k === "garbage") return `{"jsonrpc":"2.0","id":"${id}","method":"tools/call",\n`;
            if (k === "ping") return line({ jsonrpc: "2.0", id, method: "ping" });
            if (k === "list") return line({ jsonrpc: "2.0", id, method: "tools/list" });
            return line({
              jsonrpc: "2.0",
              id,
              method: "tools/call",
              params: { name: k, arguments: { n: i } },
            });
          });
          const text = frames.join("");
          const chunks: string[] = [];
          for (let at = 0, c = 0; at < text.length; c++) {
            const size = cuts[c % cuts.length] as number;
            chunks.push(text.slice(at, at + size));
            at += size;
          }
          const w = await wrap(t, []);
          // Once the gate is up and reading, chunks arrive one by one (not all at start-up).
          w.child.stdin?.write(line({ jsonrpc: "2.0", id: "up", method: "ping" }));
          await w.out.reply("up", 10_000);
          for (const [i, chunk] of chunks.entries()) {
            w.child.stdin?.write(chunk);
            if (i % 3 === 0) await new Promise((r) => setImmediate(r));
          }
          // Every frame is answered, the unparsable ones too (their id is read from the text).
          const replies = (await Promise.all(kinds.map((_, i) => w.out.reply(`r${i}`, 10_000)))) as Array<{
            id: string;
            result?: unknown;
            error?: unknown;
          }>;
          w.child.stdin?.end();
          await within(10_000, "wrap to exit", w.exit);
          assert.deepEqual(
            replies.map((r) => r.id),
            kinds.map((_, i) => `r${i}`),
          );
          for (const [i, k] of kinds.entries()) {
            const r = replies[i] as { result?: unknown; error?: unknown };
            // Garbage has no valid request to answer with a result; the rest reach the server or
            // are denied with a result (deny mode `result`).
            if (k === "garbage") assert.ok(r.error !== undefined, `r${i} ${k}`);
            else assert.ok(r.result !== undefined || r.error !== undefined, `r${i} ${k}`);
          }
          assert.deepEqual(
            decisions(w.log).map((e) => e.data.request_id),
            kinds.flatMap((k, i) => (k === "read" || k === "exec" ? [`r${i}`] : [])),
            "one record per tools/call, in the order sent",
          );
          const reached = readFileSync(w.record, "utf8")
            .split("\n")
            .filter((l) => l !== "")
            .map((l) => (JSON.parse(l) as { id: string }).id);
          const expected = [
            "up",
            ...kinds.flatMap((k, i) => (k === "exec" || k === "garbage" ? [] : [`r${i}`])),
          ];
          assert.deepEqual(
            reached,
            expected,
            "allowed messages reach the server in the order sent, nothing else",
          );
        },
      ),
      { numRuns: 3, seed: 20261204 },
    );
  });

  test("bad invocations exit 2 with a one-line message; only a pack found invalid once loading has begun starts a server, stopped at once", async (t) => {
    const dir = await tempDir(t);
    const pack = await writePack(dir, "pack.yaml", PACK);
    const badPack = await writePack(dir, "bad.yaml", "id: bad\nversion: 1\nrules: [{}]\n");
    const badPins = join(dir, "pins.json");
    await writeFile(badPins, '{"schema_version": 1, "tools": {"x": {"input_schema": "nope"}}}');
    const server = ["--", process.execPath, RECORDING_SERVER, join(dir, "never.bin")];
    const cases: Array<[string[], RegExp]> = [
      [["mcp", "wrap", "--policy", pack, "--max-frame-bytes", "10", ...server], /--max-frame-bytes/],
      [["mcp", "wrap", "--policy", pack, "--max-frame-bytes", "lots", ...server], /--max-frame-bytes/],
      // The server starts while the packs load (docs/mcp-gate.md): this one is stopped unserved.
      [
        [
          "mcp",
          "wrap",
          "--policy",
          badPack,
          "--",
          process.execPath,
          RECORDING_SERVER,
          join(dir, "bad-pack.bin"),
        ],
        /bad\.yaml/,
      ],
      [["mcp", "wrap", "--policy", join(dir, "missing.yaml"), ...server], /missing\.yaml/],
      [["mcp", "wrap", "--policy", pack, "--pins", badPins, ...server], /pins\.json/],
      [
        ["mcp", "wrap", "--policy", pack, "--decision-log", join(dir, "no", "such", "dir.ndjson"), ...server],
        /decision log/,
      ],
      [["mcp", "wrap", "--policy", pack, "--deny-mode", "silent", ...server], /deny-mode/],
      [["mcp", "wrap", ...server], /policy/],
      [
        [
          "mcp",
          "pins",
          "update",
          "--pins",
          badPins,
          "--",
          process.execPath,
          RECORDING_SERVER,
          join(dir, "never.bin"),
        ],
        /pins\.json/,
      ],
      // A server that leaves at once: the user's input, not an internal error (one line below).
      [
        ["mcp", "pins", "update", "--pins", join(dir, "new-pins.json"), "--", "true"],
        /^assay: `true` closed the connection before listing its tools/,
      ],
    ];
    // Two at a time: each is a node start-up.
    const results: Array<{ code: number | null; stderr: string }> = [];
    for (let i = 0; i < cases.length; i += 2) {
      results.push(...(await Promise.all(cases.slice(i, i + 2).map(([args]) => assayAsync(args)))));
    }
    for (const [i, [args, message]] of cases.entries()) {
      const r = results[i] as { code: number | null; stderr: string };
      assert.equal(r.code, 2, `${args.join(" ")}\n${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
      assert.ok(!/\n\s+at /.test(r.stderr), `no stack trace: ${r.stderr}`);
    }
    assert.throws(() => readFileSync(join(dir, "never.bin.pid")), "no server was started");
    const leftAtOnce = results[cases.length - 1] as { stderr: string };
    assert.equal(leftAtOnce.stderr.trim().split("\n").length, 1, leftAtOnce.stderr);
    assert.ok(!existsSync(join(dir, "new-pins.json")), "no pins written");
    // The server started for the invalid pack (killed, perhaps before it even wrote its pid)
    // received nothing and is not running.
    assert.ok(!existsSync(join(dir, "bad-pack.bin")), "it received nothing");
    if (existsSync(join(dir, "bad-pack.bin.pid"))) {
      const pid = Number(readFileSync(join(dir, "bad-pack.bin.pid"), "utf8"));
      await within(
        5000,
        "the server to be gone",
        (async () => {
          while (isAlive(pid)) await new Promise((r) => setTimeout(r, 20));
        })(),
      );
    }
  });

  test("pins update: a server that leaves right after initialize is reported (exit 2), not left unsaid", async (t) => {
    // It used to end the process with exit 0 and nothing said in about 7 runs of 10: five tries.
    const dir = await tempDir(t);
    const runs = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        assayAsync([
          "mcp",
          "pins",
          "update",
          "--pins",
          join(dir, `p${i}.json`),
          "--",
          process.execPath,
          LEAVING_SERVER,
        ]),
      ),
    );
    for (const r of runs) {
      assert.equal(r.code, 2, r.stderr);
      assert.equal(
        r.stderr,
        `assay: \`${process.execPath}\` closed the connection before listing its tools (did it exit?)\n`,
      );
    }
  });

  test("a server that cannot be started: exit 2", () => {
    const dir = "/nonexistent";
    const r = assay([
      "mcp",
      "wrap",
      "--policy",
      "packs/mcp-baseline.yaml",
      "--",
      `${dir}/assay-no-such-server`,
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot start/);
  });

  test("--help on wrap and pins update", () => {
    for (const args of [
      ["mcp", "wrap", "--help"],
      ["mcp", "pins", "update", "--help"],
    ]) {
      const r = assay(args);
      assert.equal(r.code, 0, args.join(" "));
      assert.match(r.stdout, /Usage:/);
    }
  });
});

/** Whether a process with this pid exists (and is not a zombie we could still signal). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
