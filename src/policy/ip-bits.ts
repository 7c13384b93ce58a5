import ipaddr from "ipaddr.js";

/** An address as numbers: IPv4 as a uint32, IPv6 as a 128-bit bigint, plus any IPv4 embedded in the IPv6. */
export interface IpBits {
  readonly v4: number | null;
  readonly v6: bigint | null;
}

/**
 * Numeric form of an IP literal. IPv4-mapped (`::ffff:10.0.0.1`) and NAT64 (`64:ff9b::10.0.0.1`)
 * addresses also carry their IPv4, so IPv4 ranges apply to them. Null if not an IP literal.
 */
export function ipBits(ip: string): IpBits | null {
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    a = ipaddr.parse(ip);
  } catch {
    return null;
  }
  if (a.kind() === "ipv4") return { v4: v4Number((a as ipaddr.IPv4).octets), v6: null };
  const p = (a as ipaddr.IPv6).parts;
  let v6 = 0n;
  for (const part of p) v6 = (v6 << 16n) | BigInt(part);
  const mapped = p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0xffff;
  const nat64 = p[0] === 0x64 && p[1] === 0xff9b && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0;
  const v4 = mapped || nat64 ? (((p[6] ?? 0) << 16) | (p[7] ?? 0)) >>> 0 : null;
  return { v4, v6 };
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
