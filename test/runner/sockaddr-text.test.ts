import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { endpointText } from "../../src/runner/sockaddr-text.js";

// What the earlier implementation's decoder prints (Rust's SocketAddr formatting), contract §6.
const TABLE: [family: 2 | 10, address: string, port: number, value: string | null][] = [
  [2, "203.0.113.10", 443, "203.0.113.10:443"],
  [2, "0.0.0.0", 0, "0.0.0.0:0"],
  [2, "127.0.0.1", 65535, "127.0.0.1:65535"],
  [10, "2001:0DB8:0000:0000:0000:0000:0000:0001", 443, "[2001:db8::1]:443"],
  [10, "2001:db8:0:0:1:0:0:1", 80, "[2001:db8::1:0:0:1]:80"],
  [10, "1:0:0:1:0:0:0:1", 80, "[1:0:0:1::1]:80"],
  [10, "2001:db8:0:1:1:1:1:1", 80, "[2001:db8:0:1:1:1:1:1]:80"],
  [10, "::1", 8080, "[::1]:8080"],
  [10, "::", 53, "[::]:53"],
  [10, "fe80::1%eth0", 22, "[fe80::1]:22"],
  // IPv4-mapped: the dotted quad, whichever way the backend wrote it.
  [10, "::ffff:192.0.2.1", 443, "[::ffff:192.0.2.1]:443"],
  [10, "::FFFF:C000:0201", 443, "[::ffff:192.0.2.1]:443"],
  [10, "0:0:0:0:0:ffff:c000:201", 443, "[::ffff:192.0.2.1]:443"],
  // IPv4-compatible (deprecated) is not mapped: hex, as Rust prints it.
  [10, "::192.0.2.1", 443, "[::c000:201]:443"],
  // IPv4-translated is not mapped either.
  [10, "::ffff:0:192.0.2.1", 443, "[::ffff:0:c000:201]:443"],
  [2, "999.0.0.1", 80, null],
  [2, "010.0.0.1", 80, null],
  [2, "::1", 80, null],
  [10, "10.0.0.1", 80, null],
  [10, "not-an-address", 80, null],
  [2, "10.0.0.1", 65536, null],
  [2, "10.0.0.1", -1, null],
];

describe("sockaddr text (contract §6)", () => {
  for (const [family, address, port, value] of TABLE) {
    test(`AF ${family} \`${address}\` port ${port} → ${value}`, () => {
      assert.equal(endpointText({ family, address, port }), value);
    });
  }

  test("an unreadable or non-IP sockaddr has no value", () => {
    assert.equal(endpointText(null), null);
    assert.equal(endpointText({ family: 1 as 2, address: "/run/x.sock", port: 0 }), null);
  });
});
