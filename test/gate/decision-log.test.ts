// Over ~400 lines on purpose: the decision log file: locking, partial lines, crashes and concurrent writers, one suite.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs, { readFileSync } from "node:fs";
import { appendFile, link, readdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import { FileDecisionLog, MemoryDecisionLog } from "../../src/gate/decision-log.js";
import type { AnyGateEvent, FrameRejectedEvent } from "../../src/records/decision-event.js";
import { decisionEventProblem, parseDecisionLog } from "../../src/records/decision-record.js";
import { assayErrorAsync } from "../policy/helpers.js";
import { decisionEvent } from "./decision-records.js";
import { assertBuilt, JsonLines, tempDir, within } from "./helpers.js";

const LOG_WRITER = fileURLToPath(new URL("../fixtures/gate/log-writer.mjs", import.meta.url));

const SCHEMA = JSON.parse(
  readFileSync(new URL("../../schemas/decision-event.schema.json", import.meta.url), "utf8"),
);
const validate = new Ajv2020({ strict: true, allowUnionTypes: true }).compile(SCHEMA);

/**
 * Run `fn` with writeSync writing 100 bytes, then failing as a full disk does (the module sees
 * the patched function).
 */
async function diskFullAfter100Bytes(fn: () => Promise<void>): Promise<void> {
  const real = fs.writeSync;
  let calls = 0;
  fs.writeSync = ((fd: number, data: string | Buffer, off?: number, len?: number) => {
    calls++;
    if (calls === 1) return writePrefix(real, fd, data, off, len, 100);
    throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
  }) as typeof fs.writeSync;
  syncBuiltinESMExports();
  try {
    await fn();
  } finally {
    fs.writeSync = real;
    syncBuiltinESMExports();
  }
}

/**
 * Write at most `max` bytes of what writeSync was given (text, or a Buffer from `off` for `len`
 * bytes), as a write that comes up short does.
 */
function writePrefix(
  real: typeof fs.writeSync,
  fd: number,
  data: string | Buffer,
  off: number | undefined,
  len: number | undefined,
  max: number,
): number {
  const bytes =
    typeof data === "string"
      ? Buffer.from(data, "utf8")
      : data.subarray(off ?? 0, (off ?? 0) + (len ?? data.length));
  return real(fd, bytes, 0, Math.min(bytes.length, max));
}

function rejectedEvent(seq: number): FrameRejectedEvent {
  return {
    specversion: "1.0",
    id: `s1:${seq}`,
    source: "urn:assay:mcp-gate:test",
    type: "assay.gate.frame_rejected",
    time: "2026-01-02T03:04:05Z",
    datacontenttype: "application/json",
    data: {
      request_id: null,
      session_id: "s1",
      reason: "unparsable",
      message: "unparsable frame",
      bytes: 12,
    },
  };
}

describe("decision records and their schema", () => {
  test("well-formed records validate; the schema's own validator agrees with decisionEventProblem", () => {
    const deny = decisionEvent(2, {
      effect: "deny",
      rule_id: "no-write",
      reason_code: "tool_denied",
      outcome: "denied",
      violations: [
        {
          rule_id: "no-write",
          path: "/tool",
          message: "denied",
          reason_code: "tool_denied",
          effect: "deny",
          severity: "high",
        },
      ],
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      arguments: { path: "/x" },
    });
    for (const e of [decisionEvent(1), deny, rejectedEvent(3)]) {
      assert.equal(decisionEventProblem(e), undefined);
      assert.ok(validate(e), JSON.stringify(validate.errors));
    }
  });

  test("malformed records are refused with a pointer to the problem", () => {
    const bad: unknown[] = [
      { ...decisionEvent(1), specversion: "0.3" },
      { ...decisionEvent(1), extra: true },
      { ...decisionEvent(1), type: "assay.gate.frame_rejected" },
      { ...decisionEvent(1), time: "yesterday" },
      decisionEvent(1, { policy_digest: "md5:x" }),
      decisionEvent(1, { outcome: "maybe" as never }),
      decisionEvent(1, { traceparent: "not-a-traceparent" }),
      decisionEvent(1, { reason_code: "because" as never }),
      decisionEvent(1, { tool_call_id: "" }),
      { ...rejectedEvent(1), data: { ...rejectedEvent(1).data, reason: "bored" } },
    ];
    for (const e of bad) {
      const problem = decisionEventProblem(e);
      assert.ok(problem, JSON.stringify(e));
      assert.equal(validate(e), false, JSON.stringify(e));
    }
  });
});

describe("FileDecisionLog", () => {
  test("appends one complete line per record, each valid against the schema", async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, "log.ndjson");
    const log = await FileDecisionLog.open(path);
    const events: AnyGateEvent[] = [decisionEvent(0), rejectedEvent(1), decisionEvent(2)];
    for (const e of events) await log.append(e);
    await log.close();
    const text = await readFile(path, "utf8");
    assert.ok(text.endsWith("\n"));
    const lines = text.slice(0, -1).split("\n");
    assert.equal(lines.length, 3);
    for (const l of lines) assert.ok(validate(JSON.parse(l)), JSON.stringify(validate.errors));
    assert.deepEqual(parseDecisionLog(text), events);
  });

  test("a record cut short by a failing write (disk full) is removed, so the next record starts a line", async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, "log.ndjson");
    const log = await FileDecisionLog.open(path);
    await log.append(decisionEvent(0));
    await assert.rejects(
      diskFullAfter100Bytes(() => log.append(decisionEvent(1))),
      /ENOSPC/,
    );
    await log.append(decisionEvent(2));
    await log.close();
    const parsed = parseDecisionLog(await readFile(path, "utf8"));
    assert.deepEqual(
      parsed.map((e) => e.id),
      [decisionEvent(0).id, decisionEvent(2).id],
    );
  });

  test("a write that comes up short inside a multi-byte character goes on from that byte: the log holds the exact UTF-8 lines", async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, "log.ndjson");
    const log = await FileDecisionLog.open(path);
    const events = [
      decisionEvent(0, { message: "café ☕ déjà vu 🙂" }),
      decisionEvent(1, { message: "naïve 🙂🙂 fin" }),
    ];
    const text = events.map((e) => `${JSON.stringify(e)}\n`).join("");
    const utf8 = Buffer.from(text, "utf8");
    // The first write stops one byte into the first 4-byte character; the rest go to the file.
    const stop = utf8.indexOf(Buffer.from("🙂", "utf8")) + 1;
    const real = fs.writeSync;
    let calls = 0;
    fs.writeSync = ((fd: number, data: string | Buffer, off?: number, len?: number) => {
      calls++;
      if (calls === 1) return writePrefix(real, fd, data, off, len, stop);
      return (real as (...a: unknown[]) => number)(fd, data, off, len);
    }) as typeof fs.writeSync;
    syncBuiltinESMExports();
    try {
      log.appendSync(events);
    } finally {
      fs.writeSync = real;
      syncBuiltinESMExports();
    }
    assert.ok(calls >= 2, "the short write was followed by another");
    assert.deepEqual(await readFile(path), utf8, "every byte once, in order");
    // The size the log keeps is the file's: a later cut record is removed exactly.
    await assert.rejects(
      diskFullAfter100Bytes(() => log.append(decisionEvent(2))),
      /ENOSPC/,
    );
    log.appendSync([decisionEvent(3)]);
    await log.close();
    assert.deepEqual(
      parseDecisionLog(await readFile(path, "utf8")).map((e) => e.id),
      [0, 1, 3].map((i) => decisionEvent(i).id),
    );
  });

  test("appendSync stores a batch in one write, or (a record off-schema, a failed write) none of it", async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, "log.ndjson");
    const log = await FileDecisionLog.open(path);
    const real = fs.writeSync;
    let writes = 0;
    fs.writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
      writes++;
      return (real as (...a: unknown[]) => number)(...args);
    }) as typeof fs.writeSync;
    syncBuiltinESMExports();
    try {
      log.appendSync([decisionEvent(0), decisionEvent(1), decisionEvent(2)]);
      assert.equal(writes, 1, "one write for the batch");
      assert.throws(
        () => log.appendSync([decisionEvent(3), { ...decisionEvent(4), specversion: "2.0" } as never]),
        /schema/,
      );
      assert.equal(writes, 1, "a batch with an off-schema record is not written at all");
    } finally {
      fs.writeSync = real;
      syncBuiltinESMExports();
    }
    let cut = 0;
    fs.writeSync = ((fd: number, data: string | Buffer, off?: number, len?: number) => {
      if (cut++ === 0) return writePrefix(real, fd, data, off, len, 200);
      throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
    }) as typeof fs.writeSync;
    syncBuiltinESMExports();
    try {
      assert.throws(() => log.appendSync([decisionEvent(5), decisionEvent(6)]), /ENOSPC/);
    } finally {
      fs.writeSync = real;
      syncBuiltinESMExports();
    }
    log.appendSync([decisionEvent(7)]);
    await log.close();
    assert.deepEqual(
      parseDecisionLog(await readFile(path, "utf8")).map((e) => e.id),
      [0, 1, 2, 7].map((i) => decisionEvent(i).id),
      "the cut batch left nothing behind",
    );
  });

  test("a record whose toJSON appends to the same log: the nested record goes first, the batch stays whole", async (t) => {
    const path = join(await tempDir(t), "log.ndjson");
    const log = await FileDecisionLog.open(path);
    let nested = false;
    const args = {
      toJSON() {
        if (!nested) {
          nested = true;
          log.appendSync([decisionEvent(9)]);
        }
        return {};
      },
    };
    const withArgs = decisionEvent(2);
    (withArgs.data as unknown as Record<string, unknown>).arguments = args;
    log.appendSync([decisionEvent(0), decisionEvent(1), withArgs, decisionEvent(3)]);
    await log.close();
    assert.deepEqual(
      parseDecisionLog(await readFile(path, "utf8")).map((e) => e.id),
      [9, 0, 1, 2, 3].map((i) => decisionEvent(i).id),
    );
  });

  test("a record that does not match the schema is not written, and append rejects", async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, "log.ndjson");
    const log = await FileDecisionLog.open(path);
    await log.append(decisionEvent(0));
    await assert.rejects(log.append({ ...decisionEvent(1), specversion: "2.0" } as never), /schema/);
    await log.close();
    assert.equal(parseDecisionLog(await readFile(path, "utf8")).length, 1);
  });

  test("reopening appends after what is there", async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, "log.ndjson");
    for (const seq of [0, 1]) {
      const log = await FileDecisionLog.open(path);
      await log.append(decisionEvent(seq));
      await log.close();
    }
    assert.deepEqual(
      parseDecisionLog(await readFile(path, "utf8")).map((e) => e.id),
      ["s1:0", "s1:1"],
    );
  });

  test("a half-written last line left by a crash is dropped on reopen; earlier lines survive", async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, "log.ndjson");
    const log = await FileDecisionLog.open(path);
    await log.append(decisionEvent(0));
    await log.append(decisionEvent(1));
    await log.close();
    const complete = await readFile(path, "utf8");
    // The crash: part of a third record, no newline.
    const third = JSON.stringify(decisionEvent(2));
    await appendFile(path, third.slice(0, Math.floor(third.length / 2)));
    assert.equal(parseDecisionLog(await readFile(path, "utf8")).length, 2, "readers skip the partial line");

    const reopened = await FileDecisionLog.open(path);
    assert.equal(
      await readFile(path, "utf8"),
      complete,
      "the partial line is gone, the rest is byte-identical",
    );
    await reopened.append(decisionEvent(3));
    await reopened.close();
    const text = await readFile(path, "utf8");
    const lines = text.slice(0, -1).split("\n");
    assert.equal(lines.length, 3);
    for (const l of lines) assert.ok(validate(JSON.parse(l)), l);
    assert.deepEqual(
      parseDecisionLog(text).map((e) => e.id),
      ["s1:0", "s1:1", "s1:3"],
    );
  });

  test("a partial line longer than the scan block, and a file that is all partial line", async (t) => {
    const dir = await tempDir(t);
    const long = join(dir, "long.ndjson");
    const first = `${JSON.stringify(decisionEvent(0))}\n`;
    await writeFile(long, `${first}${"x".repeat(200 * 1024)}`);
    await (await FileDecisionLog.open(long)).close();
    assert.equal(await readFile(long, "utf8"), first);

    const only = join(dir, "only.ndjson");
    await writeFile(only, '{"specversion":"1.0","id":"s1:0","sour');
    const log = await FileDecisionLog.open(only);
    await log.append(decisionEvent(1));
    await log.close();
    assert.deepEqual(
      parseDecisionLog(await readFile(only, "utf8")).map((e) => e.id),
      ["s1:1"],
    );
  });

  test("an empty or missing file opens cleanly", async (t) => {
    const dir = await tempDir(t);
    const empty = join(dir, "empty.ndjson");
    await writeFile(empty, "");
    await (await FileDecisionLog.open(empty)).close();
    assert.equal(await readFile(empty, "utf8"), "");
    const missing = join(dir, "missing.ndjson");
    await (await FileDecisionLog.open(missing)).close();
    assert.equal(await readFile(missing, "utf8"), "");
  });

  test("an unopenable path fails at open, not at the first call", async (t) => {
    const dir = await tempDir(t);
    await assert.rejects(FileDecisionLog.open(join(dir, "no-such-dir", "log.ndjson")));
    await assert.rejects(FileDecisionLog.open(dir));
  });
});

