import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseJsonText } from "../../src/policy/json-text.js";
import { allowed, denied, netPolicy, PRIVATE } from "./network-helpers.js";

const nest = (value: unknown, levels: number): unknown => {
  let v = value;
  for (let i = 0; i < levels; i++) v = { inner: JSON.stringify(v) };
  return v;
};

describe("network: JSON inside strings is read as a re-parsing server hands it to the tool", () => {
  const check = netPolicy(PRIVATE);

  test("a string holding a JSON object or array is read as that JSON, at the string's pointer", () => {
    denied(
      check({ config: '{"host":"169.254.169.254"}' }),
      "/arguments/config",
      /^`169\.254\.169\.254` \(in JSON inside the string\) is in denied range/,
    );
    denied(check({ hosts: '["example.com", "10.0.0.1"]' }), "/arguments/hosts");
    denied(check({ options: ' { "proxy" : { "url" : "//127.0.0.1:3128" } } ' }), "/arguments/options");
    denied(check({ options: '{"ipAddress": 2852039166}' }));
  });

  test("JSON escapes that hide a URL from the text are read as the parsed string", () => {
    denied(check({ payload: '{"u": "http://\\u0031\\u0030.0.0.1/"}' }), "/arguments/payload");
    denied(check({ payload: '["\\u0068ttp:\\/\\/169.254.169.254\\/latest"]' }));
    denied(check({ payload: '{"cmd": "curl http://local\\thost/"}' }));
  });

  test("JSON in a string in JSON in a string is read, to a bound", () => {
    denied(check({ a: JSON.stringify(nest({ url: "http://10.0.0.1/" }, 2)) }), "/arguments/a");
    denied(
      check({ a: JSON.stringify(nest({ url: "https://example.com/" }, 5)) }),
      "/arguments/a",
      /more than 4 levels/,
    );
  });

  test("Python's json.loads tokens (NaN, Infinity) do not hide the JSON", () => {
    denied(check({ config: '{"ratio": NaN, "host": "10.0.0.1", "max": -Infinity}' }), "/arguments/config");
    assert.deepEqual(parseJsonText('[NaN, "NaN", Infinity]', 64), {
      kind: "value",
      value: [null, "NaN", null],
    });
  });

  test("JSON nested deeper than a rule reads is refused, not skipped", () => {
    const deep = `${"[".repeat(70)}"https://example.com"${"]".repeat(70)}`;
    denied(check({ payload: deep }), "/arguments/payload", /nested more than 64 levels/);
    assert.equal(parseJsonText(deep, 64).kind, "too_deep");
  });

  test("too many strings of JSON are refused at /arguments", () => {
    const many = Array.from({ length: 300 }, (_, i) => `{"n": ${i}}`);
    denied(check({ items: many }), "/arguments", /more than 256 strings of JSON/);
    allowed(check({ items: many.slice(0, 200) }));
  });

  test("a host key holding JSON is read as its JSON, not as one host", () => {
    denied(check({ url: '["http://10.0.0.1/"]' }), "/arguments/url");
    const hosts = netPolicy({ allow_hosts: ["example.com"] });
    allowed(hosts({ url: '["https://example.com/a", "https://example.com/b"]' }));
    denied(hosts({ url: '["https://example.com/a", "https://evil.example/"]' }));
  });

  test("configured paths lead into JSON inside strings", () => {
    const paths = netPolicy({ paths: ["config.host", "targets.*"], deny_cidrs: ["10.0.0.0/8"] });
    denied(paths({ config: '{"host": "10.0.0.1"}' }), "/arguments/config", /in JSON inside the string/);
    denied(paths({ targets: '["https://example.com/", "10.0.0.2"]' }), "/arguments/targets");
    allowed(paths({ config: '{"host": "example.com", "note": "10.0.0.1"}' }));
  });

  test("text that only looks like JSON stays text", () => {
    allowed(check({ title: "[WIP] fix http://example.com", body: "{not json} see https://example.org" }));
    allowed(check({ list: "[1, 2, 3]", obj: '{"a": "10.0.0.1"}' }));
  });
});
