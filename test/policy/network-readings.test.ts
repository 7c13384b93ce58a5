import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readDestination } from "../../src/policy/read-destination.js";
import { allowed, denied, netPolicy, PRIVATE } from "./network-helpers.js";

// Issue 15 §1: destinations in free text are read as the strictest real client reads them.
describe("network: free text is read as URL parsers read it", () => {
  const check = netPolicy(PRIVATE);

  test("tabs, CRs and newlines inside a URL in free text are deleted, as WHATWG parsers delete them", () => {
    // `fetch` connects to 2130706433 (127.0.0.1), not to 213070643.
    denied(check({ request: "http://213070643\t3:8080/" }), "/arguments/request", /127\.0\.0\.0\/8/);
    denied(check({ request: "curl http://local\thost/" }), "/arguments/request", /localhost/);
    denied(check({ request: "curl http\t://127.0.0.1/" }));
    denied(check({ request: "curl ht\ntp://127.0.0.1/" }));
    denied(check({ request: "curl http:\r\n//169.254.169.254/latest" }));
    denied(check({ request: "curl http://169.254.\n169.254/" }));
    denied(check({ notes: ["fine", "get http://10.0.\t0.1/x"] }), "/arguments/notes/1");
    denied(check({ command: "curl http://x,\t@10.0.0.1/" }));
    denied(check({ request: "ht\ttp://a b@127.0.0.1/" }));
  });

  test("a URL in free text is read both ways around a tab: as a shell splits it and as fetch joins it", () => {
    denied(check({ command: "curl http://10.0.0.1\tfoo" }), "/arguments/command", /`http:\/\/10\.0\.0\.1`/);
    const message = (args: Record<string, unknown>) => check(args).violations.map((v) => v.message);
    assert.match(message({ request: "x http://local\thost/" }).join(), /read without its tabs and newlines/);
  });

  test("U+FEFF inside a host in free text does not end the URL (URL parsers drop it from hosts)", () => {
    denied(check({ request: "curl http://127.0.0.\uFEFF1/" }), "/arguments/request", /\\ufeff/);
    denied(check({ request: "curl http://\uFEFF169.254.169.254/" }));
    denied(check({ request: "curl http://local\uFEFFhost:8080/" }));
  });

  test("the port of a URL in free text is read after tabs and newlines are deleted", () => {
    const ports = netPolicy({ deny_ports: [6379] });
    denied(ports({ request: "curl http://example.com:63\t79/" }), "/arguments/request", /port 6379/);
    denied(ports({ request: "curl http://example.com\n:6379/" }));
    allowed(ports({ request: "curl http://example.com:80/\tdone" }));
  });

  test("text with line breaks between URLs is still allowed where every reading is", () => {
    allowed(check({ body: "see https://example.com/a\nand https://example.org/b\r\n" }));
    const hosts = netPolicy({ allow_hosts: ["example.com"] });
    allowed(hosts({ body: "docs:\thttps://example.com/\nthanks" }));
  });
});

describe("network: userinfo as curl, requests and WHATWG read it", () => {
  const check = netPolicy(PRIVATE);

  test("characters curl and requests accept in userinfo do not end a URL in free text", () => {
    for (const c of [",", ";", "'", ")", "(", '"', "|", "<", ">", "{", "}", "`"]) {
      denied(check({ command: `curl http://x${c}@169.254.169.254/latest` }), "/arguments/command");
    }
    denied(check({ command: "curl 'http://x,y;z@10.0.0.1/' -o out" }));
    denied(check({ command: "curl http://a@b,@10.0.0.1/" }));
  });

  test("the host follows the last `@` of the authority", () => {
    denied(check({ command: "curl http://a@b@10.0.0.1/" }));
    denied(check({ url: "http://a@b@10.0.0.1/" }));
    const r = readDestination("http://u:p@evil@127.0.0.1:81/", false);
    assert.deepEqual(r, { kind: "destination", scheme: "http", host: "127.0.0.1", port: 81 });
  });

  test("a value that is a whole URL is read whole, whitespace in its userinfo included", () => {
    denied(check({ request: "http://a b@127.0.0.1/" }), "/arguments/request");
    denied(check({ request: "  https://x\u00a0y@169.254.169.254/latest  " }));
  });

  test("a backslash before `@` is refused wherever the URL ends for a reader", () => {
    denied(check({ command: "curl http://a\\b,@10.0.0.1/" }), "/arguments/command", /cannot be read/);
    const r = readDestination("http://example.com\\@169.254.169.254/", false);
    assert.equal(r.kind, "unreadable");
    assert.ok(r.kind === "unreadable" && r.conflict);
    assert.match(r.why, /WHATWG parsers read host `example\.com`, curl and Python read `169\.254\.169\.254`/);
    // After `/` it is a path: the host is not in doubt.
    allowed(check({ url: "http://user@example.com/a\\b@c" }));
    // A scheme that is not special keeps `\` in its authority for every reader: no conflict.
    assert.equal(readDestination("foo://x\\@10.0.0.1/", false).kind, "destination");
  });

  test("punctuation after a URL in prose is no userinfo and no host", () => {
    const hosts = netPolicy({ allow_hosts: ["example.com"] });
    allowed(
      hosts({
        text: "see [the docs](https://example.com/x), (https://example.com) or 'https://example.com'.",
      }),
    );
    allowed(hosts({ text: "open https://example.com, then mail bob" }));
    allowed(check({ text: "(https://example.com), reach me at bob@example.org" }));
  });
});

describe("network: URL-ish keys and schemes", () => {
  const check = netPolicy(PRIVATE);

  test("a scheme-relative `//host` or UNC `\\\\host` under a URL-ish key names that host", () => {
    denied(check({ url: "//10.0.0.1/" }), "/arguments/url");
    denied(check({ href: "///169.254.169.254/latest" }));
    denied(check({ endpoint: "\\\\10.0.0.1\\share" }));
    denied(check({ link: "//localhost:8080" }));
    allowed(check({ url: "//example.com/x" }));
    // One slash or a dot starts a path, which names no host.
    allowed(check({ destination: "/10.0.0.1/out" }));
    allowed(check({ target: "./10.0.0.1" }));
  });

  test("IPv4 forms are read for schemes WHATWG leaves opaque, as their clients resolve them", () => {
    denied(check({ url: "gopher://2130706433:6379/_INFO" }), "/arguments/url", /127\.0\.0\.0\/8/);
    denied(check({ url: "redis://0x7f.1:6379/0" }));
    denied(check({ text: "psql postgres://u:p@0251.0376.0251.0376:5432/db" }));
    allowed(check({ uri: "s3://my-bucket/reports/q1.csv" }));
  });

  test("a special scheme is a scheme even before userinfo or digits", () => {
    denied(check({ command: "curl http:x@10.0.0.1/" }));
    denied(check({ url: "https:@169.254.169.254/" }));
  });

  test("file: URLs carry the host they name (a UNC path on Windows); localhost is none", () => {
    denied(check({ url: "file://10.0.0.1/share/x" }));
    allowed(check({ url: "file:///etc/passwd" }));
    allowed(check({ url: "file://localhost/etc/passwd" }));
  });
});
