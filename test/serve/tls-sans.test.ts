import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { compileSanAllowList, formatSan, parseSubjectAltName } from "../../src/serve/tls/sans.js";
import { suiteTempDir } from "../temp-dir.js";
import { createCa, issueCert } from "./fixtures-pki.js";

describe("parseSubjectAltName", () => {
  test("Node's list: types and values, split on `, `", () => {
    assert.deepEqual(
      parseSubjectAltName("DNS:a.example, URI:spiffe://x/y, IP Address:1.2.3.4, email:a@b.c"),
      [
        { type: "DNS", value: "a.example" },
        { type: "URI", value: "spiffe://x/y" },
        { type: "IP Address", value: "1.2.3.4" },
        { type: "email", value: "a@b.c" },
      ],
    );
  });

  test("JSON-quoted values keep their commas and quotes: a value cannot forge a second name", () => {
    assert.deepEqual(parseSubjectAltName('DNS:"evil.example, DNS:agent.example", URI:"a\\"b"'), [
      { type: "DNS", value: "evil.example, DNS:agent.example" },
      { type: "URI", value: 'a"b' },
    ]);
  });

  test("a name with a line break is reported on one line", () => {
    const [san] = parseSubjectAltName('DNS:"a\\nb.example"');
    assert.equal(san?.value, "a\nb.example");
    assert.equal(formatSan(san ?? { type: "", value: "" }), "DNS:a\\u000ab.example");
  });

  test("nothing, or text off the grammar: no names past the break", () => {
    assert.deepEqual(parseSubjectAltName(undefined), []);
    assert.deepEqual(parseSubjectAltName(""), []);
    assert.deepEqual(parseSubjectAltName('DNS:"unterminated, DNS:agent.example'), []);
    assert.deepEqual(parseSubjectAltName("DNS:a.example,DNS:b"), [{ type: "DNS", value: "a.example,DNS:b" }]);
  });

  test("agrees with what Node prints for a real certificate", async () => {
    const dir = suiteTempDir("assay-tls-sans-");
    const ca = await createCa(dir, "ca");
    const sans = ["DNS:agent.example", "URI:spiffe://example.org/agent", "IP:::1", "email:a@b.example"];
    const cert = await issueCert(ca, dir, { name: "c", sans });
    const printed = new X509Certificate(await readFile(cert.certFile)).subjectAltName;
    assert.deepEqual(parseSubjectAltName(printed), [
      { type: "DNS", value: "agent.example" },
      { type: "URI", value: "spiffe://example.org/agent" },
      { type: "IP Address", value: "0:0:0:0:0:0:0:1" },
      { type: "email", value: "a@b.example" },
    ]);
  });
});

describe("compileSanAllowList", () => {
  const names = (text: string) => parseSubjectAltName(text);

  const cases: readonly { allow: string[]; sans: string; ok: boolean; why: string }[] = [
    { allow: [], sans: "", ok: true, why: "an empty list allows any certificate from the CA" },
    { allow: ["DNS:agent.example"], sans: "DNS:agent.example", ok: true, why: "exact typed entry" },
    { allow: ["DNS:agent.example"], sans: "DNS:Agent.EXAMPLE", ok: true, why: "DNS names ignore case" },
    {
      allow: ["DNS:agent.example"],
      sans: "URI:agent.example",
      ok: false,
      why: "a typed entry checks the type",
    },
    {
      allow: ["DNS:agent.example"],
      sans: "DNS:x.agent.example",
      ok: false,
      why: "no suffix or wildcard match",
    },
    { allow: ["DNS:*.example"], sans: "DNS:agent.example", ok: false, why: "a `*` in the list is literal" },
    { allow: ["agent.example"], sans: "URI:x, DNS:agent.example", ok: true, why: "a bare value, any type" },
    {
      allow: ["spiffe://example.org/agent"],
      sans: "URI:spiffe://example.org/agent",
      ok: true,
      why: "bare URI",
    },
    {
      allow: ["URI:spiffe://example.org/agent"],
      sans: "URI:spiffe://example.org/Agent",
      ok: false,
      why: "URIs exact",
    },
    { allow: ["IP:::1"], sans: "IP Address:0:0:0:0:0:0:0:1", ok: true, why: "IPv6 compares as an address" },
    { allow: ["IP Address:10.0.0.1"], sans: "IP Address:10.0.0.1", ok: true, why: "Node's own type name" },
    {
      allow: ["10.0.0.1"],
      sans: "IP Address:::ffff:10.0.0.1",
      ok: true,
      why: "IPv4-mapped is the IPv4 address",
    },
    { allow: ["email:a@B.example"], sans: "email:a@b.example", ok: true, why: "email domains ignore case" },
    { allow: ["email:A@b.example"], sans: "email:a@b.example", ok: false, why: "local parts do not" },
    { allow: ["dns:agent.example"], sans: "DNS:agent.example", ok: true, why: "entry types ignore case" },
    { allow: ["DNS:agent.example"], sans: "", ok: false, why: "no SAN at all, with a list" },
    {
      allow: ["DNS:agent.example"],
      sans: 'DNS:"evil.example, DNS:agent.example"',
      ok: false,
      why: "a quoted comma is part of one value",
    },
  ];
  for (const c of cases) {
    test(`${c.why}: ${JSON.stringify(c.allow)} vs \`${c.sans}\``, () => {
      assert.equal(compileSanAllowList(c.allow)(names(c.sans)), c.ok);
    });
  }
});
