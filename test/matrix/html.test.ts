import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { schemaValidator } from "../../src/lib/schema-validator.js";
import { renderMatrixHtml } from "../../src/matrix/html/render-html.js";
import { CLAIM_STATES, type MatrixDoc } from "../../src/matrix/matrix-doc.js";
import { fixtureMatrixDoc } from "./fixture-doc.js";

/** Every string value of `v`, rewritten by `f` (keys and numbers stay). */
function mapStrings<T>(v: T, f: (s: string) => string): T {
  if (typeof v === "string") return f(v) as T;
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f)) as T;
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, f)])) as T;
  }
  return v;
}

/** The rows of the per-group claims tables, as their markup. */
function claimRows(page: string): string[] {
  const tables = page.match(/<table class="claims">[\s\S]*?<\/table>/g) ?? [];
  return tables.flatMap((t) => t.match(/<tr data-state="[^"]*">[\s\S]*?<\/tr>/g) ?? []);
}

function headings(page: string): { level: number; text: string }[] {
  return [...page.matchAll(/<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1>/g)].map((m) => ({
    level: Number(m[1]),
    text: (m[2] ?? "").replace(/<[^>]*>/g, ""),
  }));
}

describe("the fixture", () => {
  test("is a valid matrix.json (schemas/matrix.schema.json)", () => {
    const validate = schemaValidator("matrix");
    const doc = fixtureMatrixDoc();
    assert.ok(validate(doc), JSON.stringify(validate.errors));
  });

  test("has claims in every state, every evidence status, two soak runs and a broken campaign", () => {
    const doc = fixtureMatrixDoc();
    assert.deepEqual(new Set(doc.matrix.map((r) => r.state)), new Set(CLAIM_STATES));
    assert.deepEqual(
      new Set(doc.matrix.flatMap((r) => r.evidence.map((e) => e.status))),
      new Set(["pass", "fail", "missing", "error"]),
    );
    assert.equal(doc.groups.length, 3);
    assert.equal(doc.soak_runs.length, 2);
    for (const r of doc.soak_runs) {
      assert.equal(r.dimensions.length, 4);
      assert.deepEqual(
        r.pass_hat_k.map((p) => p.k),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
    }
    assert.ok(doc.readiness.every((l) => !l.met && l.unmet.length > 0));
    assert.equal(doc.evidence_campaign.outside.length, 1);
    assert.equal(doc.evidence_campaign.missing_timestamps.length, 1);
  });
});

describe("renderMatrixHtml", () => {
  const doc = fixtureMatrixDoc();
  const page = renderMatrixHtml(doc);

  test("is deterministic: the same document gives the same bytes", () => {
    assert.equal(renderMatrixHtml(fixtureMatrixDoc()), page);
    assert.equal(renderMatrixHtml(JSON.parse(JSON.stringify(doc)) as MatrixDoc), page);
  });

  test("is one HTML5 document in English with charset and viewport", () => {
    assert.ok(page.startsWith('<!doctype html>\n<html lang="en">'));
    assert.match(page, /<meta charset="utf-8">/);
    assert.match(page, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.equal(page.match(/<script\b/g)?.length, 1, "only the page's own script");
  });

  test("escapes claims: a script and quotes in a claim stay text", () => {
    const evil = fixtureMatrixDoc();
    const row = evil.matrix[0];
    assert.ok(row !== undefined);
    row.claim = `<script>alert(1)</script> "quoted" and 'single' & more`;
    const out = renderMatrixHtml(evil);
    assert.equal(out.match(/<script\b/gi)?.length, 1, "no script element beyond the page's own");
    assert.ok(
      out.includes(
        "&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; and &#39;single&#39; &amp; more",
      ),
    );
    assert.ok(!out.includes("<script>alert(1)"));
  });

  test("escapes every string of the document, in text and in attributes", () => {
    const payload = `<x-injected a="1">'"&</x-injected>" x-attr="1`;
    const evil = mapStrings(fixtureMatrixDoc(), (s) => `${s}${payload}`);
    const out = renderMatrixHtml(evil);
    assert.ok(!out.includes("<x-injected"), "a tag from the document became markup");
    assert.ok(!out.includes('" x-attr="1'), "a quote from the document closed an attribute");
    assert.ok(out.includes("&lt;x-injected a=&quot;1&quot;&gt;&#39;&quot;&amp;&lt;/x-injected&gt;"));
    assert.equal(out.match(/<script\b/gi)?.length, 1);
  });

  test("every claim id appears in a row of a claims table, once", () => {
    const rows = claimRows(page);
    assert.equal(rows.length, doc.matrix.length);
    const ids = rows.map((r) => /<th scope="row"><code>([^<]*)<\/code><\/th>/.exec(r)?.[1]);
    assert.deepEqual(
      ids,
      doc.groups.flatMap((g) => doc.matrix.filter((r) => r.group === g.id).map((r) => r.id)),
    );
    for (const r of doc.matrix) {
      const tr = rows.find((x) => x.includes(`<code>${r.id}</code>`));
      assert.ok(tr?.startsWith(`<tr data-state="${r.state}">`), `${r.id} has its state`);
      assert.ok(tr?.includes(`>${r.state}</span>`), `${r.id} writes its state`);
      assert.ok(tr?.includes(r.recommendation), `${r.id} writes its recommendation`);
    }
  });

  test("a claim whose group the document does not list still gets a row", () => {
    const odd = fixtureMatrixDoc();
    const row = odd.matrix[0];
    assert.ok(row !== undefined);
    row.group = "orphans";
    assert.equal(claimRows(renderMatrixHtml(odd)).length, odd.matrix.length);
  });

  test("loads nothing: no external resource, no http(s) or protocol-relative src or href", () => {
    const withUrl = fixtureMatrixDoc();
    const row = withUrl.matrix[1];
    assert.ok(row !== undefined);
    row.claim = "see https://example.com/x and //cdn.example.com/y.js";
    for (const out of [page, renderMatrixHtml(withUrl)]) {
      const refs = [...out.matchAll(/\b(?:src|href|action|xlink:href)\s*=\s*["']?([^"'\s>]*)/gi)].map(
        (m) => m[1] ?? "",
      );
      for (const ref of refs) assert.ok(ref.startsWith("#"), `a reference leaves the page: \`${ref}\``);
      assert.ok(!/<(?:link|img|iframe|object|embed|base|audio|video|source)\b/i.test(out));
      assert.ok(!/url\(|@import/i.test(out), "CSS that could fetch");
    }
    assert.ok(!/https?:\/\//.test(page), "no URL in the markup of a document without any");
    assert.match(page, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
  });

  test("headings: one h1, then h2 sections in the report's order, never skipping a level", () => {
    const hs = headings(page);
    assert.equal(hs[0]?.level, 1);
    assert.equal(hs.filter((h) => h.level === 1).length, 1);
    for (let i = 1; i < hs.length; i++) {
      const [prev, cur] = [hs[i - 1]?.level ?? 1, hs[i]?.level ?? 1];
      assert.ok(cur >= 2 && cur <= prev + 1, `heading ${i} (h${cur} \`${hs[i]?.text}\`) after h${prev}`);
    }
    assert.deepEqual(
      hs.filter((h) => h.level === 2).map((h) => h.text),
      [
        "Readiness",
        "Claim states by group",
        ...doc.groups.map((g) => g.title),
        "Evidence campaign",
        "Design-partner disclosures",
        "Soak runs",
        "Inputs",
      ],
    );
  });

  test("every chart is an svg with role img, a title it is labelled by, and a desc", () => {
    const svgs = page.match(/<svg\b[^>]*>[\s\S]*?<\/svg>/g) ?? [];
    // states, four dimensions, pass^k, violations
    assert.equal(svgs.length, 1 + 4 + 1 + 1);
    assert.equal(svgs.length, page.match(/<svg\b/g)?.length);
    for (const svg of svgs) {
      assert.match(svg, /^<svg [^>]*role="img"/);
      const label = /aria-labelledby="([^"]+)"/.exec(svg)?.[1];
      assert.ok(label !== undefined, "aria-labelledby");
      assert.match(svg, new RegExp(`<title id="${label}">[^<]+</title>`));
      assert.match(svg, /<desc id="[^"]+">[^<]+<\/desc>/);
      assert.ok(/<(?:rect|circle|path|line)\b/.test(svg), "draws something");
    }
  });

  test("ids are unique in the page", () => {
    const ids = [...page.matchAll(/\bid="([^"]*)"/g)].map((m) => m[1]);
    assert.equal(new Set(ids).size, ids.length);
  });

  test("readiness writes met or not met in words and every unmet requirement with its reason", () => {
    for (const l of doc.readiness) {
      for (const u of l.unmet) assert.ok(page.includes(`<strong>${u.requirement}</strong>`), u.requirement);
    }
    assert.ok(page.includes("✗ not met"));
    const met = fixtureMatrixDoc();
    for (const l of met.readiness) [l.met, l.unmet] = [true, []];
    assert.ok(renderMatrixHtml(met).includes("✓ met"));
  });

  test("without soak runs a sentence replaces the soak charts", () => {
    const none = fixtureMatrixDoc();
    none.soak_runs = [];
    const out = renderMatrixHtml(none);
    assert.match(out, /No soak report is among the evidence/);
    assert.equal(out.match(/<svg\b/g)?.length, 1, "only the states chart");
  });

  test("violations are summed over runs, most first, ties by rule id", () => {
    const rules = [...page.matchAll(/<g><title>([a-z-]+): (\d+)<\/title><text/g)].map(
      (m) => `${m[1]}=${m[2]}`,
    );
    assert.deepEqual(rules, [
      "workspace-paths=11",
      "call-budget=4",
      "no-post-after-secret=4",
      "no-private-net=1",
    ]);
  });

  test("an empty matrix still renders a complete page", () => {
    const empty = fixtureMatrixDoc();
    empty.groups = [];
    empty.matrix = [];
    empty.soak_runs = [];
    empty.inputs = [];
    empty.title = "";
    const out = renderMatrixHtml(empty);
    assert.match(out, /<h1>Evidence matrix<\/h1>/);
    assert.ok(out.endsWith("</html>\n"));
    assert.equal(claimRows(out).length, 0);
  });
});
