import ipaddr from "ipaddr.js";
import type { RawKernelEvent } from "./contract.js";

type Sockaddr = NonNullable<Extract<RawKernelEvent, { kind: "connect" }>["sockaddr"]>;

const AF_INET = 2;
const AF_INET6 = 10;
// `::a.b.c.d`: the deprecated IPv4-compatible form, which ipaddr.js parses as IPv4-mapped.
const IPV4_COMPATIBLE = /^::(\d+\.\d+\.\d+\.\d+)$/;

/**
 * A connect's `value` (contract §6): `a.b.c.d:port` for AF_INET, `[addr]:port` for AF_INET6 with
 * addr in RFC 5952 form (lowercase, longest zero run compressed) and IPv4-mapped addresses as
 * `::ffff:a.b.c.d`, as Rust's `Ipv6Addr` prints them; null for anything that does not decode.
 */
export function endpointText(sockaddr: Sockaddr | null): string | null {
  if (sockaddr === null) return null;
  const { port } = sockaddr;
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) return null;
  const addr = addressText(sockaddr.family, sockaddr.address);
  if (addr === null) return null;
  return sockaddr.family === AF_INET ? `${addr}:${port}` : `[${addr}]:${port}`;
}

/** The address part alone, normalized as endpointText prints it; null when it does not parse. */
export function addressText(family: number, address: string): string | null {
  if (family === AF_INET) {
    return ipaddr.IPv4.isValidFourPartDecimal(address) ? ipaddr.IPv4.parse(address).toString() : null;
  }
  if (family !== AF_INET6) return null;
  // A sockaddr_in6's scope id is not part of the endpoint (the earlier implementation drops it).
  const text = address.split("%", 1)[0] as string;
  const compatible = IPV4_COMPATIBLE.exec(text);
  let v6: ipaddr.IPv6;
  if (compatible) {
    const v4 = compatible[1] as string;
    if (!ipaddr.IPv4.isValidFourPartDecimal(v4)) return null;
    const [a, b, c, d] = ipaddr.IPv4.parse(v4).octets as [number, number, number, number];
    v6 = new ipaddr.IPv6([0, 0, 0, 0, 0, 0, (a << 8) | b, (c << 8) | d]);
  } else {
    if (!ipaddr.IPv6.isValid(text)) return null;
    v6 = ipaddr.IPv6.parse(text);
  }
  // ipaddr.js prints a mapped address in hex (`::ffff:102:304`); Rust prints the dotted quad.
  if (v6.isIPv4MappedAddress()) return `::ffff:${v6.toIPv4Address().toString()}`;
  return v6.toRFC5952String();
}
