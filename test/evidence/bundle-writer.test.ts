import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import {
  appendFileSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import tarStream from "tar-stream";
import { contentHash } from "../../src/evidence/bundle-format.js";
import { writeBundle } from "../../src/evidence/bundle-writer.js";
import { canonicalHeaders } from "../../src/evidence/tar-header.js";
import { verifyBundle } from "../../src/evidence/verify-bundle.js";
import { canonicalJson, sha256Digest } from "../../src/lib/canonical-json.js";
import { AssayError } from "../../src/lib/errors.js";
import { suiteTempDir } from "../temp-dir.js";
import { decisionLog, decisionRecord, writeDecisionLog } from "./helpers.js";

const dir = suiteTempDir("assay-evidence-");

function members(path: string): { header: Buffer; name: string; body: Buffer }[] {
  const tar = gunzipSync(readFileSync(path));
  const out: { header: Buffer; name: string; body: Buffer }[] = [];
  let at = 0;
  while (tar[at] !== 0) {
    const header = tar.subarray(at, at + 512);
    const name = header.subarray(0, 100).toString("latin1").replace(/\0.*$/s, "");
    const size = Number.parseInt(header.subarray(124, 136).toString("latin1"), 8);
    out.push({ header, name, body: tar.subarray(at + 512, at + 512 + size) });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

describe("evidence bundle writer", () => {
  test("the format: gzip header, two members in order, canonical manifest, CloudEvents lines", async () => {
    const log = writeDecisionLog(dir, 5);
    const out = join(dir, "a.tar.gz");
    const s = await writeBundle({ events: log, out });
    const bytes = readFileSync(out);
    assert.deepEqual([...bytes.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    const [m, e, ...rest] = members(out);
    assert.equal(rest.length, 0);
    assert.equal(m?.name, "manifest.json");
    assert.equal(e?.name, "events.ndjson");
    assert.ok(m && e);
    assert.ok(m.header.equals(canonicalHeaders("manifest.json", m.body.length)[0]));
    assert.ok(e.header.equals(canonicalHeaders("events.ndjson", e.body.length)[0]));
    const manifest = JSON.parse(m.body.toString("utf8"));
    assert.equal(canonicalJson(manifest), m.body.toString("utf8"));
    const lines = e.body.toString("utf8").split("\n");
    assert.equal(lines.pop(), "");
    const hashes = lines.map((l, seq) => {
      const ev = JSON.parse(l);
      const rec = decisionRecord(seq);
      assert.equal(canonicalJson(ev), l);
      assert.equal(ev.id, `${s.run_id}:${seq}`);
      assert.equal(ev.assayseq, seq);
      assert.equal(ev.assayrunid, s.run_id);
      assert.equal(ev.source, rec.source);
      assert.equal(ev.time, rec.time);
      assert.equal(ev.assayproducer, "assay");
      assert.equal(ev.assaycontenthash, contentHash(rec as Parameters<typeof contentHash>[0]));
      assert.deepEqual(ev.data, rec.data);
      return ev.assaycontenthash as string;
    });
    const root = sha256Digest(hashes.map((h) => `${h}\n`).join(""));
    assert.deepEqual(manifest, {
      schema_version: 1,
      bundle_id: root,
      producer: { name: "assay", version: manifest.producer.version },
      run_id: `run-${root.slice(7, 23)}`,
      event_count: 5,
      run_root: root,
      algorithms: { canon: "jcs-rfc8785", hash: "sha256", root: 'sha256(concat(content_hash + "\\n"))' },
      files: {
        "events.ndjson": { path: "events.ndjson", sha256: sha256Digest(e.body), bytes: e.body.length },
      },
    });
    assert.ok((await verifyBundle(out)).valid);
  });

  test("tar-stream reads it back (a tar other tools understand)", async () => {
    const out = join(dir, "ts.tar.gz");
    await writeBundle({ events: writeDecisionLog(dir, 3, "ts.ndjson"), out });
    const names: string[] = [];
    const extract = tarStream.extract();
    extract.on("entry", (h, stream, next) => {
      names.push(`${h.name} ${h.mode?.toString(8)} ${h.uid}/${h.gid} ${h.mtime?.getTime()} ${h.type}`);
      stream.resume();
      stream.on("end", next);
    });
    const done = new Promise((r) => extract.on("finish", r));
    extract.end(gunzipSync(readFileSync(out)));
    await done;
    assert.deepEqual(names, ["manifest.json 644 0/0 0 file", "events.ndjson 644 0/0 0 file"]);
  });

  test("same events → byte-identical bundle; the input's ids do not matter; order does", async () => {
    const a = join(dir, "d1.tar.gz");
    const b = join(dir, "d2.tar.gz");
    const c = join(dir, "d3.tar.gz");
    const d = join(dir, "d4.tar.gz");
    await writeBundle({ events: writeDecisionLog(dir, 20, "d1.ndjson"), out: a });
    await writeBundle({ events: writeDecisionLog(dir, 20, "d2.ndjson"), out: b });
    assert.ok(readFileSync(a).equals(readFileSync(b)));
    const renamed = decisionLog(20).replaceAll('"id":"s1:', '"id":"other-session:');
    writeFileSync(join(dir, "d3.ndjson"), renamed);
    await writeBundle({ events: join(dir, "d3.ndjson"), out: c });
    assert.ok(readFileSync(a).equals(readFileSync(c)));
    const swapped = decisionLog(20).split("\n");
    [swapped[0], swapped[1]] = [swapped[1] ?? "", swapped[0] ?? ""];
    writeFileSync(join(dir, "d4.ndjson"), swapped.join("\n"));
    await writeBundle({ events: join(dir, "d4.ndjson"), out: d });
    assert.ok(!readFileSync(a).equals(readFileSync(d)));
  });

  test("--run-id is used in the manifest and every event id; the run root does not change", async () => {
    const log = writeDecisionLog(dir, 3, "r.ndjson");
    const s1 = await writeBundle({ events: log, out: join(dir, "r1.tar.gz") });
    const s2 = await writeBundle({ events: log, out: join(dir, "r2.tar.gz"), runId: "ci-1234" });
    assert.equal(s2.run_id, "ci-1234");
    assert.equal(s1.run_root, s2.run_root);
    const v = await verifyBundle(join(dir, "r2.tar.gz"));
    assert.ok(v.valid && v.run_id === "ci-1234");
    await assert.rejects(writeBundle({ events: log, out: join(dir, "r3.tar.gz"), runId: "has space" }), {
      code: "usage",
    });
  });

  test("a partial last line (a crash mid-write) is skipped, as every decision log reader does", async () => {
    const path = join(dir, "partial.ndjson");
    writeFileSync(path, `${decisionLog(2)}{"specversion":"1.0","id":`);
    const s = await writeBundle({ events: path, out: join(dir, "p.tar.gz") });
    assert.equal(s.event_count, 2);
  });

  test("bad input: located errors with their codes, nothing written", async () => {
    const bad = async (text: string) => {
      const path = join(dir, "bad.ndjson");
      writeFileSync(path, text);
      const out = join(dir, "bad.tar.gz");
      try {
        await writeBundle({ events: path, out });
      } catch (err) {
        assert.ok(err instanceof AssayError);
        assert.throws(() => readFileSync(out));
        return `${err.code} ${err.where?.replace(dir, "")}`;
      }
      return "written";
    };
    const rec = JSON.stringify(decisionRecord(0));
    assert.equal(
      await bad(`${rec}\n${rec.slice(0, -1)},"type":"x"}\n`),
      `json_duplicate_key /bad.ndjson:2:${rec.length + 1}`,
    );
    assert.equal(await bad(`${rec}\n\n`), "input_invalid /bad.ndjson:2");
    assert.equal(
      await bad(`${rec.replace('"source":"urn:assay:mcp-gate:test"', '"source":"nocolon"')}\n`),
      "input_invalid /bad.ndjson:1",
    );
    assert.equal(await bad('{"n":12345678901234567890}\n'), "json_unsafe_number /bad.ndjson:1:6");
    await assert.rejects(writeBundle({ events: join(dir, "missing.ndjson"), out: join(dir, "m.tar.gz") }), {
      code: "input_unreadable",
    });
    await assert.rejects(
      writeBundle({ events: writeDecisionLog(dir, 1, "ok.ndjson"), out: join(dir, "no-dir", "x.tar.gz") }),
      {
        code: "output_unwritable",
      },
    );
  });

  test("input that can be read only once (a FIFO) gives the same bundle as the file", {
    timeout: 30_000,
  }, async () => {
    const log = writeDecisionLog(dir, 40, "once.ndjson");
    const fromFile = await writeBundle({ events: log, out: join(dir, "once-file.tar.gz") });
    const fifo = join(dir, "once.fifo");
    execFileSync("mkfifo", [fifo]);
    // The writer of the FIFO: a child, so this process is free to read it.
    const writer = spawn("sh", ["-c", 'cat "$1" > "$2"', "sh", log, fifo], { stdio: "ignore" });
    const exited = once(writer, "exit");
    const fromFifo = await writeBundle({ events: fifo, out: join(dir, "once-fifo.tar.gz") });
    await exited;
    assert.equal(fromFifo.event_count, 40);
    assert.deepEqual(fromFifo, fromFile);
    assert.ok(
      readFileSync(join(dir, "once-fifo.tar.gz")).equals(readFileSync(join(dir, "once-file.tar.gz"))),
    );
  });

  test("a FIFO as the output (as /dev/stdout may be) gets the bundle and stays a FIFO", {
    timeout: 30_000,
  }, async (t) => {
    const log = writeDecisionLog(dir, 12, "to-fifo.ndjson");
    const expected = await writeBundle({ events: log, out: join(dir, "to-file.tar.gz") });
    const fifo = join(dir, "out.fifo");
    execFileSync("mkfifo", [fifo]);
    const reader = spawn("cat", [fifo], { stdio: ["ignore", "pipe", "ignore"] });
    t.after(() => reader.kill());
    const chunks: Buffer[] = [];
    reader.stdout.on("data", (d: Buffer) => chunks.push(d));
    const closed = once(reader, "close");
    const viaFifo = await writeBundle({ events: log, out: fifo });
    await closed;
    assert.ok(Buffer.concat(chunks).equals(readFileSync(join(dir, "to-file.tar.gz"))));
    assert.deepEqual(viaFifo, expected);
    assert.ok(lstatSync(fifo).isFIFO(), "still a FIFO");
  });

  test("bad input from a FIFO is refused at its first bad line, as from a file, without reading on", {
    timeout: 30_000,
  }, async () => {
    const fifo = join(dir, "endless.fifo");
    execFileSync("mkfifo", [fifo]);
    // An endless writer: only a reader that stops at the first line it refuses ends this.
    const writer = spawn("sh", ["-c", 'yes "not json" > "$1"', "sh", fifo], { stdio: "ignore" });
    const exited = once(writer, "exit");
    await assert.rejects(writeBundle({ events: fifo, out: join(dir, "endless.tar.gz") }), (err: unknown) => {
      assert.ok(err instanceof AssayError);
      assert.equal(err.code, "json_syntax");
      assert.match(err.where ?? "", /endless\.fifo:1(:\d+)?$/);
      return true;
    });
    writer.kill();
    await exited;
    assert.ok(!existsSync(join(dir, "endless.tar.gz")));
  });

  test("a file that grows between the two reads is refused, and nothing is written", {
    timeout: 30_000,
  }, async () => {
    const log = writeDecisionLog(dir, 20_000, "growing.ndjson");
    const out = join(dir, "growing.tar.gz");
    // The second read starts when the events' temporary file appears under TMPDIR: append then.
    const tmp = mkdtempSync(join(dir, "growing-tmp-"));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    let appended = false;
    const appender = setInterval(() => {
      const bundleDir = readdirSync(tmp)[0];
      if (appended || bundleDir === undefined || !existsSync(join(tmp, bundleDir, "events.ndjson"))) return;
      appendFileSync(log, decisionLog(1));
      appended = true;
    }, 1);
    try {
      await assert.rejects(writeBundle({ events: log, out }), (err: unknown) => {
        assert.ok(err instanceof AssayError);
        assert.equal(err.code, "input_invalid");
        assert.equal(err.where, log);
        assert.match(err.message, /^the events changed while they were read \(20000 events, then 20001\)/);
        return true;
      });
    } finally {
      clearInterval(appender);
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    assert.ok(appended);
    assert.ok(!existsSync(out));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith("growing.tar.gz")),
      [],
    );
  });
});
