import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { canonicalizeText } from "../../src/evidence/canonicalize-text.js";
import { checkEventLine } from "../../src/evidence/event-line.js";
import { verifyBundle } from "../../src/evidence/verify-bundle.js";
import { AssayError } from "../../src/lib/errors.js";
import { findPython, runPython } from "../lib/python-jcs.js";
import { suiteTempDir } from "../temp-dir.js";
import { contentsOf, gzipOf, member, save, tarOf } from "./craft.js";

// RFC 8785 number semantics: every number is the IEEE 754 double nearest to it, printed as
// ECMAScript prints it. Checked against an implementation that is not ours (Python, test/lib/python-jcs.ts).

const dir = suiteTempDir("assay-rfc8785-");
const py = findPython();
const skip = "skip" in py ? py.skip : false;
const python = "python" in py ? py.python : "";

/** Our canonical form of one JSON number token, or null when it is refused as out of range. */
function ours(token: string, numbers: "i-json" | "rfc8785"): string | null {
  try {
    return canonicalizeText(Buffer.from(token), "t", { numbers }).canonical;
  } catch (err) {
    if (err instanceof AssayError && err.code === "json_unsafe_number") return null;
    throw err;
  }
}

const digits = (minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789"), minLength, maxLength });

/** JSON number tokens: big integers (around 2^53 and 2^64 too), doubles in many spellings, long decimals. */
const token = fc.oneof(
  fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }).map(String),
  fc.bigInt({ min: (1n << 53n) - 4096n, max: (1n << 53n) + 4096n }).map(String),
  fc.bigInt({ min: (1n << 64n) - 10n ** 6n, max: (1n << 64n) + 10n ** 6n }).map((n) => `-${n}`),
  fc
    .tuple(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 21 }))
    .map(([d, p]) => (p === 0 ? String(d) : d.toPrecision(p))),
  fc
    .record({
      neg: fc.boolean(),
      int: digits(1, 30),
      frac: fc.option(digits(1, 30)),
      exp: fc.option(fc.integer({ min: -400, max: 400 })),
    })
    .map(
      ({ neg, int, frac, exp }) =>
        `${neg ? "-" : ""}${int.replace(/^0+(?=\d)/, "")}${frac === null ? "" : `.${frac}`}${exp === null ? "" : `e${exp}`}`,
    ),
);

const FIXED = [
  "9007199254740993",
  "18446744073709551615",
  "-9007199254740993",
  "295147905179352830000",
  "1000000000000000000001",
  "-0",
  "0.1",
  "1e21",
  "1e400",
  "-1e400",
  "1e-400",
  "333333333.33333329",
  "1.7976931348623157e308",
  "1.7976931348623159e308",
  "5e-324",
  "2e-324",
];

describe("RFC 8785 numbers, cross-checked against Python", { skip }, () => {
  test("the issue's examples: integers beyond 2^53 as the doubles they round to", () => {
    assert.equal(ours("9007199254740993", "rfc8785"), "9007199254740992");
    assert.equal(ours("18446744073709551615", "rfc8785"), "18446744073709552000");
    assert.equal(
      ours("[9007199254740993,-18446744073709551615]", "rfc8785"),
      "[9007199254740992,-18446744073709552000]",
    );
    assert.equal(ours("9007199254740993", "i-json"), null);
  });

  test("property: every token canonicalizes as Python's float() + ECMAScript layout says", () => {
    const tokens = [...FIXED, ...fc.sample(token, { numRuns: 4000, seed: 8785 })];
    const theirs = runPython(
      python,
      `
out = []
for t in json.load(sys.stdin):
    v = json.loads(t)
    try:
        es = number(v, False)
    except ValueError:
        out.append([None, None])
        continue
    # For an integer token: does the canonical form still name the same integer?
    same = Decimal(es) == Decimal(v) if isinstance(v, int) else None
    out.append([es, same])
print(json.dumps(out))
`,
      tokens,
    ) as [string | null, boolean | null][];
    assert.equal(theirs.length, tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i] as string;
      const [es, same] = theirs[i] as [string | null, boolean | null];
      assert.equal(ours(t, "rfc8785"), es, `rfc8785: ${t}`);
      // The default refuses exactly the integers whose canonical form names another integer.
      const iJson = ours(t, "i-json");
      if (same === false) assert.equal(iJson, null, `i-json should refuse ${t}`);
      else assert.equal(iJson, es, `i-json: ${t}`);
    }
  });
});

// Events as the earlier implementation writes them: CloudEvents with its extension attributes,
// integers beyond 2^53 in `data`, content hashes over RFC 8785 (doubles). Python builds them.
const EVENTS = [
  { type: "assay.verifier.property", data: '{"counter":18446744073709551615,"note":"u64 max"}' },
  {
    type: "assay.tool.decision",
    subject: "read_file",
    data: '{"id":9007199254740993,"ids":[9007199254740993,-9007199254740993,12345678901234567890123],"ratio":0.1,"exact":9007199254740992}',
  },
  {
    type: "assay.runner.layer",
    data: '{"plain":1,"nested":{"deep":[{"n":123456789012345678}]},"s":"h\\u00e9llo \\u2603 \\ud83d\\ude00","f":1.50,"g":1e21,"z":-0}',
    extra: {
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      dataschema: "https://example.com/layer.schema.json",
      assaypolicyid: "sha256:0123",
    },
  },
  { type: "assay.small", data: '{"n":42,"list":[1,2,3]}' },
];