describe("FileDecisionLog: one gate per log", () => {
  test("a log another open FileDecisionLog holds is refused; once it is closed the log opens", async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, "log.ndjson");
    const first = await FileDecisionLog.open(path);
    const err = await assayErrorAsync(
      () => FileDecisionLog.open(join(dir, ".", "log.ndjson")),
      "output_unwritable",
    );
    assert.match(err.message, /in use by another gate/);
    assert.equal(err.where, join(dir, ".", "log.ndjson"));
    await first.append(decisionEvent(0));
    await first.close();
    assert.deepEqual(await readdir(dir), ["log.ndjson"], "the lock is gone with the gate");
    const second = await FileDecisionLog.open(path);
    await second.append(decisionEvent(1));
    await second.close();
    assert.equal(parseDecisionLog(await readFile(path, "utf8")).length, 2);
  });

  test("a lock left by a process that is gone is taken over; one from another host is respected", async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, "log.ndjson");
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    const deadPid = Number(gone.stdout);
    await writeFile(`${path}.lock`, `${deadPid}@${hostname()}\n`);
    const log = await FileDecisionLog.open(path);
    assert.match(await readlink(`${path}.lock`), new RegExp(`^${process.pid}@${hostname()} [0-9a-f]+\n$`));
    await log.close();
    await writeFile(`${path}.lock`, `1@another-host.example\n`);
    await assayErrorAsync(() => FileDecisionLog.open(path), "output_unwritable");
    // A lock with this process's pid that this process did not take is a previous process's
    // (a container restarted with the same pid): taken over.
    await writeFile(`${path}.lock`, `${process.pid}@${hostname()}\n`);
    await (await FileDecisionLog.open(path)).close();
  });

  test("a symlink to a log takes the log's own lock", async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, "log.ndjson");
    const first = await FileDecisionLog.open(path);
    await symlink(path, join(dir, "alias.ndjson"));
    await symlink(dir, join(dir, "linked-dir"));
    for (const alias of [join(dir, "alias.ndjson"), join(dir, "linked-dir", "log.ndjson")])
      await assayErrorAsync(() => FileDecisionLog.open(alias), "output_unwritable");
    await first.close();
  });

  test("a partial record is cut only when the file is what this gate wrote: a log appended to under another name (a hard link) is left whole", async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, "log.ndjson");
    const a = await FileDecisionLog.open(path);
    await link(path, join(dir, "hard.ndjson"));
    const b = await FileDecisionLog.open(join(dir, "hard.ndjson"));
    await b.append(decisionEvent(0));
    await a.append(decisionEvent(1));
    await assert.rejects(
      diskFullAfter100Bytes(() => b.append(decisionEvent(2))),
      /ENOSPC/,
    );
    // b did not cut (a's record would have gone with it) and refuses from now on.
    await assert.rejects(b.append(decisionEvent(3)), /another process appends to it/);
    const text = await readFile(path, "utf8");
    assert.ok(text.includes(`"id":"${decisionEvent(1).id}"`), "a's record is still there");
    await a.close();
    await b.close();
  });

  test("a log that is not a regular file (/dev/null) is neither locked nor cut", async () => {
    const log = await FileDecisionLog.open("/dev/null");
    await log.append(decisionEvent(0));
    await log.close();
  });

  test("two gate processes: the second is refused while the first holds the log; a write cut short by `ulimit -f` removes only the writer's own partial record", async (t) => {
    assertBuilt();
    const dir = await tempDir(t);
    const path = join(dir, "log.ndjson");
    // An earlier gate's records, written before the writer below took the log.
    const earlier = await FileDecisionLog.open(path);
    await earlier.appendSync([decisionEvent(0), decisionEvent(1), decisionEvent(2)]);
    await earlier.close();
    const before = await readFile(path, "utf8");
    const writer = spawn(
      "bash",
      ["-c", 'ulimit -f 8 && exec "$0" "$@"', process.execPath, LOG_WRITER, path],
      {
        stdio: ["pipe", "pipe", "inherit"],
      },
    );
    t.after(() => writer.kill());
    const out = new JsonLines(writer.stdout);
    await out.next((m) => "unparsable" in m && m.unparsable === "open", 10_000);
    await assayErrorAsync(() => FileDecisionLog.open(path), "output_unwritable");
    writer.stdin.write("go\n");
    const summary = (await out.next((m) => "stored" in m, 10_000)) as { stored: number; error: string };
    assert.equal(summary.error, "EFBIG", "the file size limit cut a record short");
    assert.ok(summary.stored > 0);
    await assayErrorAsync(() => FileDecisionLog.open(path), "output_unwritable");
    writer.stdin.end();
    await within(10_000, "the writer to exit", new Promise((r) => writer.once("exit", r)));
    // Every record stored is there, each a whole line; the earlier gate's records are untouched.
    const text = await readFile(path, "utf8");
    assert.ok(text.startsWith(before));
    assert.ok(text.endsWith("\n"), "no partial record left");
    const events = parseDecisionLog(text);
    assert.equal(events.length, 3 + summary.stored);
    assert.equal(text.slice(0, -1).split("\n").length, events.length);
    const after = await FileDecisionLog.open(path);
    await after.append(decisionEvent(9));
    await after.close();
    assert.equal(parseDecisionLog(await readFile(path, "utf8")).length, 4 + summary.stored);
  });
});

describe("parseDecisionLog", () => {
  test("skips an unterminated last line (a record still being written)", () => {
    const a = JSON.stringify(decisionEvent(0));
    const b = JSON.stringify(decisionEvent(1));
    assert.deepEqual(parseDecisionLog(""), []);
    assert.deepEqual(parseDecisionLog(a), []);
    assert.deepEqual(parseDecisionLog(`${a}\n`).length, 1);
    assert.deepEqual(parseDecisionLog(`${a}\n${b.slice(0, 10)}`).length, 1);
    assert.deepEqual(
      parseDecisionLog(`${a}\n${b}`).length,
      1,
      "even a complete-looking JSON without newline",
    );
    assert.deepEqual(parseDecisionLog(`${a}\n${b}\n`).length, 2);
  });
});

describe("MemoryDecisionLog", () => {
  test("keeps valid records and refuses invalid ones", async () => {
    const log = new MemoryDecisionLog();
    await log.append(decisionEvent(0));
    await assert.rejects(log.append({ ...decisionEvent(1), id: "" } as never), /schema/);
    assert.equal(log.events.length, 1);
  });
});
