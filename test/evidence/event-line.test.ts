import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { contentHash } from "../../src/evidence/bundle-format.js";
import { canonicalizeText } from "../../src/evidence/canonicalize-text.js";
import { checkEventLine, type EventLineFacts } from "../../src/evidence/event-line.js";
import { VerifyStop } from "../../src/evidence/verify-codes.js";
import { canonicalJson } from "../../src/lib/canonical-json.js";

// One event line on its own: what the verifier accepts from any writer of the format (the earlier
// implementation's extension attributes, CloudEvents optional attributes) and what it still refuses.

/** An event as the earlier implementation writes it, with `edit` applied and the hash made to agree. */
function event(edit: (e: Record<string, unknown>) => void = () => {}): Record<string, unknown> {
  const e: Record<string, unknown> = {
    specversion: "1.0",
    type: "assay.verifier.property",
    source: "urn:assay:cli",
    id: "run_1:0",
    time: "2026-05-11T00:00:00Z",
    datacontenttype: "application/json",
    assayrunid: "run_1",
    assayseq: 0,
    assayproducer: "assay",
    assayproducerversion: "2.6.0",
    assaygit: "unknown",
    assaypii: false,
    assaysecrets: false,
    data: { property: "p1", passed: true, cases: [1, 2.5, null, "x"] },
  };
  edit(e);
  if (e.assaycontenthash === undefined && typeof e.specversion === "string" && "data" in e)
    e.assaycontenthash = contentHash(e as Parameters<typeof contentHash>[0]);
  return e;
}

/** The verdict on an event as a canonical line (fast path) and pretty-printed (strict parser): the same. */
function verdict(e: Record<string, unknown>): string {
  const run = (text: string): string => {
    try {
      const f: EventLineFacts = checkEventLine(Buffer.from(text), "events.ndjson:1", 64);
      return `ok ${f.contentHash}`;
    } catch (err) {
      if (!(err instanceof VerifyStop)) throw err;
      return err.failure.code;
    }
  };
  const fast = run(canonicalJson(e));
  assert.equal(run(JSON.stringify(e, null, 1).replaceAll("\n", " ")), fast, "fast and strict paths disagree");
  return fast.startsWith("ok ") ? "ok" : fast;
}

describe("event line: what any writer of the format may put in an event", () => {
  test("the earlier implementation's extensions (assaygit, assaypii, assaysecrets) and any type", () => {
    assert.equal(verdict(event()), "ok");
  });

  test("CloudEvents optional attributes and more extensions", () => {
    assert.equal(
      verdict(
        event((e) => {
          e.subject = "read_file";
          e.dataschema = "https://example.com/property.schema.json";
          e.datacontenttype = "application/cloudevents-data+json";
          e.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
          e.assaypolicyid = "sha256:0123";
          e.assayretries = 3;
          e.assaynothing = null;
          e.data = "a string payload";
        }),
      ),
      "ok",
    );
    assert.equal(
      verdict(
        event((e) => {
          delete e.time;
          delete e.assaygit;
          delete e.assaypii;
          delete e.assaysecrets;
          e.data = null;
        }),
      ),
      "ok",
    );
  });

  test("the content hash covers subject but not time, source, id or the extensions", () => {
    const base = contentHash(event() as Parameters<typeof contentHash>[0]);
    const withSubject = event((e) => {
      e.subject = "s";
    });
    assert.notEqual(withSubject.assaycontenthash, base);
    const other = event((e) => {
      e.time = "2030-01-01T00:00:00Z";
      e.source = "urn:other";
      e.assaygit = "abc";
      e.assaypii = true;
      e.assaycontenthash = base;
    });
    assert.equal(verdict(other), "ok");
  });
});

describe("event line: what the format still requires", () => {
  const cases: [string, (e: Record<string, unknown>) => void, string][] = [
    ["specversion 0.3", (e) => (e.specversion = "0.3"), "event_schema"],
    ["no type", (e) => delete e.type, "event_schema"],
    ["empty id", (e) => (e.id = ""), "event_schema"],
    ["source without a colon", (e) => (e.source = "cli"), "event_schema"],
    ["no datacontenttype (the content hash names it)", (e) => delete e.datacontenttype, "event_schema"],
    ["no data", (e) => delete e.data, "event_schema"],
    ["data_base64 instead of data", (e) => (e.data_base64 = "AAAA"), "event_schema"],
    ["time not a string", (e) => (e.time = 1700000000), "event_schema"],
    ["subject null", (e) => (e.subject = null), "event_schema"],
    ["dataschema not a string", (e) => (e.dataschema = { $ref: "x" }), "event_schema"],
    ["an attribute name with capitals", (e) => (e.assayPii = false), "event_schema"],
    ["an attribute name with an underscore", (e) => (e.assay_pii = false), "event_schema"],
    [
      "__proto__ as an attribute",
      (e) => Object.defineProperty(e, "__proto__", { value: 1, enumerable: true }),
      "event_schema",
    ],
    ["an extension holding an object", (e) => (e.assaygit = { sha: "abc" }), "event_schema"],
    ["an extension holding an array", (e) => (e.assaypii = [false]), "event_schema"],
    ["an extension holding a fraction", (e) => (e.assayweight = 0.5), "event_schema"],
    ["assayseq negative", (e) => (e.assayseq = -1), "event_schema"],
    ["assayseq beyond 2^53", (e) => (e.assayseq = 2 ** 53), "event_schema"],
    ["assaycontenthash not a digest", (e) => (e.assaycontenthash = "sha256:xyz"), "event_schema"],
    ["no assayrunid", (e) => delete e.assayrunid, "event_schema"],
    ["no assayproducerversion", (e) => delete e.assayproducerversion, "event_schema"],
    [
      "content hash of other data",
      (e) => {
        e.assaycontenthash = contentHash({ ...(e as Parameters<typeof contentHash>[0]), data: 1 });
      },
      "event_content_hash_mismatch",
    ],
    ["id not <run>:<seq>", (e) => (e.id = "run_1:1"), "event_id_mismatch"],
  ];
  for (const [name, edit, code] of cases) test(name, () => assert.equal(verdict(event(edit)), code));
});

describe("event line: integers beyond 2^53 in data", () => {
  test("property: written exactly, canonical or pretty-printed, one content hash (RFC 8785 doubles)", () => {
    const big = fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }).map(String);
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.array(big, { maxLength: 4 }), (v, bigs) => {
        const data = `{"v":${JSON.stringify(v)},"big":[${bigs.join(",")}]}`;
        const subset = `{"specversion":"1.0","type":"t","datacontenttype":"application/json","data":${data}}`;
        const hash = canonicalizeText(Buffer.from(subset), "s", { numbers: "rfc8785" }).digest;
        const raw = `{"specversion":"1.0","id":"r:0","source":"urn:x","type":"t","datacontenttype":"application/json","assayrunid":"r","assayseq":0,"assayproducer":"p","assayproducerversion":"1","assaycontenthash":"${hash}","data":${data}}`;
        const canonical = canonicalizeText(Buffer.from(raw), "l", { numbers: "rfc8785" }).canonical;
        for (const line of [raw, canonical, JSON.stringify(JSON.parse(canonical), null, 2)])
          assert.equal(checkEventLine(Buffer.from(line), "l", 64).contentHash, hash);
      }),
      { numRuns: 300 },
    );
  });
});
