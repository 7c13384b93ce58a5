import { domainToASCII } from "node:url";
import { AssayError } from "../lib/errors.js";
import { ipBits, ipKey, v4Mask, v6Mask } from "./ip-bits.js";
import type { NetworkCheck } from "./pack-types.js";
import { ipVersion, isIpLiteral } from "./read-destination.js";

/** A CIDR set that can also say which of its entries matched (for the deny message). */
export interface CidrEntry {
  readonly cidr: string;
  readonly family: 4 | 6;
  /** The network address, already masked: uint32 for IPv4, bigint for IPv6. */
  readonly base: number | bigint;
  readonly mask: number | bigint;
}
export interface CidrSet {
  readonly entries: readonly CidrEntry[];
}

/** Hostname patterns: exact names and `*.suffix` wildcards, lowercased, without a trailing dot. */
export interface HostSet {
  readonly exact: ReadonlySet<string>;
  readonly suffixes: readonly string[];
  /** The IP literal entries by address (ipKey), so that any spelling of one matches it. */
  readonly ips: ReadonlySet<string>;
}

/** The compiled form of a `network` check. */
export interface NetworkIR {
  /** Argument paths to read targets from (segments; `*` = every element); null = scan the arguments. */
  readonly paths: readonly (readonly string[])[] | null;
  readonly denyCidrs: CidrSet | null;
  readonly allowCidrs: CidrSet | null;
  readonly denyHosts: HostSet | null;
  readonly allowHosts: HostSet | null;
  readonly denyPorts: ReadonlySet<number> | null;
  readonly allowPorts: ReadonlySet<number> | null;
  readonly allowSchemes: ReadonlySet<string> | null;
}

/** Compile a `network` check; `pointer` locates it in its pack for errors. */
export function compileNetwork(check: NetworkCheck, pointer: string): NetworkIR {
  const cidrs = (list: string[] | undefined, key: string): CidrSet | null => {
    if (!list) return null;
    const entries = list.map((cidr, i): CidrEntry => {
      const { address, prefix, family } = parseCidr(cidr, `${pointer}/${key}/${i}`);
      const bits = ipBits(address);
      // ipVersion accepted it, so this is a gap in reading it: refuse rather than range from 0.
      if (bits === null)
        throw new AssayError("pack_invalid_cidr", `CIDR \`${cidr}\` has an address Assay cannot read`, {
          where: `${pointer}/${key}/${i}`,
        });
      if (family === "ipv4") {
        const mask = v4Mask(prefix);
        return Object.freeze({ cidr, family: 4, mask, base: ((bits.v4 ?? 0) & mask) >>> 0 });
      }
      const mask = v6Mask(prefix);
      return Object.freeze({ cidr, family: 6, mask, base: (bits.v6 ?? 0n) & mask });
    });
    return Object.freeze({ entries: Object.freeze(entries) });
  };
  return Object.freeze({
    paths: check.paths ? Object.freeze(check.paths.map((p) => Object.freeze(p.split(".")))) : null,
    denyCidrs: cidrs(check.deny_cidrs, "deny_cidrs"),
    allowCidrs: cidrs(check.allow_cidrs, "allow_cidrs"),
    denyHosts: hosts(check.deny_hosts),
    allowHosts: hosts(check.allow_hosts),
    denyPorts: check.deny_ports ? new Set(check.deny_ports) : null,
    allowPorts: check.allow_ports ? new Set(check.allow_ports) : null,
    allowSchemes: check.allow_schemes ? new Set(check.allow_schemes) : null,
  });
}

function parseCidr(
  text: string,
  where: string,
): { address: string; prefix: number; family: "ipv4" | "ipv6" } {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const version = ipVersion(address);
  const max = version === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : text.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (version === 0 || !(prefix >= 0 && prefix <= max)) {
    throw new AssayError(
      "pack_invalid_cidr",
      `invalid CIDR \`${text}\`: expected an IPv4 or IPv6 address with an optional /prefix`,
      {
        where,
      },
    );
  }
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

/** Lowercase, strip one trailing dot: how hostnames compare. */
export function normalizeHost(host: string): string {
  const h = host.toLowerCase();
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

/** A host entry as written in a pack, in the ASCII (punycode) form URLs use. */
function asciiHost(host: string): string {
  const h = normalizeHost(host);
  return isIpLiteral(h) ? h : domainToASCII(h) || h;
}

function hosts(list: string[] | undefined): HostSet | null {
  if (!list) return null;
  const exact = new Set<string>();
  const suffixes: string[] = [];
  const ips = new Set<string>();
  for (const raw of list) {
    if (raw.startsWith("*.")) {
      suffixes.push(`.${asciiHost(raw.slice(2))}`);
      continue;
    }
    const host = asciiHost(raw);
    exact.add(host);
    const bits = isIpLiteral(host) ? ipBits(host) : null;
    if (bits) ips.add(ipKey(bits));
  }
  return Object.freeze({ exact, suffixes: Object.freeze(suffixes), ips });
}
