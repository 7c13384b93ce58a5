import { foldToolName } from "./tool-pattern.js";

/**
 * How the values under an argument key are read: as free text, as a destination, or as a
 * destination that a number can name too (`{"ipAddress": 2852039166}` is `169.254.169.254`).
 */
export type KeyRole = "text" | "host" | "address";

// Keys, folded to lowercase words without separators, whose values name a destination.
const HOST_KEYS = new Set([
  "url",
  "uri",
  "href",
  "link",
  "endpoint",
  "host",
  "hostname",
  "server",
  "domain",
  "ip",
  "ipaddress",
  "address",
  "addr",
  "baseurl",
  "target",
  "targeturl",
  "webhook",
  "webhookurl",
  "callbackurl",
  "proxy",
  "remote",
  "origin",
  "destination",
]);
// A key whose last word is one of these names a destination too (`imageUrl`, `db_host`, `serverIP`).
const HOST_WORDS = new Set([
  "url",
  "urls",
  "uri",
  "uris",
  "href",
  "endpoint",
  "endpoints",
  "host",
  "hosts",
  "hostname",
  "hostnames",
  "ip",
  "ips",
  "ipv4",
  "ipv6",
  "ipaddress",
  "ipaddr",
]);
// Words after which `address` / `addr` is a network address (`remote_addr`), not a postal or mail one.
const ADDRESS_OWNERS = new Set([
  "ip",
  "ipv4",
  "ipv6",
  "host",
  "server",
  "remote",
  "peer",
  "bind",
  "listen",
  "proxy",
  "target",
  "destination",
  "socket",
]);
// Last words under which a number is an IPv4 address.
const ADDRESS_WORDS = new Set(["ip", "ips", "ipv4", "ipaddress", "ipaddr", "host", "hosts", "hostname"]);

// The end of an acronym before a capitalized word: `IPAddress` is `IP Address`, `DBHost` is
// `DB Host` (and `URLs` stays one word).
const ACRONYM_END = /([A-Z]+)([A-Z][a-z]{2,})/g;
const MAX_MEMO = 4096;
const memo = new Map<string, KeyRole>();

/**
 * The role of an argument key in any naming style: `ipAddress`, `ip_address`, `IP-ADDRESS` and
 * `IpAddress` are all `ip address`. Memoized (bounded): keys repeat across calls.
 */
export function keyRole(key: string): KeyRole {
  let role = memo.get(key);
  if (role === undefined) {
    role = computeRole(key);
    if (memo.size < MAX_MEMO) memo.set(key, role);
  }
  return role;
}

function computeRole(key: string): KeyRole {
  if (key === "") return "text";
  const words = foldToolName(key.replace(ACRONYM_END, "$1_$2"))
    .split("_")
    .filter((w) => w !== "");
  const last = words.at(-1) ?? "";
  const previous = words.at(-2) ?? "";
  const flat = words.join("");
  const networkAddress = (last === "address" || last === "addr") && ADDRESS_OWNERS.has(previous);
  if (ADDRESS_WORDS.has(last) || flat === "ipaddress" || networkAddress) return "address";
  return HOST_KEYS.has(flat) || HOST_WORDS.has(last) ? "host" : "text";
}
