import { type FoundTargets, findTargets, type NetFinding, type NetTarget, quote } from "./find-targets.js";
import { type CarriedV4, type IpBits, ipKey, v4Text } from "./ip-bits.js";
import type { CidrEntry, CidrSet, HostSet, NetworkIR } from "./network-ir.js";

export { type FoundTargets, findTargets, type NetFinding, type NetTarget } from "./find-targets.js";

/** Every reason the rule refuses one of the call's destinations ([] = all allowed). */
export function evaluateNetwork(
  ir: NetworkIR,
  args: Record<string, unknown>,
  found: FoundTargets = findTargets(ir, args),
): NetFinding[] {
  const findings: NetFinding[] = found.unreadable.length > 0 ? [...found.unreadable] : [];
  if (found.overflow !== null) findings.push({ pointer: "/arguments", message: found.overflow });
  for (const t of found.targets) {
    if (ir.allowSchemes && t.scheme !== null && !ir.allowSchemes.has(t.scheme)) {
      refuse(findings, t, `uses scheme \`${t.scheme}\`, which is not allowed`);
    }
    if (t.host === "") continue;
    if (t.ip) {
      const denied = ir.denyCidrs && t.bits ? deniedBy(ir.denyCidrs, t.bits) : null;
      // Fail closed: an address that cannot be read cannot be checked against the denied ranges.
      if (ir.denyCidrs && !t.bits) refuse(findings, t, "is an IP address that cannot be read");
      else if (denied) refuse(findings, t, deniedText(denied));
      else if (ir.denyHosts && ipNamed(ir.denyHosts, t)) refuse(findings, t, "is a denied host");
      if (
        ir.allowCidrs &&
        !(t.bits && allowedBy(ir.allowCidrs, t.bits)) &&
        !(ir.allowHosts && ipAllowed(ir.allowHosts, t))
      ) {
        refuse(findings, t, "is outside the allowed ranges");
      } else if (!ir.allowCidrs && ir.allowHosts && !ipAllowed(ir.allowHosts, t)) {
        refuse(findings, t, "is an address not in the allowed hosts");
      }
    } else {
      if (ir.denyHosts && inHosts(ir.denyHosts, t.host))
        refuse(findings, t, `names denied host \`${t.host}\``);
      if (ir.allowHosts && !inHosts(ir.allowHosts, t.host)) {
        refuse(findings, t, `names host \`${t.host}\`, which is not allowed`);
      } else if (!ir.allowHosts && ir.allowCidrs) {
        refuse(
          findings,
          t,
          `names host \`${t.host}\`, which cannot be checked against allow_cidrs without resolving it`,
        );
      }
    }
    if (t.port !== null) {
      if (ir.denyPorts?.has(t.port)) refuse(findings, t, `uses denied port ${t.port}`);
      if (ir.allowPorts && !ir.allowPorts.has(t.port))
        refuse(findings, t, `uses port ${t.port}, which is not allowed`);
    }
  }
  return findings;
}

/** Add a refusal of `t`; the message text is built only for a destination that is refused. */
function refuse(findings: NetFinding[], t: NetTarget, why: string): void {
  findings.push({ pointer: t.pointer, message: `${quote(t.raw, t.note)} ${why}` });
}

interface Denial {
  readonly entry: CidrEntry;
  /** The IPv4 address the IPv6 destination carries that fell in the range; null: the address itself. */
  readonly carried: CarriedV4 | null;
}

/** The first denied range an address falls in, as itself or as any IPv4 address it carries. */
function deniedBy(set: CidrSet, bits: IpBits): Denial | null {
  const own = bits.v4 !== null ? inV4(set, bits.v4) : inV6(set, bits.v6 as bigint);
  if (own) return { entry: own, carried: null };
  for (const c of bits.carried) {
    const entry = inV4(set, c.v4);
    if (entry) return { entry, carried: c };
  }
  return null;
}

/**
 * Is an address inside the allowed ranges: as itself, or (an IPv6 address carrying IPv4
 * addresses) with every address it carries inside an allowed IPv4 range.
 */
function allowedBy(set: CidrSet, bits: IpBits): boolean {
  if (bits.v4 !== null) return inV4(set, bits.v4) !== null;
  if (inV6(set, bits.v6 as bigint)) return true;
  return bits.carried.length > 0 && bits.carried.every((c) => inV4(set, c.v4) !== null);
}

function deniedText(d: Denial): string {
  if (!d.carried) return `is in denied range \`${d.entry.cidr}\``;
  const v4 = v4Text(d.carried.v4);
  return `carries IPv4 \`${v4}\` (${d.carried.form}), which is in denied range \`${d.entry.cidr}\``;
}

function inV4(set: CidrSet, v4: number): CidrEntry | null {
  for (const e of set.entries) {
    if (e.family === 4 && (v4 & (e.mask as number)) >>> 0 === e.base) return e;
  }
  return null;
}

function inV6(set: CidrSet, v6: bigint): CidrEntry | null {
  for (const e of set.entries) {
    if (e.family === 6 && (v6 & (e.mask as bigint)) === e.base) return e;
  }
  return null;
}

/** An IP destination listed in `set` as it is written or as any spelling of its address. */
function ipNamed(set: HostSet, t: NetTarget): boolean {
  return set.exact.has(t.ip as string) || (t.bits !== null && set.ips.has(ipKey(t.bits)));
}

/** An IP destination an allow list lets through: named by it, or under one of its `*.suffix` entries. */
function ipAllowed(set: HostSet, t: NetTarget): boolean {
  return ipNamed(set, t) || inHosts(set, t.ip as string);
}

function inHosts(set: HostSet, host: string): boolean {
  if (set.exact.has(host)) return true;
  for (const s of set.suffixes) if (host.endsWith(s)) return true;
  return false;
}
