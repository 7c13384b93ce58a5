import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { keyRole } from "../../src/policy/host-keys.js";
import { allowed, denied, netPolicy, PRIVATE } from "./network-helpers.js";

describe("network: host keys in any naming style", () => {
  const check = netPolicy(PRIVATE);

  test("camelCase, PascalCase, kebab-case and UPPER_CASE host keys name destinations", () => {
    for (const key of [
      "ipAddress",
      "IpAddress",
      "IPAddress",
      "ip-address",
      "IP_ADDRESS",
      "targetUrl",
      "targetURL",
      "target-url",
      "webhookUrl",
      "callbackUrl",
      "baseURL",
      "BASE_URL",
      "Host",
      "serverIp",
      "db_host",
      "proxyHost",
      "imageUrl",
      "redirect_uri",
      "apiEndpoint",
      "remoteAddr",
      "bind_address",
      "DBHost",
      "APIEndpoint",
      "URLs",
      "peerIPs",
    ]) {
      denied(check({ [key]: "169.254.169.254" }), `/arguments/${key}`);
      denied(check({ req: { [key]: ["example.com", "10.0.0.1:8080"] } }), `/arguments/req/${key}/1`);
    }
  });

  test("a number under an IP or host key in any naming style is an IPv4 address", () => {
    denied(check({ ipAddress: 2852039166 }), "/arguments/ipAddress", /169\.254\.0\.0\/16/);
    denied(check({ IP_ADDRESS: 2130706433 }));
    denied(check({ serverIp: 167772161 }));
    denied(check({ hostname: 2130706433 }));
    allowed(check({ ipAddress: 134744072 })); // 8.8.8.8
    // A number under a key that only may name a destination is not read as one.
    allowed(check({ target: 5, address: 10, destination: 0 }));
  });

  test("keys that merely contain a host word are free text", () => {
    allowed(
      check({ zip: "10.0.0.1", tooltip: "127.0.0.1", emailAddress: "bob@10.0.0.1", ghost: "10.0.0.1" }),
    );
    allowed(check({ walletAddress: "0x7f000001", shippingAddress: "10 Downing Street" }));
  });

  test("keyRole folds the spelling and reads the last word", () => {
    assert.equal(keyRole("ipAddress"), "address");
    assert.equal(keyRole("ip_address"), "address");
    assert.equal(keyRole("targetUrl"), "host");
    assert.equal(keyRole("TARGET-URL"), "host");
    assert.equal(keyRole("URL"), "host");
    assert.equal(keyRole("server"), "host");
    assert.equal(keyRole("mcpServer"), "text");
    assert.equal(keyRole("note"), "text");
    assert.equal(keyRole(""), "text");
  });
});
