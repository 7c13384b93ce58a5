import assert from "node:assert/strict";
import { compilePolicy } from "../../src/policy/compile.js";
import { decide } from "../../src/policy/decide.js";
import type { Decision } from "../../src/policy/decision.js";
import type { NetworkCheck } from "../../src/policy/pack-types.js";
import { pack, rule } from "./helpers.js";

/** A policy of one network rule `net` (plus defaults allow), deciding `tool` calls with `args`. */
export function netPolicy(network: NetworkCheck) {
  const policy = compilePolicy([pack("n", [rule("net", { network })], { defaults: "allow" })]);
  return (args: Record<string, unknown>, tool = "fetch"): Decision =>
    decide(policy, { tool, arguments: args });
}

/** The decision is a `network_denied` deny by rule `net`, with a violation at `path` whose message matches `message`. */
export function denied(d: Decision, path?: string, message?: RegExp): void {
  assert.equal(d.effect, "deny", JSON.stringify(d));
  assert.equal(d.rule_id, "net");
  assert.equal(d.reason_code, "network_denied");
  if (path !== undefined || message !== undefined) {
    assert.ok(
      d.violations.some(
        (v) => (path === undefined || v.path === path) && (message === undefined || message.test(v.message)),
      ),
      JSON.stringify(d.violations),
    );
  }
}

export function allowed(d: Decision): void {
  assert.equal(d.effect, "allow", JSON.stringify(d));
}

/** The deny list of mcp-baseline's no-private-egress rule. */
export const PRIVATE: NetworkCheck = {
  deny_cidrs: [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "::/128",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
  ],
  deny_hosts: ["localhost", "*.localhost", "metadata.google.internal", "*.internal"],
};
