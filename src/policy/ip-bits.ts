import ipaddr from "ipaddr.js";
import { isDottedQuad } from "./read-destination.js";

/** How an IPv6 address carries an IPv4 address. */
export type CarriedForm =
  | "ipv4-mapped"
  | "ipv4-compatible"
  | "nat64"
  | "nat64 local-use /48"
  | "nat64 local-use /56"
  | "nat64 local-use /64"
  | "nat64 local-use /96"
  | "6to4"
  | "teredo server"
  | "teredo client";

/** An IPv4 address (uint32) that an IPv6 address carries, and where it sits. */
export interface CarriedV4 {
  readonly form: CarriedForm;
  readonly v4: number;
}

/** An address as numbers: IPv4 as a uint32, IPv6 as a 128-bit bigint, plus the IPv4 addresses an IPv6 one carries. */
export interface IpBits {
  readonly v4: number | null;
  readonly v6: bigint | null;
  /** IPv4 addresses embedded in an IPv6 address, each checked against IPv4 ranges as itself. */
  readonly carried: readonly CarriedV4[];
}

const NONE: readonly CarriedV4[] = Object.freeze([]);
const LOW32 = 0xffffffffn;

/**
 * Numeric form of an IP literal, null if it is not one. An IPv6 address also lists the IPv4
 * addresses it carries: IPv4-mapped `::ffff:0:0/96`, IPv4-compatible `::/96` (`[::127.0.0.1]`,
 * which WHATWG writes `[::7f00:1]`), NAT64 `64:ff9b::/96` (RFC 6052) and local-use
 * `64:ff9b:1::/48` (RFC 8215; read at each RFC 6052 prefix length that fits in it, /48, /56,
 * /64 and /96, where the bits RFC 6052 keeps zero are zero), 6to4 `2002::/16` (RFC 3056, bits 16-47) and Teredo `2001::/32` (RFC 4380: the
 * server in bits 32-63, the client in the last 32 bits inverted).
 */
export function ipBits(ip: string): IpBits | null {
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    a = ipaddr.parse(ipaddrText(ip));
  } catch {
    return null;
  }
  if (a.kind() === "ipv4") return { v4: v4Number((a as ipaddr.IPv4).octets), v6: null, carried: NONE };
  let v6 = 0n;
  for (const part of (a as ipaddr.IPv6).parts) v6 = (v6 << 16n) | BigInt(part);
  return { v4: null, v6, carried: carriedBy(v6) };
}

/** One key per address, however it is written (`::1`, `0::1`, `::0:1`, `::1%lo`), for set lookups. */
export function ipKey(bits: IpBits): string {
  return bits.v4 !== null ? `4:${bits.v4}` : `6:${(bits.v6 as bigint).toString(16)}`;
}

/**
 * An IP literal as ipaddr.js reads it right. What counts as an address (ipVersion, which gives
 * node:net isIP's answers) takes two IPv6 forms that ipaddr.js 2.5 misreads: a zone id (`fe80::1%eth-0`) other than
 * letters and digits, which ipaddr.js refuses (the address then went unchecked), and a trailing
 * dotted IPv4 part, which it reads as IPv4-mapped even after `::` alone (`::127.0.0.1` is
 * `::7f00:1`, as WHATWG and inet_pton read it, not `::ffff:7f00:1`). A zone names the interface
 * to reach the address through, not part of it, so it is dropped; the IPv4 part is written as
 * the two hex groups it stands for.
 */
function ipaddrText(ip: string): string {
  if (!ip.includes(":")) return ip;
  const zone = ip.indexOf("%");
  const addr = zone < 0 ? ip : ip.slice(0, zone);
  const lastColon = addr.lastIndexOf(":");
  if (!isDottedQuad(addr, lastColon + 1, addr.length)) return addr;
  const [a, b, c, d] = addr
    .slice(lastColon + 1)
    .split(".")
    .map(Number) as [number, number, number, number];
  return `${addr.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/** The IPv4 addresses an IPv6 address carries (see ipBits). */
export function carriedBy(v6: bigint): readonly CarriedV4[] {
  const top96 = v6 >> 32n;
  const low = Number(v6 & LOW32);
  if (top96 === 0xffffn) return [{ form: "ipv4-mapped", v4: low }];
  if (top96 === 0n) return [{ form: "ipv4-compatible", v4: low }];
  if (top96 === 0x64ff9b0000000000000000n) return [{ form: "nat64", v4: low }];
  if (v6 >> 80n === 0x64ff9b0001n) {
    // Each RFC 6052 prefix length that fits in the /48, shortest first, where the bits it keeps
    // zero are zero: the `u` octet (bits 64-71) and the suffix after the IPv4 address. /96 keeps
    // none, so it always counts.
    const bits = (from: number, count: number) =>
      (v6 >> BigInt(128 - from - count)) & ((1n << BigInt(count)) - 1n);
    const found: CarriedV4[] = [];
    const add = (form: CarriedForm, v4: bigint, suffixFrom: number) => {
      if (suffixFrom < 128 && (bits(64, 8) !== 0n || bits(suffixFrom, 128 - suffixFrom) !== 0n)) return;
      const n = Number(v4);
      if (!found.some((c) => c.v4 === n)) found.push({ form, v4: n });
    };
    add("nat64 local-use /48", (bits(48, 16) << 16n) | bits(72, 16), 88);
    add("nat64 local-use /56", (bits(56, 8) << 24n) | bits(72, 24), 96);
    add("nat64 local-use /64", bits(72, 32), 104);
    add("nat64 local-use /96", BigInt(low), 128);
    return found;
  }
  if (v6 >> 112n === 0x2002n) return [{ form: "6to4", v4: Number((v6 >> 80n) & LOW32) }];
  if (v6 >> 96n === 0x20010000n) {
    return [
      { form: "teredo server", v4: Number((v6 >> 64n) & LOW32) },
      { form: "teredo client", v4: ~low >>> 0 },
    ];
  }
  return NONE;
}

/** `a.b.c.d` of a uint32. */
export function v4Text(v4: number): string {
  return `${v4 >>> 24}.${(v4 >>> 16) & 0xff}.${(v4 >>> 8) & 0xff}.${v4 & 0xff}`;
}

function v4Number(o: readonly number[]): number {
  return (((o[0] ?? 0) << 24) | ((o[1] ?? 0) << 16) | ((o[2] ?? 0) << 8) | (o[3] ?? 0)) >>> 0;
}

export function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

const ALL128 = (1n << 128n) - 1n;
export function v6Mask(prefix: number): bigint {
  return ALL128 ^ ((1n << BigInt(128 - prefix)) - 1n);
}
