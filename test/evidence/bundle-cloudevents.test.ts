import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { writeBundle } from "../../src/evidence/bundle-writer.js";
import { verifyBundle } from "../../src/evidence/verify-bundle.js";
import { canonicalJson } from "../../src/lib/canonical-json.js";
import { AssayError } from "../../src/lib/errors.js";
import { PACKAGE } from "../../src/lib/package-info.js";
import { ROOT } from "../run-assay.js";
import { suiteTempDir } from "../temp-dir.js";
import { decisionRecord } from "./helpers.js";

const dir = suiteTempDir("assay-bundle-ce-");
let n = 0;

/** Write NDJSON (objects are JSON.stringify'd, strings written as they are) and return its path. */
function events(lines: (string | Record<string, unknown>)[]): string {
  const path = join(dir, `in-${n++}.ndjson`);
  writeFileSync(path, lines.map((l) => `${typeof l === "string" ? l : JSON.stringify(l)}\n`).join(""));
  return path;
}

/** The members of a bundle the writer made (ustar, two members). */
function unpack(path: string): { manifest: Record<string, unknown>; lines: string[] } {
  const tar = gunzipSync(readFileSync(path));
  const body = (at: number) => {
    const size = Number.parseInt(tar.subarray(at + 124, at + 136).toString("latin1"), 8);
    return {
      text: tar.subarray(at + 512, at + 512 + size).toString("utf8"),
      next: at + 512 + Math.ceil(size / 512) * 512,
    };
  };
  const m = body(0);
  const e = body(m.next);
  const lines = e.text.split("\n");
  assert.equal(lines.pop(), "");
  return { manifest: JSON.parse(m.text), lines };
}

const sha256 = (s: string) => `sha256:${createHash("sha256").update(s, "utf8").digest("hex")}`;

function trial(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specversion: "1.0",
    id: `trial-${i}`,
    source: "urn:assay:soak:demo",
    type: "assay.soak.trial",
    time: "2026-03-04T05:06:07Z",
    datacontenttype: "application/json",
    data: { trial: i, seed: 1000 + i, outcome: i % 3 === 0 ? "fail" : "pass", scores: [0.5, 1, -2.25e-7] },
    ...extra,
  };
}

async function refused(lines: (string | Record<string, unknown>)[]): Promise<AssayError> {
  const out = join(dir, `refused-${n++}.tar.gz`);
  const before = readdirSync(dir).length;
  try {
    await writeBundle({ events: events(lines), out });
  } catch (err) {
    assert.ok(err instanceof AssayError, String(err));
    // Nothing written: no bundle, no temporary file next to it.
    assert.equal(readdirSync(dir).length, before + 1);
    return err;
  }
  assert.fail("the events were bundled");
}