const BUILD_EVENTS = `
spec = json.load(sys.stdin)
run_id = spec["run_id"]
events, exact = [], []
for seq, e in enumerate(spec["events"]):
    data = json.loads(e["data"])
    subset = {"specversion": "1.0", "type": e["type"], "datacontenttype": "application/json", "data": data}
    ev = {"specversion": "1.0", "type": e["type"], "source": "urn:assay:rust-writer", "id": f"{run_id}:{seq}",
          "time": "2026-05-11T00:00:00Z", "datacontenttype": "application/json", "assayrunid": run_id,
          "assayseq": seq, "assayproducer": "assay", "assayproducerversion": "2.6.0", "assaygit": "unknown",
          "assaypii": False, "assaysecrets": False, "data": data}
    ev.update(e.get("extra", {}))
    if "subject" in e:
        subset["subject"] = ev["subject"] = e["subject"]
    ev["assaycontenthash"] = sha256(jcs(subset))
    events.append(ev)
    exact.append(dict(ev, assaycontenthash=sha256(jcs(subset, True))))
print(json.dumps({
    # The writer's lines: RFC 8785 of each event (integers beyond 2^53 rounded).
    "canonical": "".join(jcs(ev) + "\\n" for ev in events),
    # Not canonical (spaces, ASCII escapes, key order), integers exactly as written.
    "raw": "".join(json.dumps(ev) + "\\n" for ev in events),
    # Content hashes over the integers as written: not RFC 8785.
    "exact": "".join(json.dumps(ev) + "\\n" for ev in exact),
    "hashes": [ev["assaycontenthash"] for ev in events],
    "run_root": sha256("".join(ev["assaycontenthash"] + "\\n" for ev in events)),
}))
`;

interface Built {
  canonical: string;
  raw: string;
  exact: string;
  hashes: string[];
  run_root: string;
}

function bundle(lines: string, name: string): string {
  const { manifest, events } = contentsOf(lines, () => {}, "rust-run");
  return save(dir, name, gzipOf(tarOf(member("manifest.json", manifest), member("events.ndjson", events))));
}

describe("verify: events holding integers beyond 2^53 (the earlier implementation's hashes)", {
  skip,
}, () => {
  const built = () => runPython(python, BUILD_EVENTS, { run_id: "rust-run", events: EVENTS }) as Built;

  test("canonical lines (the writer's form) verify, with Python's run root", async () => {
    const b = built();
    assert.match(b.canonical, /"counter":18446744073709552000/);
    for (const workers of [0, 1]) {
      const r = await verifyBundle(bundle(b.canonical, `canonical-${workers}.tar.gz`), undefined, {
        workers,
      });
      assert.equal(r.valid, true, JSON.stringify(r));
      if (r.valid) {
        assert.equal(r.run_root, b.run_root);
        assert.equal(r.event_count, EVENTS.length);
      }
    }
  });

  test("lines with the integers as written (not canonical) verify to the same run root", async () => {
    const b = built();
    assert.match(b.raw, /"counter": 18446744073709551615/);
    const r = await verifyBundle(bundle(b.raw, "raw.tar.gz"));
    assert.equal(r.valid, true, JSON.stringify(r));
    if (r.valid) assert.equal(r.run_root, b.run_root);
    const lines = b.raw.split("\n");
    for (let i = 0; i < EVENTS.length; i++)
      assert.equal(
        checkEventLine(Buffer.from(lines[i] as string), `l${i}`, 64).contentHash,
        b.hashes[i],
        `line ${i}`,
      );
  });

  test("content hashes over the exact integers are not RFC 8785: the first such event fails", async () => {
    const r = await verifyBundle(bundle(built().exact, "exact.tar.gz"));
    assert.equal(r.valid, false);
    if (!r.valid)
      assert.deepEqual([r.failure.code, r.failure.where], ["event_content_hash_mismatch", "events.ndjson:1"]);
  });

  test("what stays refused: a number beyond the double range, duplicate keys, lone surrogates", () => {
    const b = built();
    const line = (b.canonical.split("\n")[3] as string).replace('"n":42', "NUMBER");
    const code = (replacement: string) => {
      try {
        checkEventLine(Buffer.from(line.replace("NUMBER", replacement)), "l", 64);
        return "accepted";
      } catch (err) {
        return (err as { failure: { code: string } }).failure.code;
      }
    };
    assert.equal(code('"n":1e400'), "event_invalid_json");
    assert.equal(code('"n":1,"n":1'), "event_duplicate_key");
    assert.equal(code('"n":"\\ud800"'), "event_invalid_json");
    // Rounded the same way as its neighbours, still its own content: the hash no longer matches.
    assert.equal(code('"n":9007199254740993'), "event_content_hash_mismatch");
  });
});
