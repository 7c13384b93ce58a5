import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { canonicalizeText } from "../../src/evidence/canonicalize-text.js";
import { DEFAULT_LIMITS, type EvidenceLimits } from "../../src/evidence/limits.js";
import { type VerifyResult, verifyBundle } from "../../src/evidence/verify-bundle.js";
import { canonicalJson } from "../../src/lib/canonical-json.js";
import { suiteTempDir } from "../temp-dir.js";
import { bundleEvent, bundleOf, goodLines, save } from "./craft.js";

const dir = suiteTempDir("assay-evidence-");
let n = 0;

// Over 256 KiB of lines, so the worker path sends several batches and the last one is partial.
const COUNT = 1600;
const LINES = goodLines(COUNT).split("\n").slice(0, COUNT);

function text(lines: string[]): string {
  return `${lines.join("\n")}\n`;
}

function edited(edit: (lines: string[]) => void): string {
  const lines = [...LINES];
  edit(lines);
  return text(lines);
}

/**
 * Line `i` as another writer may make it: integers beyond 2^53 in `data` (hashed as RFC 8785
 * doubles) and the earlier implementation's extensions; written exactly as given, or canonical.
 */
function bigLine(i: number, canonical: boolean): string {
  const e = bundleEvent(i);
  const data = `{"n":${18446744073709551615n + BigInt(i)},"m":[9007199254740993,-${i}]}`;
  const subject = e.subject === undefined ? "" : `"subject":${JSON.stringify(e.subject)},`;
  const subset = `{"specversion":"1.0","type":${JSON.stringify(e.type)},"datacontenttype":${JSON.stringify(e.datacontenttype)},${subject}"data":${data}}`;
  const hash = canonicalizeText(Buffer.from(subset), "subset", { numbers: "rfc8785" }).digest;
  const attrs = {
    ...e,
    data: undefined,
    assaycontenthash: hash,
    assaygit: "unknown",
    assaypii: false,
    assaysecrets: false,
  };
  const raw = JSON.stringify(attrs).replace(/}$/, `,"data":${data}}`);
  return canonical ? canonicalizeText(Buffer.from(raw), "line", { numbers: "rfc8785" }).canonical : raw;
}

/** Verify the same bundle on this thread and with one and two worker threads: all three must agree. */
async function agree(events: string, limits: EvidenceLimits = DEFAULT_LIMITS): Promise<VerifyResult> {
  const path = save(dir, `p${n++}.tar.gz`, bundleOf(events));
  const inline = await verifyBundle(path, limits, { workers: 0 });
  for (const workers of [1, 2]) {
    const parallel = await verifyBundle(path, limits, { workers });
    assert.deepEqual(parallel, inline, `workers: ${workers}`);
  }
  return inline;
}

function failure(r: VerifyResult): { code: string; where: string | undefined } {
  assert.equal(r.valid, false, "expected the bundle to fail");
  if (r.valid) throw new Error("unreachable");
  return { code: r.failure.code, where: r.failure.where };
}

describe("verify with worker threads gives what verifying on one thread gives", () => {
  test("a valid bundle of many batches", async () => {
    const r = await agree(text(LINES));
    assert.equal(r.valid, true);
    if (r.valid) assert.equal(r.event_count, COUNT);
  });

  test("lines with integers beyond 2^53 and extension attributes, exact or canonical", async () => {
    const r = await agree(
      edited((l) => {
        for (const i of [0, 3, 800, 1201, COUNT - 1]) l[i] = bigLine(i, i % 2 === 1);
      }),
    );
    assert.equal(r.valid, true, JSON.stringify(r));
    const changed = await agree(
      edited((l) => {
        l[1201] = bigLine(1201, false).replace("9007199254740993", "9007199254740995");
      }),
    );
    assert.deepEqual(failure(changed), { code: "event_content_hash_mismatch", where: "events.ndjson:1202" });
  });

  test("the first bad line wins, even when a later batch fails first", async () => {
    const r = await agree(
      edited((l) => {
        l[1500] = "{not json";
        l[1200] = "";
      }),
    );
    assert.deepEqual(failure(r), { code: "event_blank_line", where: "events.ndjson:1201" });
  });

  test("seq, run id and content hash problems are located by line", async () => {
    const swapped = await agree(
      edited((l) => {
        [l[700], l[701]] = [l[701] as string, l[700] as string];
      }),
    );
    assert.deepEqual(failure(swapped), { code: "event_seq_mismatch", where: "events.ndjson:701" });
    const otherRun = await agree(
      edited((l) => {
        l[1234] = canonicalJson(bundleEvent(1234, "run-x"));
      }),
    );
    assert.deepEqual(failure(otherRun), { code: "event_run_id_mismatch", where: "events.ndjson:1235" });
    const last = await agree(
      edited((l) => {
        l[COUNT - 1] = (l[COUNT - 1] as string).replace('"session_id":"s1"', '"session_id":"s2"');
      }),
    );
    assert.equal(failure(last).code, "event_content_hash_mismatch");
  });

  test("a line over the limit after a bad line: the bad line is reported", async () => {
    const limits = { ...DEFAULT_LIMITS, maxLineBytes: 4096 };
    const r = await agree(
      edited((l) => {
        l[900] = "[1,2]";
        l[1000] = `{"pad":"${"x".repeat(5000)}"}`;
      }),
      limits,
    );
    assert.deepEqual(failure(r), { code: "event_schema", where: "events.ndjson:901" });
    const long = await agree(
      edited((l) => {
        l[1000] = `{"pad":"${"x".repeat(5000)}"}`;
      }),
      limits,
    );
    assert.equal(failure(long).code, "limit_line_length");
  });

  test("property: any byte of the events changed (manifest made to agree), same verdict", async () => {
    const events = text(LINES.slice(0, 700));
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: events.length - 1 }),
        fc.integer({ min: 0x20, max: 0x7e }),
        async (pos, code) => {
          await agree(events.slice(0, pos) + String.fromCharCode(code) + events.slice(pos + 1));
        },
      ),
      { numRuns: 25, seed: 42 },
    );
  });
});