describe("evidence bundle: any CloudEvents 1.0", () => {
  test("any type and data: bundled with the assay attributes, content hashes recomputed independently, verifies", async () => {
    const input = [
      trial(0),
      trial(1, {
        subject: "scenario-a",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      }),
      {
        specversion: "1.0",
        id: "x",
        source: "https://runner.example/layer/net",
        type: "runner.layer",
        data: [1, "two", null],
      },
      {
        ...trial(3),
        datacontenttype: "text/plain",
        data: "plain text",
        dataschema: "https://example.com/s.json",
      },
      { ...trial(4), data: null, assaygit: "abc1234", assaypii: false, comexampleothervalue: 5 },
      JSON.stringify(decisionRecord(5)),
    ];
    const out = join(dir, "any.tar.gz");
    const s = await writeBundle({ events: events(input), out });
    assert.equal(s.event_count, 6);
    const v = await verifyBundle(out);
    assert.ok(v.valid, JSON.stringify(v));
    const { manifest, lines } = unpack(out);
    const hashes = lines.map((line, seq) => {
      const ev = JSON.parse(line);
      assert.equal(canonicalJson(ev), line);
      const src = (typeof input[seq] === "string" ? JSON.parse(input[seq] as string) : input[seq]) as Record<
        string,
        unknown
      >;
      // Everything the input said, but `id`, plus the attributes the bundler assigns.
      const { id: _id, ...rest } = src;
      assert.deepEqual(
        { ...ev },
        {
          datacontenttype: "application/json",
          ...rest,
          id: `${s.run_id}:${seq}`,
          assayrunid: s.run_id,
          assayseq: seq,
          assaycontenthash: ev.assaycontenthash,
          assayproducer: "assay",
          assayproducerversion: PACKAGE.version,
        },
      );
      const subset: Record<string, unknown> = {
        data: ev.data,
        datacontenttype: ev.datacontenttype,
        specversion: "1.0",
        type: ev.type,
      };
      if (ev.subject !== undefined) subset.subject = ev.subject;
      assert.equal(ev.assaycontenthash, sha256(canonicalJson(subset)));
      return ev.assaycontenthash as string;
    });
    assert.equal(manifest.run_root, sha256(hashes.map((h) => `${h}\n`).join("")));
    // Without datacontenttype, data is JSON (CloudEvents JSON format §3.1): written explicitly.
    assert.equal(JSON.parse(lines[2] ?? "").datacontenttype, "application/json");
  });

  test("null attributes are unset (CloudEvents JSON format §2.2): dropped, and the hash is the same as without them", async () => {
    const a = join(dir, "null-a.tar.gz");
    const b = join(dir, "null-b.tar.gz");
    await writeBundle({
      events: events([trial(0, { subject: null, time: null, comexampleext: null })]),
      out: a,
    });
    const { time: _t, ...noTime } = trial(0);
    await writeBundle({ events: events([noTime]), out: b });
    assert.ok(readFileSync(a).equals(readFileSync(b)));
    assert.equal(JSON.parse(unpack(a).lines[0] ?? "").time, undefined);
    assert.ok((await verifyBundle(a)).valid);
  });

  test("deterministic: same events → same bytes, whatever the input's key order, spacing and ids", async () => {
    const a = join(dir, "det-a.tar.gz");
    const b = join(dir, "det-b.tar.gz");
    await writeBundle({ events: events([trial(0), trial(1), trial(2)]), out: a });
    const reordered = [trial(0), trial(1), trial(2)].map((e, i) => {
      const keys = Object.keys(e).reverse();
      const r: Record<string, unknown> = {};
      for (const k of keys) r[k] = k === "id" ? `other-${i}` : e[k];
      return JSON.stringify(r, null, 1).replaceAll("\n", " ");
    });
    await writeBundle({ events: events(reordered), out: b });
    assert.ok(readFileSync(a).equals(readFileSync(b)));
  });

  test("assay* attributes in the input are replaced; re-bundling a bundle's own events gives the same bundle", async () => {
    const first = join(dir, "re-1.tar.gz");
    const s1 = await writeBundle({
      events: events([trial(0), JSON.stringify(decisionRecord(1)), trial(2)]),
      out: first,
    });
    const again = join(dir, "re-2.tar.gz");
    const s2 = await writeBundle({ events: events(unpack(first).lines), out: again });
    assert.deepEqual(s2, s1);
    assert.ok(readFileSync(first).equals(readFileSync(again)));
    // Other values for what the bundler assigns: replaced (seq is the line order, the run id ours).
    const foreign = unpack(first).lines.map((l, i) => ({
      ...JSON.parse(l),
      id: `elsewhere:${i}`,
      assayrunid: "elsewhere",
      assayseq: 40 + i,
      assayproducer: "assay-rust",
      assayproducerversion: "2.12.0",
    }));
    const third = join(dir, "re-3.tar.gz");
    await writeBundle({ events: events(foreign), out: third });
    assert.ok(readFileSync(first).equals(readFileSync(third)));
  });

  test("a supplied assaycontenthash that is not the event's own is refused (the event changed after it was hashed)", async () => {
    const out = join(dir, "ch.tar.gz");
    await writeBundle({ events: events([trial(0)]), out });
    const ev = JSON.parse(unpack(out).lines[0] ?? "");
    ev.data.outcome = "pass";
    const err = await refused([ev]);
    assert.equal(err.code, "input_invalid");
    assert.match(err.message, /^`\/assaycontenthash`: /);
  });

  test("gate records are checked against the decision-event schema; the same data under another type is not", async () => {
    const bad = { ...decisionRecord(0), data: { effect: "maybe" } };
    const err = await refused([trial(0), bad]);
    assert.equal(err.code, "input_invalid");
    assert.match(err.where ?? "", /:2$/);
    assert.match(err.message, /^`\/data`: not a valid `assay\.tool\.decision` record/);
    const s = await writeBundle({
      events: events([trial(0), { ...bad, type: "example.decision" }]),
      out: join(dir, "g.tar.gz"),
    });
    assert.equal(s.event_count, 2);
    // A gate record with an attribute its schema does not have is refused.
    const extra = await refused([{ ...decisionRecord(0), traceparent: "00-x" }]);
    assert.match(extra.message, /assay\.tool\.decision/);
  });

  test("not a CloudEvent 1.0: refused with file:line and a JSON pointer, exit-2 code, nothing written", async () => {
    const { data: _d, ...noData } = trial(0);
    const cases: [string | Record<string, unknown>, RegExp][] = [
      ["[1,2]", /^not a CloudEvent: a line must be a JSON object$/],
      [
        { ...trial(0), specversion: undefined },
        /^`\/specversion`: not a CloudEvent: `specversion` is missing$/,
      ],
      [
        { ...trial(0), specversion: "0.3" },
        /^`\/specversion`: `specversion` is `"0.3"`: only CloudEvents `1\.0`/,
      ],
      [{ ...trial(0), id: undefined }, /^`\/id`: not a CloudEvent: `id` is missing$/],
      [{ ...trial(0), id: 7 }, /^`\/id`: not a CloudEvent: `id` must be a non-empty string, not `7`$/],
      [{ ...trial(0), type: "" }, /^`\/type`: not a CloudEvent: `type` must be a non-empty string/],
      [{ ...trial(0), source: null }, /^`\/source`: not a CloudEvent: `source` is missing$/],
      [{ ...trial(0), source: "/sensors/tn-1" }, /^`\/source`: `source` `\/sensors\/tn-1` has no `:`/],
      [{ ...noData, data_base64: "AAEC" }, /^`\/data_base64`: binary `data_base64` cannot be bundled/],
      [{ ...trial(0), data_base64: "AAEC" }, /^`\/data_base64`: /],
      [noData, /^event has no `data`: .*write `"data": null`/],
      [{ ...trial(0), Foo: "x" }, /^`\/Foo`: `Foo` is not a CloudEvents attribute name/],
      [{ ...trial(0), "a/b": "x" }, /^`\/a~1b`: /],
      [{ ...trial(0), Foo: null }, /^`\/Foo`: /],
      [
        { ...trial(0), comexample: { a: 1 } },
        /^`\/comexample`: extension attribute `comexample` is an object/,
      ],
      [{ ...trial(0), comexample: [1] }, /^`\/comexample`: extension attribute `comexample` is an array/],
      [{ ...trial(0), comexample: 1.5 }, /^`\/comexample`: .*32-bit integer/],
      [{ ...trial(0), comexample: 2 ** 31 }, /^`\/comexample`: .*32-bit integer/],
      [
        { ...trial(0), time: "yesterday" },
        /^`\/time`: `time` must be an RFC 3339 timestamp, not `"yesterday"`$/,
      ],
      [{ ...trial(0), time: "2026-13-01T00:00:00Z" }, /^`\/time`: /],
      [{ ...trial(0), datacontenttype: "" }, /^`\/datacontenttype`: /],
      [{ ...trial(0), dataschema: "s.json" }, /^`\/dataschema`: `dataschema` must be an absolute URI/],
      [{ ...trial(0), subject: 3 }, /^`\/subject`: `subject` must be a string, not `3`$/],
    ];
    for (const [line, message] of cases) {
      const err = await refused([trial(1), line]);
      assert.equal(err.code, "input_invalid", String(message));
      assert.match(err.where ?? "", /in-\d+\.ndjson:2$/, String(message));
      assert.match(err.message, message);
    }
  });

  test("accepted as CloudEvents: 32-bit extension integers, booleans, lowercase t/z timestamps, offsets, leap seconds", async () => {
    const s = await writeBundle({
      events: events([
        trial(0, { comexamplemin: -(2 ** 31), comexamplemax: 2 ** 31 - 1, comexampleflag: true }),
        trial(1, { time: "2026-03-04t05:06:07.123456z" }),
        trial(2, { time: "2016-12-31T23:59:60+01:00" }),
        trial(3, { subject: "" }),
      ]),
      out: join(dir, "ok.tar.gz"),
    });
    assert.equal(s.event_count, 4);
    assert.ok((await verifyBundle(join(dir, "ok.tar.gz"))).valid);
  });

  test("numbers that would lose precision are refused with the line, column and JSON pointer", async () => {
    const line = (n: string, data = `{"a":[1,{"k/~":"x\\"1e400","b":${n}}]}`) =>
      `{"specversion":"1.0","id":"1","source":"urn:x:y","type":"t","data":${data}}`;
    for (const [num, reads] of [
      ["9007199254740993", undefined],
      ["18446744073709551615", undefined],
      ["0.10000000000000001", "0.1"],
      ["1e-400", "0"],
      ["1.0000000000000000000001", "1"],
      ["123456789012345678.5", "123456789012345680"],
    ] as const) {
      const text = line(num);
      const err = await refused([trial(0), text]);
      assert.equal(err.code, "json_unsafe_number", num);
      assert.match(err.where ?? "", new RegExp(`:2:${text.indexOf(num, text.indexOf('"b"')) + 1}$`), num);
      assert.ok(err.message.includes("`/data/a/1/b`"), err.message);
      if (reads) assert.ok(err.message.includes(`\`${reads}\``), err.message);
    }
    // In an extension attribute too.
    const ext = await refused([
      `{"specversion":"1.0","id":"1","source":"urn:x:y","type":"t","big":1e400,"data":1}`,
    ]);
    assert.equal(ext.code, "json_unsafe_number");
    assert.ok(ext.message.includes("`/big`"), ext.message);
  });

  test("numbers that read back as written (another spelling of the same double) are accepted", async () => {
    const nums = [
      "1.50",
      "1E2",
      "100000000000000000000",
      "-0",
      "0.30000000000000004",
      "5e-324",
      "1.7976931348623157e308",
      "9007199254740992",
      "0.000000000000000000001",
    ];
    const s = await writeBundle({
      events: events([
        `{"specversion":"1.0","id":"1","source":"urn:x:y","type":"t","data":[${nums.join(",")}]}`,
      ]),
      out: join(dir, "nums.tar.gz"),
    });
    assert.equal(s.event_count, 1);
    assert.equal(JSON.parse(unpack(join(dir, "nums.tar.gz")).lines[0] ?? "").data.length, nums.length);
  });
});

