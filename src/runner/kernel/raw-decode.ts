import type { RawKernelEvent } from "../contract.js";
import { addressText } from "../sockaddr-text.js";

type Sockaddr = NonNullable<Extract<RawKernelEvent, { kind: "connect" }>["sockaddr"]>;

/**
 * Longest path either backend reports, in bytes: PATH_MAX with its NUL, so every path the kernel
 * accepts fits (a longer one fails with ENAMETOOLONG and is cut here, the same way by both).
 */
export const PATH_BYTES_MAX = 4096;

const AF_INET = 2;
const AF_INET6 = 10;
const utf8 = new TextDecoder("utf-8", { fatal: false });
const HEX_ESCAPED = /^(?:\\x[0-9a-f]{2})*$/;

/** `\x2f\x65…` (bpftrace `%rx`, strace `-xx`) to bytes; null when it is not exactly that. */
export function hexEscapedBytes(text: string): Buffer | null {
  if (!HEX_ESCAPED.test(text)) return null;
  return Buffer.from(text.replaceAll("\\x", ""), "hex");
}

/** The bytes before the first NUL (all of them when there is none). */
export function beforeNul(bytes: Buffer): Buffer {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}

/** A path's bytes as text: lossy UTF-8 (invalid sequences become U+FFFD), cut at PATH_BYTES_MAX; empty is null. */
export function pathText(bytes: Buffer): string | null {
  if (bytes.length === 0) return null;
  return utf8.decode(bytes.length > PATH_BYTES_MAX ? bytes.subarray(0, PATH_BYTES_MAX) : bytes);
}

/**
 * A sockaddr from its family and raw bytes (the whole struct from offset 0, family included):
 * AF_INET needs 8 bytes, AF_INET6 24; the port is big-endian. Anything else, or too short, is null.
 */
export function sockaddrFromBytes(family: number, bytes: Buffer): Sockaddr | null {
  if (family === AF_INET && bytes.length >= 8) {
    const address = addressText(AF_INET, `${bytes[4]}.${bytes[5]}.${bytes[6]}.${bytes[7]}`);
    return address === null ? null : { family: AF_INET, address, port: bytes.readUInt16BE(2) };
  }
  if (family === AF_INET6 && bytes.length >= 24) {
    const groups: string[] = [];
    for (let i = 8; i < 24; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    const address = addressText(AF_INET6, groups.join(":"));
    return address === null ? null : { family: AF_INET6, address, port: bytes.readUInt16BE(2) };
  }
  return null;
}