describe("evidence bundle: gate decision logs bundle exactly as before CloudEvents input", () => {
  // Measured on the writer before it took any CloudEvents (commit d3b8baa), with assay 0.1.0: the
  // run root depends on the events only; the tar (uncompressed, so not on zlib's build) on the version too.
  const LOG = join(ROOT, "test/fixtures/evidence/decision-log.ndjson");
  const PINNED_VERSION = "0.1.0";
  const pins = [
    [undefined, "85be6dc9c63f9ff5b93d8de837d167c90158e89df31718c12ff736b64e575b5f"],
    ["ci-4711", "29055148555a646217c052c398b4310c748383a96956b3ff5dd727d9341e359f"],
  ] as const;
  for (const [runId, tarSha] of pins)
    test(`test/fixtures/evidence/decision-log.ndjson${runId ? ` --run-id ${runId}` : ""}`, async (t) => {
      const out = join(dir, `pin-${runId ?? "default"}.tar.gz`);
      const s = await writeBundle({ events: LOG, out, ...(runId ? { runId } : {}) });
      assert.equal(s.run_root, "sha256:f23a44cd4328f0d7e6097d406ba24bd979f73c25fa6157e0bb2c2ceeefc24ca2");
      if (PACKAGE.version !== PINNED_VERSION) {
        t.skip(`the tar digest is pinned for assay ${PINNED_VERSION} (it names the version that wrote it)`);
        return;
      }
      assert.equal(
        createHash("sha256")
          .update(gunzipSync(readFileSync(out)))
          .digest("hex"),
        tarSha,
      );
    });
});
